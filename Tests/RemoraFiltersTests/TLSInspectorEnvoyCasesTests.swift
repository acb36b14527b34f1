import Foundation
import RemoraCore
import Testing
@testable import RemoraFilters

/// The parser against what the real Envoy 1.40 decided for the same bytes:
/// `Tests/Fuzz/EnvoyProbe/tls_inspector_probe.py` sent captured and mutated
/// ClientHellos (and some garbage) to Envoy's tls_inspector and recorded,
/// per connection, the chain it took (TLS or not, the first of h2,
/// http/1.1, x offered) and the SNI it set, or that Envoy closed it at once
/// or kept waiting until the listener filter timeout.
@Suite struct TLSInspectorEnvoyCasesTests {
    struct Results: Decodable {
        var envoy: String
        var cases: [Case]
    }

    struct Case: Decodable {
        var seed: String?
        var edits: [[Edit]]?
        var bytes: String?
        var envoy: String
    }

    /// An edit is `[from, to, replacement]`: numbers and a string.
    enum Edit: Decodable {
        case offset(Int)
        case text(String)

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(Int.self) { self = .offset(n) } else { self = .text(try c.decode(String.self)) }
        }
    }

    static let probeDirectory: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/Fuzz/EnvoyProbe"
    }()

    /// Hex with `<count>*<hh>` runs, segments separated by commas (the probe's encoding).
    static func decodeRuns(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        for segment in text.split(separator: ",") {
            if let star = segment.firstIndex(of: "*") {
                let count = Int(segment[..<star])!
                out += [UInt8](repeating: UInt8(segment[segment.index(after: star)...], radix: 16)!, count: count)
            } else {
                var i = segment.startIndex
                while i < segment.endIndex {
                    let j = segment.index(i, offsetBy: 2)
                    out.append(UInt8(segment[i..<j], radix: 16)!)
                    i = j
                }
            }
        }
        return out
    }

    static func bytes(of c: Case) throws -> [UInt8] {
        if let b64 = c.bytes { return Array(try #require(Data(base64Encoded: b64))) }
        let seed = try TLSClientHelloParserTests.corpus(try #require(c.seed))
        var out: [UInt8] = []
        var at = 0
        for edit in c.edits ?? [] {
            guard case .offset(let from) = edit[0], case .offset(let to) = edit[1], case .text(let text) = edit[2] else {
                Issue.record("bad edit \(edit)")
                return []
            }
            out += seed[at..<from] + decodeRuns(text)
            at = to
        }
        return out + seed[at...]
    }

    /// What Envoy's outcome string would be for a verdict.
    static func outcome(_ verdict: TLSClientHelloParser.Verdict) -> String {
        func first(_ protocols: [String]) -> String {
            protocols.first { ["h2", "http/1.1", "x"].contains($0) } ?? "-"
        }
        switch verdict {
        case .tls(let hello): return "tls \(first(hello.applicationProtocols)) \(hello.serverName ?? "-")"
        case .notTLS: return "raw -"
        case .closed, .tooLarge, .unsupportedVersion: return "closed"
        case .needMoreData: return "timeout"
        }
    }

    @Test func everyProbedCaseDecidesAsEnvoyDid() throws {
        let data = try #require(FileManager.default.contents(atPath: Self.probeDirectory + "/tls_inspector_results.json"))
        let results = try JSONDecoder().decode(Results.self, from: data)
        #expect(results.envoy.contains("1.40."))
        #expect(results.cases.count >= 100)
        var mismatches: [String] = []
        for (i, c) in results.cases.enumerated() {
            let input = try Self.bytes(of: c)
            var parser = TLSClientHelloParser()
            let got = Self.outcome(input.withUnsafeBytes { parser.inspect($0) })
            // The same decision when the bytes come one at a time.
            var bytewise = TLSClientHelloParser()
            var last = TLSClientHelloParser.Verdict.needMoreData
            for byte in input { last = [byte].withUnsafeBytes { bytewise.inspect($0) } }
            if got != c.envoy || Self.outcome(last) != got {
                mismatches.append("#\(i) \(c.seed ?? "bytes") envoy=\(c.envoy) remora=\(got) bytewise=\(Self.outcome(last)) "
                    + "\(input.prefix(48).map { String($0, radix: 16) }.joined(separator: " "))")
            }
        }
        let report = "\(mismatches.count) of \(results.cases.count):\n" + mismatches.prefix(40).joined(separator: "\n")
        #expect(mismatches.isEmpty, "\(report)")
    }
}
