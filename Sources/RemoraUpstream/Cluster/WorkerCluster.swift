import RemoraConfig
import RemoraCore

/// One cluster as a worker sees it: its current hosts, its load balancer's
/// state and the worker's row of the cluster's stats. Owned by one worker
/// loop; never touched from another thread.
public final class WorkerCluster {
    public let config: ClusterConfig
    public let stats: Stats<ClusterStat>
    public private(set) var hostSet: HostSet
    private var balancer: LoadBalancer

    public init(config: ClusterConfig, hostSet: HostSet, stats: Stats<ClusterStat>, seed: UInt64) {
        self.config = config
        self.hostSet = hostSet
        self.stats = stats
        switch config.loadBalancing {
        case .roundRobin: balancer = .roundRobin(RoundRobinBalancer())
        case .random: balancer = .random(RandomBalancer(seed: seed))
        }
    }

    /// Installs a new membership (posted by the main thread).
    public func update(_ hosts: HostSet) {
        hostSet = hosts
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
