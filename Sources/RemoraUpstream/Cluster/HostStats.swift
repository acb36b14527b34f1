import Atomics
import RemoraCore
import Synchronization

/// Envoy's per-host stats (`/clusters`): connections and requests to one
/// host of one cluster, from every worker. Relaxed atomics, as Envoy's
/// per-host counters and gauges are; a pool or session looks its host's
/// object up once, not per request.
public final class HostStats: Sendable {
    public let cxTotal = ManagedAtomic<Int64>(0)
    public let cxActive = ManagedAtomic<Int64>(0)
    public let cxConnectFail = ManagedAtomic<Int64>(0)
    public let rqTotal = ManagedAtomic<Int64>(0)
    public let rqActive = ManagedAtomic<Int64>(0)
    public let rqPendingActive = ManagedAtomic<Int64>(0)
    public let rqSuccess = ManagedAtomic<Int64>(0)
    public let rqError = ManagedAtomic<Int64>(0)
    public let rqTimeout = ManagedAtomic<Int64>(0)

    public init() {}

    /// A pool opened a connection to this host (`codec`: Envoy's
    /// `upstream_cx_http1_total` or `_http2_total`), in the cluster's stats and the host's.
    func countConnectionOpened(_ codec: ClusterStat, in stats: Stats<ClusterStat>) {
        stats.add(.upstreamCxTotal)
        stats.add(codec)
        stats.add(.upstreamCxActive)
        Self.add(cxTotal)
        Self.add(cxActive)
    }

    @inline(__always)
    public static func add(_ counter: ManagedAtomic<Int64>, _ delta: Int64 = 1) {
        counter.wrappingIncrement(by: delta, ordering: .relaxed)
    }

    /// A response from the host: 5xx is `rq_error`, anything else `rq_success`.
    public func response(status: Int) {
        Self.add(status >= 500 ? rqError : rqSuccess)
    }

    /// Envoy's order in `/clusters`: counters, then gauges.
    public var counters: [(String, Int64)] {
        [("cx_connect_fail", cxConnectFail.load(ordering: .relaxed)), ("cx_total", cxTotal.load(ordering: .relaxed)),
         ("rq_error", rqError.load(ordering: .relaxed)), ("rq_success", rqSuccess.load(ordering: .relaxed)),
         ("rq_timeout", rqTimeout.load(ordering: .relaxed)), ("rq_total", rqTotal.load(ordering: .relaxed))]
    }

    public var gauges: [(String, Int64)] {
        [("cx_active", cxActive.load(ordering: .relaxed)), ("rq_active", rqActive.load(ordering: .relaxed)),
         ("rq_pending_active", rqPendingActive.load(ordering: .relaxed))]
    }
}

/// The per-host stats of one cluster, by host address (shared by workers).
public final class HostStatsRegistry: Sendable {
    private let hosts = Mutex<[SocketAddress: HostStats]>([:])

    public init() {}

    public func stats(for host: SocketAddress) -> HostStats {
        hosts.withLock { map in
            if let existing = map[host] { return existing }
            let made = HostStats()
            map[host] = made
            return made
        }
    }

    /// Every host seen so far.
    public var all: [(SocketAddress, HostStats)] {
        hosts.withLock { Array($0) }
    }
}
