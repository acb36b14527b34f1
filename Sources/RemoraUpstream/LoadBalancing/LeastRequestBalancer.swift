import Foundation

/// Envoy's LEAST_REQUEST policy. With equal weights, the power of
/// `choiceCount` choices: that many hosts drawn at random, the one with the
/// fewest active requests wins (the first drawn on a tie). With weights,
/// each host weighs `weight / (active + 1)^activeRequestBias` and a smooth
/// weighted round robin over those weights picks (Envoy's EDF schedule with
/// the same effective weights). Active requests are the host's, counted
/// by every worker (`HostStats.rqActive`), as Envoy reads `rq_active`.
/// One per cluster and worker; no lock.
public struct LeastRequestBalancer: Sendable {
    let choiceCount: Int
    let activeRequestBias: Double
    private var random: RandomBalancer
    private var credit: [Double] = []

    public init(choiceCount: Int, activeRequestBias: Double, seed: UInt64) {
        self.choiceCount = max(2, choiceCount)
        self.activeRequestBias = activeRequestBias
        random = RandomBalancer(seed: seed)
    }

    /// Equal weights: the index of the least loaded of `choiceCount` random draws.
    public mutating func next(active: (Int) -> Int64, count: Int) -> Int {
        var best = random.next(count: count)
        var bestActive = active(best)
        for _ in 1..<choiceCount {
            let drawn = random.next(count: count)
            let load = active(drawn)
            if load < bestActive {
                best = drawn
                bestActive = load
            }
        }
        return best
    }

    /// Weighted: `weights[i]` scaled down by host `i`'s active requests.
    public mutating func next(weights: [UInt32], active: (Int) -> Int64) -> Int {
        if credit.count != weights.count { credit = Array(repeating: 0, count: weights.count) }
        var best = 0
        var total = 0.0
        for i in weights.indices {
            let load = Double(max(0, active(i))) + 1
            let effective = activeRequestBias == 0 ? Double(weights[i])
                : activeRequestBias == 1 ? Double(weights[i]) / load : Double(weights[i]) / pow(load, activeRequestBias)
            credit[i] += effective
            total += effective
            if credit[i] > credit[best] { best = i }
        }
        credit[best] -= total
        return best
    }

    /// The membership changed: the schedule starts over.
    mutating func reset() {
        credit = []
    }
}
