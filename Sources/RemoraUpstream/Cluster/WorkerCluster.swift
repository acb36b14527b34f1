import RemoraConfig
import RemoraCore
import RemoraEventLoop

/// One cluster as a worker sees it: its current hosts, its load balancer's
/// state and the worker's row of the cluster's stats. Owned by one worker
/// loop; never touched from another thread.
public final class WorkerCluster {
    public let config: ClusterConfig
    public let stats: Stats<ClusterStat>
    /// Circuit breakers, shared with the other workers.
    public let resources: ClusterResources
    public private(set) var hostSet: HostSet
    private var balancer: LoadBalancer
    /// HTTP/1 connection pools of this worker, one per host.
    private var httpPools: [SocketAddress: HTTP1ConnectionPool] = [:]

    public init(config: ClusterConfig, hostSet: HostSet, stats: Stats<ClusterStat>, resources: ClusterResources, seed: UInt64) {
        self.config = config
        self.hostSet = hostSet
        self.stats = stats
        self.resources = resources
        switch config.loadBalancing {
        case .roundRobin: balancer = .roundRobin(RoundRobinBalancer())
        case .random: balancer = .random(RandomBalancer(seed: seed))
        }
    }

    /// Installs a new membership (posted by the main thread). Pools of hosts
    /// that left drain: idle connections close, requests in flight and
    /// waiting finish, then the pool is forgotten. A host that comes back
    /// before its pool is gone gets that pool back, never a second one.
    public func update(_ hosts: HostSet) {
        hostSet = hosts
        let present = Set(hosts.hosts)
        for (host, pool) in httpPools {
            if present.contains(host) {
                pool.resume()
            } else if !pool.isDraining {
                pool.drain()
            }
        }
    }

    /// This worker's HTTP/1 pool for `host`, made on first use.
    public func httpPool(for host: SocketAddress, loop: EventLoop) -> HTTP1ConnectionPool {
        if let pool = httpPools[host] {
            // Chosen by the balancer, so the host is a member again.
            if pool.isDraining { pool.resume() }
            return pool
        }
        let http = config.http
        let pool = HTTP1ConnectionPool(
            loop: loop, host: host, connectTimeoutMilliseconds: config.connectTimeoutMilliseconds,
            idleTimeoutMilliseconds: http.common.idleTimeoutMilliseconds ?? 0,
            maxRequestsPerConnection: Int(http.common.maxRequestsPerConnection),
            bufferLimitBytes: config.bufferLimitBytes, resources: resources, stats: stats)
        pool.onDrained = { [weak self] pool in
            guard let self, self.httpPools[pool.host] === pool else { return }
            self.httpPools[pool.host] = nil
        }
        httpPools[host] = pool
        return pool
    }

    /// Live pools and draining ones not yet done (at most one per host).
    public var httpPoolCount: Int { httpPools.count }

    /// A cluster replaced or removed: its pools drain on their own (each is
    /// kept alive by its connections and connects until they are done).
    deinit {
        for pool in httpPools.values { pool.drain() }
    }

    /// Picks a host for a new upstream connection; nil when the cluster has none.
    /// `excluding` lets a retry avoid the host that just failed, when there is another.
    public func chooseHost(excluding: SocketAddress? = nil) -> SocketAddress? {
        let hosts = hostSet.hosts
        guard !hosts.isEmpty else { return nil }
        var index = balancer.next(count: hosts.count)
        if let excluding, hosts.count > 1, hosts[index] == excluding {
            index = balancer.next(count: hosts.count)
        }
        return hosts[index]
    }
}

/// The balancers a cluster can use; an enum, not an existential, so a pick
/// is a switch and a call.
enum LoadBalancer {
    case roundRobin(RoundRobinBalancer)
    case random(RandomBalancer)

    mutating func next(count: Int) -> Int {
        switch self {
        case .roundRobin(var b):
            let i = b.next(count: count)
            self = .roundRobin(b)
            return i
        case .random(var b):
            let i = b.next(count: count)
            self = .random(b)
            return i
        }
    }
}
