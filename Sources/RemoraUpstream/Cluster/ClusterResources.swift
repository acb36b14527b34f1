import Atomics

/// A cluster's circuit breakers (`circuit_breakers.thresholds`, DEFAULT
/// priority): cluster-wide counts of open connections, pending requests,
/// active requests and active retries, shared by every worker.
///
/// Envoy keeps these across workers too; an increment is one atomic add,
/// and a refusal costs nothing to undo. All members are atomics or
/// immutable, so this class is `Sendable`.
public final class ClusterResources: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maxConnections: Int
        public var maxPendingRequests: Int
        public var maxRequests: Int
        public var maxRetries: Int

        /// Envoy's defaults: 1024, 1024, 1024, 3.
        public static let envoyDefaults = Limits(maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3)

        public init(maxConnections: Int, maxPendingRequests: Int, maxRequests: Int, maxRetries: Int) {
            self.maxConnections = maxConnections
            self.maxPendingRequests = maxPendingRequests
            self.maxRequests = maxRequests
            self.maxRetries = maxRetries
        }
    }

    public enum Resource: Int, Sendable { case connections, pendingRequests, requests, retries }

    public let limits: Limits
    private let counts = (0..<4).map { _ in ManagedAtomic<Int>(0) }
    /// The cluster's per-host stats (`/clusters`).
    public let hostStats = HostStatsRegistry()

    public init(limits: Limits) {
        self.limits = limits
    }

    private func limit(_ r: Resource) -> Int {
        switch r {
        case .connections: limits.maxConnections
        case .pendingRequests: limits.maxPendingRequests
        case .requests: limits.maxRequests
        case .retries: limits.maxRetries
        }
    }

    /// Takes one unit of `r` if the limit allows; false when it would overflow.
    public func tryAcquire(_ r: Resource) -> Bool {
        let counter = counts[r.rawValue]
        let after = counter.loadThenWrappingIncrement(ordering: .relaxed) + 1
        if after > limit(r) {
            counter.wrappingDecrement(ordering: .relaxed)
            return false
        }
        return true
    }

    /// Takes one unit of `r` past its limit (a host's first connection,
    /// which Envoy opens whatever `max_connections` says).
    public func forceAcquire(_ r: Resource) {
        counts[r.rawValue].wrappingIncrement(ordering: .relaxed)
    }

    /// Whether one more unit of `r` would fit (without taking it).
    public func canAcquire(_ r: Resource) -> Bool {
        counts[r.rawValue].load(ordering: .relaxed) < limit(r)
    }

    public func release(_ r: Resource) {
        counts[r.rawValue].wrappingDecrement(ordering: .relaxed)
    }

    public func count(_ r: Resource) -> Int {
        counts[r.rawValue].load(ordering: .relaxed)
    }
}
