/// Envoy's unweighted round robin: hosts in turn, per worker.
public struct RoundRobinBalancer: Sendable {
    private var cursor = 0

    public init() {}

    public mutating func next(count: Int) -> Int {
        precondition(count > 0)
        let i = cursor % count
        cursor = i + 1
        return i
    }
}
