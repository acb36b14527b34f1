import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
import RemoraUpstream

/// What the HTTP path needs from its worker: the loop, the worker's view of
/// the clusters, and per-worker generators. One per worker, on its loop.
public final class HTTPWorkerContext {
    public let loop: EventLoop
    private let clusterLookup: (String) -> WorkerCluster?
    public var requestIDs = RequestIDGenerator()
    public var date = DateHeader()
    /// Encodes every request and response head of the worker: they are
    /// carved one after another out of 16 KiB pooled blocks, so a head costs
    /// no allocation and an idle connection pins no scratch memory.
    let sharedEncoder: HTTP1SharedEncoder
    private var random: RandomBalancer
    /// The worker's access-log sets.
    public let accessLogs: WorkerAccessLogs
    /// The server's health-check state (`/healthcheck/fail`).
    public let health: ServerHealth
    /// The node's cluster (`node.cluster`, `--service-cluster`): Envoy's
    /// local cluster name, which the health-check filter reports.
    public let localClusterName: String

    /// Where this worker's `http2.*` codec stats go, and its row there.
    private let statsStore: StatsStore?
    private let thread: Int
    private var downstreamHTTP2: (scope: StatScope, stats: Stats<HTTP2CodecStat>)?
    /// This worker's row of the `http1.*` codec stats (listed from the
    /// start, as Envoy's are); nil without a store (tests).
    public let downstreamHTTP1Stats: Stats<HTTP1CodecStat>?

    public init(loop: EventLoop, seed: UInt64, accessLogs: WorkerAccessLogs = WorkerAccessLogs(files: nil, thread: 0),
                health: ServerHealth = ServerHealth(), localClusterName: String = "",
                statsStore: StatsStore? = nil, thread: Int = 0,
                clusters: @escaping (String) -> WorkerCluster?) {
        self.loop = loop
        self.statsStore = statsStore
        self.thread = thread
        self.downstreamHTTP1Stats = statsStore?.makeScope(prefix: "http1.", HTTP1CodecStat.self)
            .stats(HTTP1CodecStat.self, thread: thread)
        self.accessLogs = accessLogs
        self.health = health
        self.localClusterName = localClusterName
        self.clusterLookup = clusters
        self.random = RandomBalancer(seed: seed)
        self.sharedEncoder = HTTP1SharedEncoder(HTTP1Encoder(headerNameCase: .lowercase, pool: loop.smallBufferPool))
    }

    /// The worker's cluster called `name`. The last one found is kept: most
    /// requests of a worker go to the cluster the one before went to, and a
    /// string compare (the same storage, from the compiled route) is cheaper
    /// than a dictionary probe.
    public func cluster(named name: String) -> WorkerCluster? {
        if let last = lastCluster, name == lastClusterName { return last }
        let found = clusterLookup(name)
        if let found {
            lastCluster = found
            lastClusterName = name
        }
        return found
    }

    /// Forget the kept cluster (the worker's cluster set changed).
    public func clustersChanged() {
        lastCluster = nil
        lastClusterName = ""
    }

    private var lastCluster: WorkerCluster?
    private var lastClusterName = ""

    /// Stopped timers for reuse: a request's idle and route timers come from
    /// here and go back when the request ends, instead of a libuv handle
    /// being made and closed per request.
    private var spareTimers: [Timer] = []

    public func timer() -> Timer {
        spareTimers.popLast() ?? Timer(loop: loop)
    }

    /// Disarms `timer` and keeps it for the next request (its libuv timer,
    /// if pending, is reused by the next start instead of being removed).
    public func recycle(_ timer: Timer?) {
        guard let timer else { return }
        timer.disarm()
        if spareTimers.count < 4096 { spareTimers.append(timer) } else { timer.close() }
    }

    /// The `http2.*` stats of downstream HTTP/2 codecs (Envoy's root scope),
    /// listed from this worker's first HTTP/2 connection on, as Envoy
    /// creates them then.
    public func downstreamHTTP2Stats() -> Stats<HTTP2CodecStat> {
        if let downstreamHTTP2 {
            return downstreamHTTP2.stats
        }
        let scope = statsStore?.makeScope(prefix: "http2.", HTTP2CodecStat.self, listedOnceUsed: true)
            ?? StatScope(prefix: "http2.", stats: HTTP2CodecStat.allCases.map { ($0.name, $0.kind) }, threadCount: thread + 1)
        scope.markUsed()
        let stats = scope.stats(HTTP2CodecStat.self, thread: thread)
        downstreamHTTP2 = (scope, stats)
        return stats
    }

    // MARK: - RDS

    /// This worker's RDS route tables, by the `rds` that names them.
    private var routeSlots: [RDSReference: RouteConfigSlot] = [:]

    /// The slot of `reference` (empty until its first table arrives: every
    /// request is a 404, as in Envoy before RDS answers).
    public func routeSlot(for reference: RDSReference) -> RouteConfigSlot {
        if let slot = routeSlots[reference] { return slot }
        let slot = RouteConfigSlot(table: DynamicListenerCompiler.emptyRouteTable)
        routeSlots[reference] = slot
        return slot
    }

    /// A new table of `reference` (posted by the main loop): the next
    /// stream of every connection naming it uses it. Returns the table it
    /// replaces, for the caller to let go of off the data path.
    @discardableResult
    public func updateRoutes(_ reference: RDSReference, table: RouteTable) -> RouteTable {
        routeSlot(for: reference).update(table)
    }

    /// No listener of the server names `reference` any more; connections
    /// that still do keep their slot.
    public func dropRoutes(_ reference: RDSReference) {
        routeSlots[reference] = nil
    }

    /// A random 64-bit value (weighted clusters, runtime fractions, back-off jitter).
    public func randomValue() -> UInt64 {
        UInt64(random.next(count: Int.max))
    }
}
