import Foundation
import RemoraCore
import RemoraFuzzSupport
import Testing
@testable import RemoraFilters

/// A mutation fuzzer for `TLSClientHelloParser`, bounded in time for CI
/// (`scripts/fuzz.sh 20 tls`). Seeds are the ClientHellos in
/// `Tests/Fuzz/corpus/tls/`; each round mutates one (bit flips, interesting
/// bytes, insertions, deletions, length bytes nudged, records re-cut,
/// splices, truncations) with a random `max_client_hello_size`, and checks:
/// no crash or hang; the same verdict and `processedBytes` whole, byte by
/// byte and at random cuts; never more processed than given or than the
/// limit; a pending verdict has read everything it was given; `tooLarge`
/// only at the limit; bytes after a verdict change nothing.
///
/// REMORA_FUZZ_SECONDS: how long (default: 300 rounds, for ordinary test runs).
/// REMORA_FUZZ_SEED: the PRNG seed (printed; the run is deterministic per seed).
/// REMORA_FUZZ_INPUT: check one file (a saved failure) instead of fuzzing.
/// REMORA_FUZZ_FAILURES: directory to write failing inputs to.
@Suite("TLS ClientHello parser fuzzing")
struct TLSClientHelloFuzzTests {
    typealias Parser = TLSClientHelloParser

    static func loadCorpus() -> [[UInt8]] {
        let dir = TLSClientHelloParserTests.corpusDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.sorted().compactMap { FileManager.default.contents(atPath: dir + "/" + $0).map(Array.init) }
    }

    static let interesting: [UInt8] = [0x00, 0x01, 0x02, 0x03, 0x04, 0x15, 0x16, 0x17, 0x40, 0x7F, 0x80, 0xFE, 0xFF]

    static func mutate(_ input: [UInt8], corpus: [[UInt8]], rng: inout SplitMix64) -> [UInt8] {
        var b = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let at = b.isEmpty ? 0 : Int.random(in: 0..<b.count, using: &rng)
            switch Int.random(in: 0..<9, using: &rng) {
            case 0 where !b.isEmpty: b[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            case 1 where !b.isEmpty: b[at] = interesting.randomElement(using: &rng)!
            case 2: b.insert(contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
            case 3 where !b.isEmpty: b.removeSubrange(at..<min(b.count, at + Int.random(in: 1...16, using: &rng)))
            case 4 where b.count > 8:
                // A record or handshake length byte.
                let i = [3, 4, 6, 7, 8].randomElement(using: &rng)!
                b[i] = b[i] &+ (Bool.random(using: &rng) ? 1 : 255)
            case 5 where b.count > 5:
                // Re-cut the first record's body into records of `fragment` bytes.
                let body = Array(b[5...])
                let fragment = [1, 2, 3, 7, 100].randomElement(using: &rng)!
                b = ClientHelloBuilder.records(body, type: b[0], fragment: fragment, recordVersion: UInt16(b[1]) << 8 | UInt16(b[2]))
            case 6:
                let other = corpus.randomElement(using: &rng)!
                b = Array(b[..<at]) + other[Int.random(in: 0..<max(other.count, 1), using: &rng)...]
            case 7:
                // An alert or an empty record in front.
                b = [[21, 3, 1, 0, 2, 1, 90], [21, 3, 1, 0, 2, 2, 40], [22, 3, 1, 0, 0]].randomElement(using: &rng)! + b
            default:
                b.removeSubrange(at...)
            }
        }
        return b
    }

    static func parse(_ pieces: [[UInt8]], max: Int) -> (Parser.Verdict, Int) {
        var parser = Parser(maxClientHelloSize: max)
        var verdict = Parser.Verdict.needMoreData
        for piece in pieces { verdict = piece.withUnsafeBytes { parser.inspect($0) } }
        return (verdict, parser.processedBytes)
    }

    /// The first broken invariant, if any.
    static func check(_ input: [UInt8], max: Int, rng: inout SplitMix64) -> String? {
        let (verdict, processed) = parse([input], max: max)
        if processed > min(input.count, max) { return "processed \(processed) of \(input.count), limit \(max)" }
        if verdict == .needMoreData && processed != input.count { return "pending after \(processed) of \(input.count)" }
        if verdict == .tooLarge && processed != max { return "tooLarge at \(processed), limit \(max)" }
        if input.count <= 2000 {
            let bytewise = parse(input.map { [$0] }, max: max)
            if bytewise != (verdict, processed) { return "byte by byte: \(bytewise), whole: \((verdict, processed))" }
        }
        var cuts = (0..<Int.random(in: 1...5, using: &rng)).map { _ in Int.random(in: 0...input.count, using: &rng) }
        cuts.sort()
        var pieces: [[UInt8]] = []
        var last = 0
        for c in cuts {
            pieces.append(Array(input[last..<c]))
            last = c
        }
        pieces.append(Array(input[last...]))
        let cut = parse(pieces, max: max)
        if cut != (verdict, processed) { return "cuts \(cuts): \(cut), whole: \((verdict, processed))" }
        if verdict != .needMoreData {
            let more = parse([input, [22, 3, 1, 0, 1, 1]], max: max)
            if more != (verdict, processed) { return "bytes after the verdict changed it: \(more)" }
        }
        return nil
    }

    @Test func fuzz() throws {
        let corpus = Self.loadCorpus()
        try #require(!corpus.isEmpty, "no corpus in \(TLSClientHelloParserTests.corpusDirectory)")
        var run = FuzzRun()
        if let input = run.replay {
            for max in [256, 1000, Parser.defaultMaxClientHelloSize] {
                let problem = Self.check(input, max: max, rng: &run.rng)
                #expect(problem == nil, "\(problem ?? "")")
            }
            return
        }
        var failures = 0
        var verdicts: [String: Int] = [:]
        while run.nextRound() {
            let base = corpus.randomElement(using: &run.rng)!
            let input: [UInt8] = switch Int.random(in: 0..<20, using: &run.rng) {
            case 0: (0..<Int.random(in: 0...64, using: &run.rng)).map { _ in UInt8.random(in: 0...255, using: &run.rng) }
            case 1: base
            default: Self.mutate(base, corpus: corpus, rng: &run.rng)
            }
            let max = Bool.random(using: &run.rng) ? Parser.defaultMaxClientHelloSize : Int.random(in: 256...1024, using: &run.rng)
            if let problem = Self.check(input, max: max, rng: &run.rng) {
                failures += 1
                run.save(input, fileExtension: "tls")
                Issue.record("seed \(run.seed) round \(run.rounds) (max \(max)): \(problem)\ninput: \(input)")
                if failures >= 5 { break }
            }
            let kind = "\(Self.parse([input], max: max).0)".prefix { $0 != "(" }
            verdicts[String(kind), default: 0] += 1
        }
        print("TLS ClientHello fuzz: seed \(run.seed), \(run.rounds) inputs, \(failures) failures, verdicts \(verdicts.sorted { $0.key < $1.key })")
    }
}
