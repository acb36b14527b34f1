/// Envoy's RANDOM policy: a uniformly random host. xorshift64*, seeded per
/// worker: no shared generator, no lock.
public struct RandomBalancer: Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
    }

    public mutating func next(count: Int) -> Int {
        precondition(count > 0)
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        let r = state &* 0x2545_F491_4F6C_DD1D
        return Int(r % UInt64(count))
    }
}
