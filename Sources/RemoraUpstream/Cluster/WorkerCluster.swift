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
    /// that left close their idle connections; busy ones finish their request.
    public func update(_ hosts: HostSet) {
        hostSet = hosts
        for (host, pool) in httpPools where !hosts.hosts.contains(host) {
            pool.closeIdle()
            httpPools[host] = nil
        }
    }

    /// This worker's HTTP/1 pool for `host`, made on first use.
    public func httpPool(for host: SocketAddress, loop: EventLoop) -> HTTP1ConnectionPool {
        if let pool = httpPools[host] { return pool }
        let http = config.http
        let pool = HTTP1ConnectionPool(
            loop: loop, host: host, connectTimeoutMilliseconds: config.connectTimeoutMilliseconds,
            idleTimeoutMilliseconds: http.common.idleTimeoutMilliseconds ?? 0,
            maxRequestsPerConnection: Int(http.common.maxRequestsPerConnection),
            bufferLimitBytes: config.bufferLimitBytes, resources: resources, stats: stats)
        httpPools[host] = pool
        return pool
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
