import RemoraCore

/// The circuit breakers of terminated CONNECTs to one host on one worker, as
/// Envoy's TCP connection pool applies them: every tunnel is a pending
/// request until its connection is up (`upstream_rq_pending_*`,
/// `max_pending_requests`), and each takes a connection of the cluster's
/// `max_connections`. Past that limit the tunnel waits (`upstream_cx_overflow`)
/// until one of this host's tunnels closes, unless the host has none at all
/// (then one is opened anyway, as Envoy's `tryCreateNewConnection` does).
/// Tunnel connections are never reused, so the pool only counts; the
/// connections belong to the tunnels. Owned by one worker loop.
public final class TCPTunnelPool {
    public enum Admission: Equatable {
        /// Connect now; the connection slot is taken.
        case connect
        /// Wait for `grant`; `ticket` cancels.
        case queued(ticket: UInt64)
        /// `max_pending_requests` reached: 503 with `UO`.
        case overflow
    }

    private let resources: ClusterResources
    private let stats: Stats<ClusterStat>
    /// This host's tunnel connections on this worker (connecting or open).
    public private(set) var connections = 0
    private var waiters: [(ticket: UInt64, grant: () -> Void)] = []
    private var nextTicket: UInt64 = 0
    /// Runs when the host has no tunnel left (the owner forgets the pool).
    public var onIdle: ((TCPTunnelPool) -> Void)?

    public init(resources: ClusterResources, stats: Stats<ClusterStat>) {
        self.resources = resources
        self.stats = stats
    }

    public var waiting: Int { waiters.count }

    /// A tunnel asks for a connection. Unless it overflows it is pending
    /// until `leavePending()`; `grant` runs (once, later) for a queued one.
    public func request(_ grant: @escaping () -> Void) -> Admission {
        guard resources.tryAcquire(.pendingRequests) else {
            stats.add(.upstreamRqPendingOverflow)
            return .overflow
        }
        stats.add(.upstreamRqPendingTotal)
        stats.add(.upstreamRqPendingActive)
        if takeConnection() { return .connect }
        nextTicket &+= 1
        waiters.append((nextTicket, grant))
        return .queued(ticket: nextTicket)
    }

    /// The tunnel's connect finished (either way) or it gave up waiting.
    public func leavePending() {
        resources.release(.pendingRequests)
        stats.add(.upstreamRqPendingActive, -1)
    }

    /// A queued tunnel gives up (still pending: call `leavePending` too).
    public func cancel(_ ticket: UInt64) {
        waiters.removeAll { $0.ticket == ticket }
    }

    /// A tunnel's connection closed (or its connect failed): its slot goes
    /// to the first waiter, if the limit lets it.
    public func connectionGone() {
        precondition(connections > 0, "TCPTunnelPool: connection released twice")
        connections -= 1
        resources.release(.connections)
        if waiters.isEmpty {
            if connections == 0 { onIdle?(self) }
            return
        }
        guard takeConnection() else { return }
        waiters.removeFirst().grant()
    }

    private func takeConnection() -> Bool {
        if !resources.tryAcquire(.connections) {
            stats.add(.upstreamCxOverflow)
            guard connections == 0 else { return false }
            resources.forceAcquire(.connections)
        }
        connections += 1
        return true
    }
}
