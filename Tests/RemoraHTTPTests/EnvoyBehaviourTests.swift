import Foundation
import RemoraCore
import Testing
@testable import RemoraHTTP

/// One probe of the real Envoy 1.40 (see ENVOY_BEHAVIOUR.md) and what the
/// parser must make of the same bytes. The table is generated:
/// Tests/Fuzz/EnvoyProbe/envoy_probe.py writes EnvoyCases.swift and the corpus files.
struct EnvoyCase: Sendable, CustomTestStringConvertible {
    enum Outcome: Equatable, Sendable, CustomStringConvertible {
        /// The message parsed completely (or opened a tunnel).
        case ok
        /// The parser refused it with this status and details; `afterHead`
        /// when the head had already been delivered (a body or trailer error).
        case error(Int, String, afterHead: Bool)

        var description: String {
            switch self {
            case .ok: return "ok"
            case .error(let s, let d, let after): return "error\(after ? "+head" : "") \(s) \(d)"
            }
        }
    }

    let id: String
    let file: String
    let kind: HTTP1Parser.Kind
    let acceptHTTP10: Bool
    let method: HTTPMethod
    let expected: [Outcome]

    var testDescription: String { id }

    static let corpusDirectory: String = {
        // Tests/RemoraHTTPTests/<this file> → Tests/Fuzz/corpus/http1
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/Fuzz/corpus/http1"
    }()

    var bytes: [UInt8] {
        let path = Self.corpusDirectory + "/" + file
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return Array(data)
    }

    var configuration: HTTP1Parser.Configuration {
        var c: HTTP1Parser.Configuration = kind == .request ? .request : .response
        c.acceptHTTP10 = acceptHTTP10
        return c
    }

    var requestMethods: [HTTPMethod] { kind == .response ? [method, .get] : [] }
}

/// One outcome per message: heads, then an end, a tunnel or an error.
func outcomes(_ events: [ParsedEvent]) -> [EnvoyCase.Outcome] {
    var result: [EnvoyCase.Outcome] = []
    var sawHead = false
    for event in events {
        switch event {
        case .head: sawHead = true
        case .end, .upgrade:
            result.append(.ok)
            sawHead = false
        case .error(let status, let details):
            result.append(.error(status, details, afterHead: sawHead))
        case .body, .trailers: break
        }
    }
    return result
}

@Suite("Envoy 1.40 behaviour")
struct EnvoyBehaviourTests {
    @Test func corpusIsPresent() {
        #expect(EnvoyCase.all.count > 150)
        #expect(EnvoyCase.all.allSatisfy { !$0.bytes.isEmpty })
    }

    @Test(arguments: EnvoyCase.all)
    func parserMatchesEnvoy(_ c: EnvoyCase) {
        let bytes = c.bytes
        var f = Feeder(kind: c.kind, configuration: c.configuration, requestMethods: c.requestMethods)
        let events = f.feed([slice(bytes)])
        #expect(outcomes(events) == c.expected, "events: \(events)")
        #expect(f.recorder.violations.isEmpty, "\(f.recorder.violations)")
    }

    @Test(arguments: EnvoyCase.all)
    func splittingTheInputChangesNothing(_ c: EnvoyCase) {
        let mismatch = splitMismatch(c.bytes, kind: c.kind, configuration: c.configuration, requestMethods: c.requestMethods)
        #expect(mismatch == nil)
    }
}
