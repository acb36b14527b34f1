import Foundation
import RemoraFuzzSupport
import Testing
@testable import RemoraConfig
import RemoraAPI
import SwiftProtobuf

/// A mutation fuzzer for the bootstrap loader, bounded in time so CI can run
/// it (`scripts/fuzz.sh`). Seeds are the files in
/// `Tests/Fuzz/corpus/bootstrap/`. Each round either mutates a seed's text
/// (bytes, YAML tokens, extreme scalars, spliced lines) and loads it as YAML,
/// or mutates the seed's binary protobuf encoding, as a control plane could
/// send it, and compiles what still decodes. The contract: every input gives
/// a config or a `ConfigError` whose field path is well formed — never a trap
/// or a hang. A binary config that compiles must also compile after a trip
/// through proto3 JSON and the YAML loader (the file and xDS paths agree).
///
/// REMORA_FUZZ_SECONDS: how long (default: 40 rounds, for ordinary test runs).
/// REMORA_FUZZ_SEED: the PRNG seed (printed; the run is deterministic per seed).
/// REMORA_FUZZ_INPUT: load one file (a saved failure) instead of fuzzing.
/// REMORA_FUZZ_FAILURES: directory for failing inputs; while fuzzing, the
/// input under test is kept there as `bootstrap-current.yaml` (or `.pb`), so
/// the input of a crash survives it.
@Suite("Bootstrap loader fuzzing")
struct BootstrapFuzzTests {
    static let corpusDirectory: String = {
        // Tests/RemoraConfigTests/<this file> → Tests/Fuzz/corpus/bootstrap
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/Fuzz/corpus/bootstrap"
    }()

    static func loadCorpus() -> [(name: String, bytes: [UInt8])] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: corpusDirectory)) ?? []
        return names.sorted().compactMap { name in
            FileManager.default.contents(atPath: corpusDirectory + "/" + name).map { (name, Array($0)) }
        }
    }

    /// Scalars and YAML syntax that reach the edges: number limits, duration
    /// limits, anchors, merge keys, tags, flow collections, odd quoting.
    static let tokens: [[UInt8]] = [
        ": ", "- ", "\n", "\n  ", "\n- ", "{", "}", "[", "]", ",", "\"", "'", "#", "&a ", "*a", "<<: *a", "!!str ", "!!binary ",
        "~", "null", "true", "yes", "0", "-1", "4294967295", "4294967296", "65535", "65536", "70000", "2147483648",
        "-9223372036854775809", "18446744073709551616", "99999999999999999999", "1e400", "-0", "0x10", ".5", "NaN",
        "315576000000s", "315576000001s", "9223372036.999999999s", "9223372037s", "-1s", "0.000000001s", "1.0000000001s",
        "\"@type\": type.googleapis.com/", "envoy.config.route.v3.RouteConfiguration", "google.protobuf.Duration",
        "prefix: /", "path: /x", "safe_regex: {regex: \"(a+)+\"}", "cluster: nope", "port_value: ", "address: ::1",
        "hash_policy: [{header: {header_name: x}}]", "priority: HIGH", "timeout: ", "weight: ", "\u{FEFF}", "\t", "\0",
        "\u{85}", "%REQ(x)%", "%START_TIME(%s)%", "%",
    ].map { Array($0.utf8) }

    static func mutateText(_ input: [UInt8], corpus: [(name: String, bytes: [UInt8])], rng: inout SplitMix64) -> [UInt8] {
        var b = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let at = b.isEmpty ? 0 : Int.random(in: 0..<b.count, using: &rng)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0 where !b.isEmpty: b[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            case 1: b.insert(contentsOf: tokens.randomElement(using: &rng)!, at: at)
            case 2 where !b.isEmpty: b.removeSubrange(at..<min(b.count, at + Int.random(in: 1...16, using: &rng)))
            case 3:
                // Replace the scalar after a ": " with an extreme one.
                guard let colon = b[at...].firstIndex(of: UInt8(ascii: ":")), colon + 2 <= b.count else { continue }
                let end = b[(colon + 1)...].firstIndex { $0 == 0x0A || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "}") } ?? b.count
                b.replaceSubrange((colon + 1)..<end, with: [0x20] + tokens.randomElement(using: &rng)!)
            case 4, 5:
                // Duplicate, drop or move a line (list items, keys given twice, broken indentation).
                let lines = b.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
                guard lines.count > 1 else { continue }
                var out = lines
                let i = Int.random(in: 0..<lines.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: out.insert(lines[i], at: Int.random(in: 0...lines.count, using: &rng))
                case 1: out.remove(at: i)
                default: out[i] = Array(repeating: 0x20, count: Int.random(in: 0...3, using: &rng)) + lines[i]
                }
                b = Array(out.joined(separator: [0x0A]))
            case 6:
                // Splice lines from another seed.
                let other = corpus.randomElement(using: &rng)!.bytes
                let lines = other.split(separator: 0x0A, omittingEmptySubsequences: false)
                let from = Int.random(in: 0..<lines.count, using: &rng)
                let to = min(lines.count, from + Int.random(in: 1...12, using: &rng))
                b.insert(contentsOf: Array(lines[from..<to].joined(separator: [0x0A])) + [0x0A], at: at)
            case 7 where !b.isEmpty: b.removeSubrange(at...)
            case 8: b.insert(contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
            default:
                // Repeat a token (deep nesting, long lists).
                let run = tokens.randomElement(using: &rng)!
                for _ in 0..<Int.random(in: 1...64, using: &rng) { b.insert(contentsOf: run, at: at) }
            }
        }
        return b
    }

    static let extremeVarints: [UInt64] = [
        0, 1, UInt64.max, UInt64(Int64.max), 1 << 63, 1 << 31, 1 << 32, UInt64(UInt32.max), 65535, 65536, 70000,
        315_576_000_000, 315_576_000_001, 9_223_372_036, 9_223_372_037, 999_999_999, 1_000_000_000, 99,
    ]

    /// Binary mutations through `ProtobufWireTree`, so that enclosing lengths
    /// stay right and the compiler, not the decoder, meets the value: varints
    /// set to extremes (durations, ports, enums, counts), fields repeated or
    /// dropped; sometimes a raw byte flip as well.
    static func mutateBinary(_ input: [UInt8], rng: inout SplitMix64) -> [UInt8] {
        guard var tree = ProtobufWireTree(parsing: input[...]) else { return input }
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0, 1:
                guard let path = tree.varintPaths().randomElement(using: &rng) else { continue }
                let value = extremeVarints.randomElement(using: &rng)!
                tree.modify(at: path.dropLast()) { $0[path.last!].value = .varint(value) }
            case 2:
                let path = tree.messagePaths().randomElement(using: &rng) ?? []
                tree.modify(at: path[...]) { fields in
                    guard let i = fields.indices.randomElement(using: &rng) else { return }
                    if Bool.random(using: &rng) { fields.insert(fields[i], at: i) } else { fields.remove(at: i) }
                }
            default:
                let path = tree.messagePaths().randomElement(using: &rng) ?? []
                tree.modify(at: path[...]) { fields in
                    // A varint under a field number the message may not have set (enums, flags, ports).
                    fields.append(.init(number: UInt64.random(in: 1...40, using: &rng), value: .varint(extremeVarints.randomElement(using: &rng)!)))
                }
            }
        }
        var bytes = tree.serialized()
        if !bytes.isEmpty && Int.random(in: 0..<8, using: &rng) == 0 {
            bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
        }
        return bytes
    }

    /// `a.b[2].c["key"]`: segments of field names with optional indices/keys.
    static func isWellFormedPath(_ path: String) -> Bool {
        if path.isEmpty { return true }
        var s = Substring(path)
        while !s.isEmpty {
            let name = s.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            guard !name.isEmpty else { return false }
            s = s.dropFirst(name.count)
            while s.first == "[" {
                if s.dropFirst().first == "\"" {
                    guard let close = s.range(of: "\"]") else { return false }
                    s = s[close.upperBound...]
                } else {
                    let digits = s.dropFirst().prefix { $0.isNumber }
                    guard !digits.isEmpty, s.dropFirst(1 + digits.count).first == "]" else { return false }
                    s = s.dropFirst(2 + digits.count)
                }
            }
            if s.isEmpty { break }
            guard s.first == ".", s.count > 1 else { return false }
            s = s.dropFirst()
        }
        return true
    }

    /// Errors about the document as a whole; every other error names a field.
    static let documentErrors = ["invalid YAML", "the document is empty", "expected an object for envoy.config.bootstrap",
                                 "object keys must be strings"]

    static func check(_ error: ConfigError) -> String? {
        if error.reason.isEmpty { return "error without a reason: \(error)" }
        if error.path.isEmpty {
            return documentErrors.contains { error.reason.hasPrefix($0) } ? nil : "error without a field path: \(error)"
        }
        // An unknown field's path ends with the key as the user wrote it.
        if !error.isUnknownField && !isWellFormedPath(error.path) { return "malformed field path '\(error.path)'" }
        return nil
    }

    /// Loads YAML text; nil when it gave a config or a proper error.
    static func checkText(_ bytes: [UInt8]) -> String? {
        do {
            let bootstrap = try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: String(decoding: bytes, as: UTF8.self))
            _ = try ConfigCompiler.compile(bootstrap)
            return nil
        } catch {
            return check(error)
        }
    }

    /// Compiles a binary bootstrap; nil when it gave a config or a proper error.
    static func checkBinary(_ bytes: [UInt8]) -> String? {
        AnyRegistry.registerAll()
        guard let bootstrap = try? Envoy_Config_Bootstrap_V3_Bootstrap(serializedBytes: bytes) else {
            return nil  // the protobuf decoder refused it: an xDS NACK, nothing of ours ran
        }
        do {
            _ = try ConfigCompiler.compile(bootstrap)
        } catch {
            return check(error)
        }
        guard let json = try? bootstrap.jsonString() else { return nil }
        do {
            let again = try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: json)
            _ = try ConfigCompiler.compile(again)
        } catch {
            return "compiled from binary but not from its JSON (\(error)): \(json)"
        }
        return nil
    }

    static func save(_ input: [UInt8], as name: String) {
        guard let dir = ProcessInfo.processInfo.environment["REMORA_FUZZ_FAILURES"] else { return }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(input))
    }

    @Test func corpusSeedsCompile() throws {
        let corpus = Self.loadCorpus()
        try #require(corpus.count >= 4, "no corpus in \(Self.corpusDirectory)")
        for seed in corpus {
            let bootstrap = try BootstrapLoader.decode(
                Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: String(decoding: seed.bytes, as: UTF8.self))
            _ = try ConfigCompiler.compile(bootstrap)
            #expect(Self.checkBinary(try bootstrap.serializedBytes()) == nil, "\(seed.name)")
        }
    }

    @Test func pathsAreCheckedForShape() {
        #expect(Self.isWellFormedPath("static_resources.clusters[0].typed_extension_protocol_options[\"a.b\"].x"))
        #expect(!Self.isWellFormedPath("a..b"))
        #expect(!Self.isWellFormedPath("a[x]"))
        #expect(!Self.isWellFormedPath("a."))
    }

    @Test func fuzz() throws {
        let env = ProcessInfo.processInfo.environment
        let corpus = Self.loadCorpus()
        try #require(!corpus.isEmpty, "no corpus in \(Self.corpusDirectory)")
        let seeds: [(name: String, text: [UInt8], binary: [UInt8])] = try corpus.map { seed in
            let bootstrap = try BootstrapLoader.decode(
                Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: String(decoding: seed.bytes, as: UTF8.self))
            return (seed.name, seed.bytes, try bootstrap.serializedBytes())
        }
        let seed = env["REMORA_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        var rng = SplitMix64(state: seed)

        if let path = env["REMORA_FUZZ_INPUT"], let data = FileManager.default.contents(atPath: path) {
            let problem = path.hasSuffix(".pb") ? Self.checkBinary(Array(data)) : Self.checkText(Array(data))
            #expect(problem == nil)
            return
        }

        let keepCurrent = env["REMORA_FUZZ_FAILURES"] != nil
        let seconds = env["REMORA_FUZZ_SECONDS"].flatMap(Double.init)
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int((seconds ?? 0) * 1000))
        var rounds = 0
        var failures = 0
        while seconds == nil ? rounds < 40 : clock.now < deadline {
            rounds += 1
            let base = seeds.randomElement(using: &rng)!
            let binary = Int.random(in: 0..<3, using: &rng) == 0
            let input = binary
                ? Self.mutateBinary(base.binary, rng: &rng)
                : Self.mutateText(base.text, corpus: corpus, rng: &rng)
            let name = binary ? "bootstrap-current.pb" : "bootstrap-current.yaml"
            if keepCurrent { Self.save(input, as: name) }
            if let problem = binary ? Self.checkBinary(input) : Self.checkText(input) {
                failures += 1
                Self.save(input, as: "bootstrap-seed\(seed)-round\(rounds)" + (binary ? ".pb" : ".yaml"))
                let shown = String(decoding: input, as: UTF8.self).debugDescription
                let kind = binary ? "binary" : "text"
                Issue.record("seed \(seed) round \(rounds) (\(base.name), \(kind)): \(problem)\ninput: \(shown)")
                if failures >= 5 { break }
            }
        }
        if keepCurrent, let dir = env["REMORA_FUZZ_FAILURES"] {
            for suffix in ["pb", "yaml"] { try? FileManager.default.removeItem(atPath: "\(dir)/bootstrap-current.\(suffix)") }
        }
        print("Bootstrap fuzz: seed \(seed), \(rounds) inputs, \(failures) failures")
    }
}
