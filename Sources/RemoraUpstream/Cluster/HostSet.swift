import RemoraConfig
import RemoraCore

/// The hosts of one cluster at one moment. Immutable; the main thread makes a
/// new one when membership changes and posts it to every worker.
///
/// EDS hosts carry a health status; with no health checker, Envoy balances
/// over the healthy ones, or over every host not draining when fewer than
/// half are healthy (panic: `healthy_panic_threshold`, 50% by default).
public final class HostSet: Sendable {
    /// Every member, in the order the config gave them (pools and /clusters).
    public let hosts: [SocketAddress]
    /// What EDS said of each member (nil for the other cluster kinds: all healthy).
    public let endpoints: [EndpointConfig]?
    /// The hosts the balancer picks from.
    public let balanced: [SocketAddress]
    /// Their `load_balancing_weight`s, nil when all are 1 (plain round
    /// robin); with priorities or degraded hosts, each host's share of the
    /// load (`PriorityPlan`).
    public let balancedWeights: [UInt32]?
    /// `balancedWeights` carry priorities' loads (`PriorityPlan`), which
    /// RANDOM honours too.
    public let weighsPriorities: Bool
    /// Fewer than half the hosts not draining are healthy (in a priority
    /// that takes load): every one of them is balanced.
    public let inPanic: Bool
    public let healthyCount: Int
    /// DEGRADED hosts (Envoy's `membership_degraded`).
    public let degradedCount: Int
    /// DRAINING hosts (Envoy's `membership_excluded`).
    public let excludedCount: Int

    /// Envoy's default `healthy_panic_threshold`.
    public static let defaultPanicThresholdPercent = 50.0

    public init(hosts: [SocketAddress]) {
        self.hosts = hosts
        endpoints = nil
        balanced = hosts
        balancedWeights = nil
        inPanic = false
        healthyCount = hosts.count
        excludedCount = 0
        degradedCount = 0
        weighsPriorities = false
    }

    /// `panicThresholdPercent`: `common_lb_config.healthy_panic_threshold`
    /// (0 turns panic off).
    public init(endpoints: [EndpointConfig], panicThresholdPercent: Double = HostSet.defaultPanicThresholdPercent) {
        self.endpoints = endpoints
        hosts = endpoints.map(\.address)
        let healthy = endpoints.filter { $0.health == .healthy }
        let candidates = endpoints.filter { $0.health != .draining }
        healthyCount = healthy.count
        excludedCount = endpoints.count - candidates.count
        degradedCount = endpoints.count { $0.health == .degraded }
        if endpoints.contains(where: { $0.priority != 0 || $0.health == .degraded }) {
            let plan = PriorityPlan(endpoints, panicThresholdPercent: panicThresholdPercent)
            balanced = plan.hosts
            balancedWeights = plan.weights
            inPanic = plan.inPanic
            weighsPriorities = true
            return
        }
        weighsPriorities = false
        // Envoy's `isHostSetInPanic`: healthy share of the hosts not excluded.
        inPanic = Self.inPanic(healthy: healthy.count, candidates: candidates.count, threshold: panicThresholdPercent)
        let picked = inPanic ? candidates : healthy
        // Every host balanced (the usual case): one array for both.
        balanced = picked.count == endpoints.count ? hosts : picked.map(\.address)
        balancedWeights = picked.contains { $0.weight != 1 } ? picked.map(\.weight) : nil
    }

    static func inPanic(healthy: Int, candidates: Int, threshold: Double) -> Bool {
        candidates > 0 && Double(healthy) * 100 < Double(candidates) * threshold
    }

    /// Envoy's priority load (`LoadBalancerBase::recalculatePerPriorityState`
    /// and `recalculatePerPriorityPanic`, with no health checker): each
    /// priority's health is 1.4 × its healthy share of the hosts not
    /// excluded, at most 100, and its degraded availability 1.4 × its
    /// degraded share; the load goes to priority 0's healthy hosts up to
    /// its health, then to the next priority's, then what is left to the
    /// degraded hosts in the same order, scaled when the total is under
    /// 100. Below a total of 100, a priority whose healthy and degraded
    /// share is under the panic threshold balances all its hosts not
    /// excluded; when every priority is in panic, load follows the number
    /// of hosts. The balancer then needs one list: each host weighted by
    /// its group's load times its share of the group's weight, which round
    /// robin, least request and random all honour.
    struct PriorityPlan {
        /// The share of requests (percent) each priority's healthy hosts
        /// take, from 0 up, and its degraded hosts' share (together 100).
        var healthyLoads: [UInt32]
        var degradedLoads: [UInt32]
        var hosts: [SocketAddress] = []
        var weights: [UInt32] = []
        var inPanic = false

        init(_ endpoints: [EndpointConfig], panicThresholdPercent: Double) {
            let levels = Int(endpoints.map(\.priority).max() ?? 0) + 1
            var byPriority = [[EndpointConfig]](repeating: [], count: levels)
            for e in endpoints { byPriority[Int(e.priority)].append(e) }
            func availability(_ state: EndpointConfig.Health) -> [UInt32] {
                byPriority.map { set in
                    let counted = set.count { $0.health != .draining }
                    guard counted > 0 else { return 0 }
                    return min(100, EndpointConfig.overprovisioningFactor * UInt32(set.count { $0.health == state }) / UInt32(counted))
                }
            }
            let health = availability(.healthy)
            let degraded = availability(.degraded)
            let total = min(100, health.reduce(0, +) + degraded.reduce(0, +))
            healthyLoads = [UInt32](repeating: 0, count: levels)
            degradedLoads = healthyLoads
            var panic = [Bool](repeating: false, count: levels)
            if total > 0 {
                var remaining: UInt32 = 100
                for i in 0..<levels {
                    healthyLoads[i] = min(remaining, health[i] * 100 / total)
                    remaining -= healthyLoads[i]
                }
                for i in 0..<levels {
                    degradedLoads[i] = min(remaining, degraded[i] * 100 / total)
                    remaining -= degradedLoads[i]
                }
                if remaining > 0 {
                    if let first = health.firstIndex(where: { $0 > 0 }) {
                        healthyLoads[first] += remaining
                    } else if let first = degraded.firstIndex(where: { $0 > 0 }) {
                        degradedLoads[first] += remaining
                    }
                }
            }
            if total < 100 {
                for (i, set) in byPriority.enumerated() {
                    panic[i] = HostSet.inPanic(healthy: set.count { $0.health == .healthy || $0.health == .degraded },
                                               candidates: set.count { $0.health != .draining }, threshold: panicThresholdPercent)
                }
                // Panic off (threshold 0) and nothing available: Envoy puts
                // the load on priority 0, where no host can be picked.
                if panicThresholdPercent == 0 && total == 0 { healthyLoads[0] = 100 }
                if panic.allSatisfy({ $0 }) {
                    let all = endpoints.count
                    var remaining: UInt32 = 100
                    for i in 0..<levels {
                        healthyLoads[i] = all == 0 ? 0 : UInt32(100 * byPriority[i].count / all)
                        degradedLoads[i] = 0
                        remaining -= healthyLoads[i]
                    }
                    if let first = byPriority.firstIndex(where: { !$0.isEmpty }) { healthyLoads[first] += remaining }
                }
            }
            for (i, set) in byPriority.enumerated() {
                if panic[i] {
                    add(set.filter { $0.health != .draining }, load: healthyLoads[i] + degradedLoads[i])
                    if healthyLoads[i] + degradedLoads[i] > 0 { inPanic = true }
                } else {
                    add(set.filter { $0.health == .healthy }, load: healthyLoads[i])
                    add(set.filter { $0.health == .degraded }, load: degradedLoads[i])
                }
            }
        }

        /// `picked` share `load` (percent of the whole) by their weights.
        private mutating func add(_ picked: [EndpointConfig], load: UInt32) {
            let sum = picked.reduce(UInt64(0)) { $0 + UInt64($1.weight) }
            guard load > 0, sum > 0 else { return }
            for e in picked {
                hosts.append(e.address)
                // Load in hundred-thousandths of the whole, shared by weight.
                weights.append(UInt32(max(1, (UInt64(load) * 100_000 * UInt64(e.weight) + sum / 2) / sum)))
            }
        }
    }

    /// The same endpoints judged against another panic threshold.
    public func withPanicThreshold(_ percent: Double) -> HostSet {
        guard let endpoints, percent != HostSet.defaultPanicThresholdPercent else { return self }
        return HostSet(endpoints: endpoints, panicThresholdPercent: percent)
    }

    /// Same members with the same health: installing it would change nothing.
    public func sameMembership(as other: HostSet) -> Bool {
        hosts == other.hosts && endpoints == other.endpoints
    }
}
