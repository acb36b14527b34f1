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
    /// Their `load_balancing_weight`s, nil when all are 1 (plain round robin).
    public let balancedWeights: [UInt32]?
    /// Fewer than half the hosts not draining are healthy: every one of them is balanced.
    public let inPanic: Bool
    public let healthyCount: Int
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
        // Envoy's `isHostSetInPanic`: healthy share of the hosts not excluded.
        inPanic = !candidates.isEmpty && Double(healthy.count) * 100 < Double(candidates.count) * panicThresholdPercent
        let picked = inPanic ? candidates : healthy
        // Every host balanced (the usual case): one array for both.
        balanced = picked.count == endpoints.count ? hosts : picked.map(\.address)
        balancedWeights = picked.contains { $0.weight != 1 } ? picked.map(\.weight) : nil
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
