import Foundation

/// What every bounded fuzzer reads from its environment (`scripts/fuzz.sh`):
/// REMORA_FUZZ_SEED (the PRNG seed; random when unset), REMORA_FUZZ_SECONDS
/// (how long; 300 rounds when unset, for ordinary test runs),
/// REMORA_FUZZ_INPUT (one saved input to check instead of fuzzing) and
/// REMORA_FUZZ_FAILURES (where failing inputs are written).
public struct FuzzRun {
    public let seed: UInt64
    public var rng: SplitMix64
    /// The saved input to replay, when REMORA_FUZZ_INPUT names one.
    public let replay: [UInt8]?
    public private(set) var rounds = 0
    private let seconds: Double?
    private let deadline: ContinuousClock.Instant

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        seed = environment["REMORA_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        rng = SplitMix64(state: seed)
        replay = environment["REMORA_FUZZ_INPUT"].flatMap { FileManager.default.contents(atPath: $0) }.map(Array.init)
        seconds = environment["REMORA_FUZZ_SECONDS"].flatMap(Double.init)
        deadline = ContinuousClock.now + .milliseconds(Int((seconds ?? 0) * 1000))
    }

    /// Starts the next round, or says the run is over.
    public mutating func nextRound() -> Bool {
        guard seconds == nil ? rounds < 300 : ContinuousClock.now < deadline else { return false }
        rounds += 1
        return true
    }

    /// Writes a failing input to REMORA_FUZZ_FAILURES, named after the seed and round.
    public func save(_ input: [UInt8], fileExtension: String) {
        guard let dir = ProcessInfo.processInfo.environment["REMORA_FUZZ_FAILURES"] else { return }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: "\(dir)/seed\(seed)-round\(rounds).\(fileExtension)", contents: Data(input))
    }
}
