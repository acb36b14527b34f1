import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraUpstream

/// What the HTTP path needs from its worker: the loop, the worker's view of
/// the clusters, and per-worker generators. One per worker, on its loop.
public final class HTTPWorkerContext {
    public let loop: EventLoop
    private let clusterLookup: (String) -> WorkerCluster?
    public var requestIDs = RequestIDGenerator()
    public var date = DateHeader()
    private var random: RandomBalancer

    public init(loop: EventLoop, seed: UInt64, clusters: @escaping (String) -> WorkerCluster?) {
        self.loop = loop
        self.clusterLookup = clusters
        self.random = RandomBalancer(seed: seed)
    }

    public func cluster(named name: String) -> WorkerCluster? { clusterLookup(name) }

    /// A random 64-bit value (weighted clusters, runtime fractions, back-off jitter).
    public func randomValue() -> UInt64 {
        UInt64(random.next(count: Int.max))
    }
}
