/// Envoy's RANDOM policy: a uniformly random host. xorshift64*, seeded per
/// worker: no shared generator, no lock.
public struct RandomBalancer: Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
    }

    public mutating func next(count: Int) -> Int {
        precondition(count > 0)
        return Int(nextRandom() % UInt64(count))
    }

    /// A host drawn in proportion to its weight (priorities' load shares:
    /// Envoy picks the priority by load before a uniformly random host).
    public mutating func next(weights: [UInt32]) -> Int {
        precondition(!weights.isEmpty)
        var total: UInt64 = 0
        for w in weights { total += UInt64(w) }
        var r = nextRandom() % total
        for (i, w) in weights.enumerated() {
            if r < UInt64(w) { return i }
            r -= UInt64(w)
        }
        return weights.count - 1
    }

    private mutating func nextRandom() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
