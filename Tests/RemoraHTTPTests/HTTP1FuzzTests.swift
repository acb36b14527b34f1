import Foundation
import RemoraCore
import RemoraFuzzSupport
import Testing
@testable import RemoraHTTP

/// A plain mutation fuzzer for `HTTP1Parser`, bounded in time so CI can run it
/// (`scripts/fuzz.sh`). Seeds are the files in `Tests/Fuzz/corpus/http1/`;
/// each round mutates one (or splices two, or makes random bytes), parses it
/// as a request or a response with a random configuration, and checks:
/// no crash, no hang, consumed ≤ input, body ≤ Content-Length and = at the
/// end, a partial head never held beyond the head limit, and the same events
/// when the input is split at random points or fed byte by byte. Requests
/// that parse are re-encoded with `HTTP1Encoder` and must parse to the same
/// head and body.
///
/// REMORA_FUZZ_SECONDS: how long (default: 300 rounds, for ordinary test runs).
/// REMORA_FUZZ_SEED: the PRNG seed (printed; the run is deterministic per seed).
/// REMORA_FUZZ_INPUT: parse one file (a saved failure) instead of fuzzing.
/// REMORA_FUZZ_FAILURES: directory to write failing inputs to.
@Suite("HTTP1Parser fuzzing")
struct HTTP1FuzzTests {
    static let tokens: [[UInt8]] = [
        "\r\n", "\n", "\r", "\r\n\r\n", ": ", " ", "\t", ",", ";", "0", "ffffffffffffffff", "-1",
        "Transfer-Encoding: chunked\r\n", "Content-Length: 5\r\n", "Content-Length: 0\r\n",
        "Transfer-Encoding: gzip, chunked\r\n", "Connection: close\r\n", "Connection: keep-alive\r\n",
        "Connection: upgrade\r\nUpgrade: websocket\r\n", "Expect: 100-continue\r\n", "Host: h\r\n",
        "0\r\n\r\n", "5\r\nhello\r\n", "HTTP/1.0", "HTTP/1.1", "HTTP/1.1 100 Continue\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n\r\n", "CONNECT h:1 HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n",
        "HTTP/1.1 101 Switching Protocols\r\n\r\n", "HTTP/1.1 204 No Content\r\n", "X-A: a\r\n b\r\n",
    ].map { Array($0.utf8) }
    static let interestingBytes: [UInt8] = [0x00, 0x09, 0x0A, 0x0D, 0x20, 0x3A, 0x7F, 0x80, 0xFF, 0x2C, 0x3B, 0x30, 0x39, 0x61, 0x66, 0x41]

    static func loadCorpus() -> [(name: String, bytes: [UInt8])] {
        let dir = EnvoyCase.corpusDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.sorted().compactMap { name in
            FileManager.default.contents(atPath: dir + "/" + name).map { (name, Array($0)) }
        }
    }

    static func mutate(_ input: [UInt8], corpus: [(name: String, bytes: [UInt8])], rng: inout SplitMix64) -> [UInt8] {
        var b = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let at = b.isEmpty ? 0 : Int.random(in: 0..<b.count, using: &rng)
            switch Int.random(in: 0..<11, using: &rng) {
            case 0 where !b.isEmpty: b[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            case 1 where !b.isEmpty: b[at] = interestingBytes.randomElement(using: &rng)!
            case 2: b.insert(interestingBytes.randomElement(using: &rng)!, at: at)
            case 3 where !b.isEmpty: b.removeSubrange(at..<min(b.count, at + Int.random(in: 1...8, using: &rng)))
            case 4: b.insert(contentsOf: tokens.randomElement(using: &rng)!, at: at)
            case 5 where !b.isEmpty:
                let end = min(b.count, at + Int.random(in: 1...32, using: &rng))
                b.insert(contentsOf: b[at..<end], at: Int.random(in: 0...b.count, using: &rng))
            case 6:
                let other = corpus.randomElement(using: &rng)!.bytes
                let cut = other.isEmpty ? 0 : Int.random(in: 0..<other.count, using: &rng)
                b = Array(b[..<at]) + other[cut...]
            case 7: b += corpus.randomElement(using: &rng)!.bytes
            case 8 where !b.isEmpty: b.removeSubrange(at...)
            case 9: b.insert(contentsOf: (0..<Int.random(in: 1...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
            default:
                // Repeat a line-like run many times (limits, counts).
                let run = tokens.randomElement(using: &rng)!
                for _ in 0..<Int.random(in: 1...150, using: &rng) { b.insert(contentsOf: run, at: at) }
            }
        }
        return b
    }

    struct Scenario {
        var kind: HTTP1Parser.Kind
        var configuration: HTTP1Parser.Configuration
        var methods: [HTTPMethod]
    }

    static func scenario(for name: String, rng: inout SplitMix64) -> Scenario {
        let kind: HTTP1Parser.Kind = name.hasPrefix("resp") ? .response : (name.hasPrefix("req") ? .request : (Bool.random(using: &rng) ? .request : .response))
        var c: HTTP1Parser.Configuration = kind == .request ? .request : .response
        if Int.random(in: 0..<4, using: &rng) == 0 {
            c.maxHeadBytes = Int.random(in: 1...2048, using: &rng)
            c.maxHeaderCount = Int.random(in: 1...12, using: &rng)
        }
        c.acceptHTTP10 = Bool.random(using: &rng)
        c.allowMissingHostForHTTP10 = Bool.random(using: &rng)
        c.allowCustomMethods = Int.random(in: 0..<4, using: &rng) == 0
        c.allowChunkedLength = Int.random(in: 0..<4, using: &rng) == 0
        let methods: [HTTPMethod] = (0..<4).map { _ in [.get, .get, .head, .connect, .post].randomElement(using: &rng)! }
        return Scenario(kind: kind, configuration: c, methods: kind == .response ? methods : [])
    }

    /// Returns a description of the first broken invariant, if any.
    static func check(_ input: [UInt8], _ s: Scenario, rng: inout SplitMix64) -> String? {
        var whole = Feeder(kind: s.kind, configuration: s.configuration, requestMethods: s.methods)
        let expected = whole.feed([slice(input)])
        if !whole.recorder.violations.isEmpty { return "whole: \(whole.recorder.violations)" }
        if whole.parser.partial.count > s.configuration.maxHeadBytes { return "partial head beyond the limit" }

        // Random cuts.
        for _ in 0..<3 {
            var cuts = (0..<Int.random(in: 1...6, using: &rng)).map { _ in Int.random(in: 0...input.count, using: &rng) }
            cuts.sort()
            var pieces: [ByteSlice] = []
            var last = 0
            for c in cuts {
                pieces.append(slice(Array(input[last..<c])))
                last = c
            }
            pieces.append(slice(Array(input[last...])))
            var f = Feeder(kind: s.kind, configuration: s.configuration, requestMethods: s.methods)
            let got = f.feed(pieces)
            if got != expected { return "cuts \(cuts): expected \(expected), got \(got)" }
            if !f.recorder.violations.isEmpty { return "cuts \(cuts): \(f.recorder.violations)" }
            if f.parser.partial.count > s.configuration.maxHeadBytes { return "partial head beyond the limit" }
        }
        if input.count <= 400 && Int.random(in: 0..<4, using: &rng) == 0 {
            var f = Feeder(kind: s.kind, configuration: s.configuration, requestMethods: s.methods)
            let got = f.feed(input.map { slice([$0]) })
            if got != expected { return "byte by byte: expected \(expected), got \(got)" }
        }

        // Round trip: what parsed as a complete request re-encodes to the same thing.
        if s.kind == .request, let head = whole.recorder.requestHeads.first, expected.count >= 2,
           !head.isUpgrade, head.method != .connect,
           expected.prefix(while: { if case .error = $0 { return false } else { return true } }).contains(.end) {
            var body: [UInt8] = []
            for e in expected.dropFirst() {
                if case .body(let b) = e { body += b } else { break }
            }
            var headers = head.headers
            headers.remove(name: "content-length")
            headers.remove(name: "transfer-encoding")
            headers.set(name: "transfer-encoding", value: "chunked")
            var encoder = HTTP1Encoder(headerNameCase: .preserve)
            var wire = [encoder.encodeRequestHead(method: head.method, target: head.target, version: head.version, headers: headers)]
            encoder.encodeChunk(slice(body), into: &wire)
            wire.append(encoder.encodeLastChunk())
            var roomy = s.configuration
            roomy.maxHeadBytes = 1 << 20
            roomy.maxHeaderCount = 1 << 20
            var again = Feeder(kind: .request, configuration: roomy)
            let events = again.feed(wire, finish: false)
            guard let second = again.recorder.requestHeads.first else { return "re-encoded request did not parse: \(events)" }
            if second.method != head.method || second.target.bytes != head.target.bytes || second.headers != headers {
                return "re-encoded head differs: \(describe(head)) vs \(describe(second))"
            }
            var body2: [UInt8] = []
            for e in events.dropFirst() {
                if case .body(let b) = e { body2 += b }
            }
            if body2 != body { return "re-encoded body differs" }
        }
        return nil
    }

    static func save(_ input: [UInt8], _ tag: String) {
        guard let dir = ProcessInfo.processInfo.environment["REMORA_FUZZ_FAILURES"] else { return }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir + "/" + tag + ".http", contents: Data(input))
    }

    @Test func fuzz() throws {
        let env = ProcessInfo.processInfo.environment
        let corpus = Self.loadCorpus()
        try #require(!corpus.isEmpty, "no corpus in \(EnvoyCase.corpusDirectory)")
        let seed = env["REMORA_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        var rng = SplitMix64(state: seed)

        if let path = env["REMORA_FUZZ_INPUT"], let data = FileManager.default.contents(atPath: path) {
            for kind in [HTTP1Parser.Kind.request, .response] {
                let s = Scenario(kind: kind, configuration: kind == .request ? .request : .response, methods: [.get, .get])
                #expect(Self.check(Array(data), s, rng: &rng) == nil)
            }
            return
        }

        let seconds = env["REMORA_FUZZ_SECONDS"].flatMap(Double.init)
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int((seconds ?? 0) * 1000))
        var rounds = 0
        var failures = 0
        while seconds == nil ? rounds < 300 : clock.now < deadline {
            rounds += 1
            let base = corpus.randomElement(using: &rng)!
            let input: [UInt8]
            switch Int.random(in: 0..<20, using: &rng) {
            case 0: input = (0..<Int.random(in: 0...256, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 1: input = base.bytes
            default: input = Self.mutate(base.bytes, corpus: corpus, rng: &rng)
            }
            let s = Self.scenario(for: base.name, rng: &rng)
            if let problem = Self.check(input, s, rng: &rng) {
                failures += 1
                Self.save(input, "seed\(seed)-round\(rounds)")
                Issue.record("seed \(seed) round \(rounds) (\(base.name), \(s.kind)): \(problem)\ninput: \(String(decoding: input, as: UTF8.self).debugDescription)")
                if failures >= 5 { break }
            }
        }
        print("HTTP1 fuzz: seed \(seed), \(rounds) inputs, \(failures) failures")
    }
}
