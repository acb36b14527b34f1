import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP

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
    /// HTTP/1 connection pools of this worker, one per host and set of
    /// per-request TLS options.
    private var httpPools: [PoolKey: HTTP1ConnectionPool] = [:]
    /// HTTP/2 connection pools of this worker, likewise.
    private var http2Pools: [PoolKey: HTTP2ConnectionPool] = [:]
    /// Circuit-breaker counts of terminated CONNECTs, per host.
    private var tunnelPools: [SocketAddress: TCPTunnelPool] = [:]

    /// What tells one pool from another: its host, and the TLS options its
    /// connections were made with (`auto_sni`: a connection made for one
    /// SNI never carries a request for another, as Envoy hashes the
    /// transport socket options into its pool key).
    struct PoolKey: Hashable {
        let host: SocketAddress
        let options: TransportSocketOptions?
    }
    /// `cluster.<name>.http2.*` (this worker's row), for a cluster that speaks HTTP/2.
    private let http2Stats: (scope: StatScope, stats: Stats<HTTP2CodecStat>)?
    /// The codec options of this cluster's HTTP/2 connections.
    private lazy var http2Options = HTTP2Options(
        config.http.http2 ?? HTTP2ProtocolOptions(), maxHeaderListBytes: Int(config.http.common.maxResponseHeadersKB) * 1024,
        maxHeadersCount: Int(config.http.common.maxHeadersCount),
        streamErrorOnInvalidHTTPMessaging: false, streamBufferLimit: config.bufferLimitBytes)
    /// ORIGINAL_DST: the hosts this worker made on demand, each with whether
    /// it was picked since the last clean-up.
    private var originalHosts: [SocketAddress: Bool] = [:]
    private var cleanupTimer: Timer?
    private let loop: EventLoop?
    /// The cluster's `transport_socket` (TLS) on this worker; nil for raw TCP.
    /// Set by the worker right after it makes the cluster.
    public var transport: (any TransportSocketFactory)?

    /// `loop` is the worker's; an ORIGINAL_DST cluster needs it for its
    /// clean-up timer.
    public init(config: ClusterConfig, hostSet: HostSet, stats: Stats<ClusterStat>, resources: ClusterResources, seed: UInt64,
                loop: EventLoop? = nil, http2Stats: (scope: StatScope, stats: Stats<HTTP2CodecStat>)? = nil) {
        self.config = config
        self.http2Stats = http2Stats
        self.hostSet = hostSet
        self.stats = stats
        self.resources = resources
        self.loop = loop
        switch config.loadBalancing {
        case .roundRobin, .clusterProvided: balancer = .roundRobin(RoundRobinBalancer())
        case .random: balancer = .random(RandomBalancer(seed: seed))
        case .leastRequest(let choices, let bias):
            balancer = .leastRequest(LeastRequestBalancer(choiceCount: choices, activeRequestBias: bias, seed: seed))
        }
        if case .originalDestination(let options) = config.discovery, options.useHTTPHeader {
            overrideHostHeader = options.headerName
        } else {
            overrideHostHeader = nil
        }
    }

    /// The request header whose value (an `ip:port`) picks the host, for an
    /// ORIGINAL_DST cluster with `use_http_header`; nil otherwise. The router
    /// reads it into `HostSelectionContext.overrideHost`.
    public let overrideHostHeader: String?

    /// Whether hosts come from the connection or request (ORIGINAL_DST)
    /// rather than from a membership.
    public var picksOriginalDestination: Bool {
        if case .originalDestination = config.discovery { return true }
        return false
    }

    /// Installs a new membership (posted by the main thread). Pools of hosts
    /// that left drain: idle connections close, requests in flight and
    /// waiting finish, then the pool is forgotten. A host that comes back
    /// before its pool is gone gets that pool back, never a second one.
    public func update(_ hosts: HostSet) {
        hostSet = hosts
        weightedCurrent = []
        balancedHostStats = nil
        if case .leastRequest(var b) = balancer {
            b.reset()
            balancer = .leastRequest(b)
        }
        let present = Set(hosts.hosts)
        for (key, pool) in httpPools {
            if present.contains(key.host) {
                pool.resume()
            } else if !pool.isDraining {
                pool.drain()
            }
        }
        for (key, pool) in http2Pools {
            if present.contains(key.host) {
                pool.resume()
            } else if !pool.isDraining {
                pool.drain()
            }
        }
    }

    /// This worker's HTTP/2 pool for `host` (and the request's TLS
    /// `options`), made on first use.
    public func http2Pool(for host: SocketAddress, loop: EventLoop, options: TransportSocketOptions? = nil) -> HTTP2ConnectionPool {
        let key = poolKey(host, options)
        if let pool = http2Pools[key] {
            if pool.isDraining { pool.resume() }
            return pool
        }
        let http = config.http
        let pool = HTTP2ConnectionPool(
            loop: loop, host: host, connectTimeoutMilliseconds: config.connectTimeoutMilliseconds,
            idleTimeoutMilliseconds: http.common.idleTimeoutMilliseconds ?? 0,
            maxRequestsPerConnection: Int(http.common.maxRequestsPerConnection), bufferLimitBytes: config.bufferLimitBytes,
            options: http2Options, keepalive: http.http2?.keepalive, resources: resources, stats: stats, codecStats: http2Stats,
            sourceAddress: config.sourceAddress(for: host), tcpKeepalive: config.tcpKeepalive, transport: transport(options, for: key))
        pool.onDrained = { [unowned(unsafe) self] pool in
            guard self.http2Pools[key] === pool else { return }
            self.http2Pools[key] = nil
        }
        http2Pools[key] = pool
        return pool
    }

    /// Options only matter to a TLS transport; none (or empty ones) share
    /// the host's plain pool. Names compare without case, as Envoy hashes
    /// them (`CaseInsensitiveHash`): the pool's connections carry the names
    /// of the request that made it.
    private func poolKey(_ host: SocketAddress, _ options: TransportSocketOptions?) -> PoolKey {
        guard transport != nil, let options, options != TransportSocketOptions() else { return PoolKey(host: host, options: nil) }
        return PoolKey(host: host, options: TransportSocketOptions(
            serverName: options.serverName?.lowercased(), verifySubjectAltNames: options.verifySubjectAltNames.map { $0.lowercased() }))
    }

    private func transport(_ options: TransportSocketOptions?, for key: PoolKey) -> (any TransportSocketFactory)? {
        guard let options = withHostSNI(key.host, key.options != nil ? options : nil) else { return transport }
        return transport?.withOptions(options)
    }

    /// `auto_host_sni`: the host's hostname (its endpoint's `hostname`, or
    /// the name a STRICT_DNS host was resolved from) is the SNI, unless the
    /// request's options name one (Envoy's `ClientContextImpl::newSsl`).
    private func withHostSNI(_ host: SocketAddress, _ options: TransportSocketOptions?) -> TransportSocketOptions? {
        guard config.autoHostSNI, options?.serverName == nil,
              let hostname = hostSet.endpoints?.first(where: { $0.address == host })?.hostname, !hostname.isEmpty
        else { return options }
        var named = options ?? TransportSocketOptions()
        named.serverName = hostname
        return named
    }

    /// This worker's HTTP/1 pool for `host`, made on first use.
    /// The one way to open a connection to a host of this cluster, for
    /// `tcp_proxy` and the HTTP pools alike: the bind address, the connect
    /// timeout and the TLS handshake (which the timeout also covers) as the
    /// cluster says.
    @discardableResult
    public func connect(to host: SocketAddress, loop: EventLoop,
                        _ completion: @escaping (Result<Connection, EventLoopError>) -> Void) -> ConnectAttempt {
        Connection.connect(loop: loop, to: host, from: config.sourceAddress(for: host), keepalive: config.tcpKeepalive,
                           timeoutMilliseconds: config.connectTimeoutMilliseconds,
                           transport: transport(nil, for: PoolKey(host: host, options: nil)), completion)
    }

    /// The circuit breakers of terminated CONNECTs to `host` on this worker.
    public func tunnelPool(for host: SocketAddress) -> TCPTunnelPool {
        if let pool = tunnelPools[host] { return pool }
        let pool = TCPTunnelPool(resources: resources, stats: stats)
        pool.onIdle = { [unowned(unsafe) self] pool in
            if self.tunnelPools[host] === pool { self.tunnelPools[host] = nil }
        }
        tunnelPools[host] = pool
        return pool
    }

    /// `encoder`: the loop's, shared by the pool's codecs.
    public func httpPool(for host: SocketAddress, loop: EventLoop, encoder: HTTP1SharedEncoder,
                         options: TransportSocketOptions? = nil) -> HTTP1ConnectionPool {
        let key = poolKey(host, options)
        if let pool = httpPools[key] {
            // Chosen by the balancer, so the host is a member again.
            if pool.isDraining { pool.resume() }
            return pool
        }
        let http = config.http
        var parser = HTTP1Parser.Configuration.response
        parser.maxHeadBytes = Int(http.common.maxResponseHeadersKB) * 1024
        parser.maxHeaderCount = Int(http.common.maxHeadersCount)
        let pool = HTTP1ConnectionPool(
            loop: loop, host: host, connectTimeoutMilliseconds: config.connectTimeoutMilliseconds,
            idleTimeoutMilliseconds: http.common.idleTimeoutMilliseconds ?? 0,
            maxRequestsPerConnection: Int(http.common.maxRequestsPerConnection),
            bufferLimitBytes: config.bufferLimitBytes, resources: resources, stats: stats, encoder: encoder,
            responseParser: parser, sourceAddress: config.sourceAddress(for: host),
            tcpKeepalive: config.tcpKeepalive, transport: transport(options, for: key))
        // Not weak (a side table would put every retain of the cluster, one
        // per request, on the slow path): `deinit` clears the callback.
        pool.onDrained = { [unowned(unsafe) self] pool in
            guard self.httpPools[key] === pool else { return }
            self.httpPools[key] = nil
        }
        httpPools[key] = pool
        return pool
    }

    // MARK: - auto_config

    /// Whether each host's server picked `h2` by ALPN, learned from this
    /// worker's first connection to it (`auto_config`); Envoy's mixed pool
    /// learns it per connection, and a host's server rarely changes its mind.
    private var negotiatedHTTP2: [SocketAddress: Bool] = [:]
    /// Hosts whose first connection is being made, with who waits for it.
    private var learning: [SocketAddress: [() -> Void]] = [:]

    /// What `auto_config` knows of `host`: nil until a connection to it
    /// finished its handshake.
    public func negotiatesHTTP2(_ host: SocketAddress) -> Bool? { negotiatedHTTP2[host] }

    /// Opens the first connection to `host` (with the request's TLS
    /// `options`); once its handshake is done the server's ALPN choice is
    /// kept and the connection joins the pool of that protocol, so the
    /// waiting request finds it idle. `completion` runs either way, on the
    /// loop; a failed connection teaches nothing.
    public func learnProtocol(of host: SocketAddress, loop: EventLoop, encoder: HTTP1SharedEncoder,
                              options: TransportSocketOptions?, _ completion: @escaping () -> Void) {
        if learning[host] != nil {
            learning[host]!.append(completion)
            return
        }
        learning[host] = [completion]
        let key = poolKey(host, options)
        let started = loop.nowMilliseconds
        Connection.connect(loop: loop, to: host, from: config.sourceAddress(for: host), keepalive: config.tcpKeepalive,
                           timeoutMilliseconds: config.connectTimeoutMilliseconds, transport: transport(options, for: key)) { result in
            if case .success(let connection) = result {
                let http2 = connection.securityInfo?.alpn == "h2"
                self.negotiatedHTTP2[host] = http2
                if http2 {
                    self.http2Pool(for: host, loop: loop, options: options).adopt(connection, started: started)
                } else {
                    self.httpPool(for: host, loop: loop, encoder: encoder, options: options).adopt(connection, started: started)
                }
            }
            for waiter in self.learning.removeValue(forKey: host) ?? [] { waiter() }
        }
    }

    /// Live pools and draining ones not yet done (at most one per host).
    public var httpPoolCount: Int { httpPools.count }

    /// A cluster replaced or removed: its pools drain on their own (each is
    /// kept alive by its connections and connects until they are done).
    deinit {
        cleanupTimer?.close()
        for pool in httpPools.values {
            pool.onDrained = nil
            pool.drain()
        }
        for pool in http2Pools.values {
            pool.onDrained = nil
            pool.drain()
        }
    }

    /// Picks a host for a new upstream connection; nil when the cluster has none.
    /// `excluding` lets a retry avoid the host that just failed, when there is another.
    /// An ORIGINAL_DST cluster takes its host from `context` (the override
    /// header when enabled and valid, else the restored original
    /// destination) and ignores `excluding`, as Envoy's does.
    public func chooseHost(excluding: SocketAddress? = nil, context: HostSelectionContext = HostSelectionContext()) -> SocketAddress? {
        if case .originalDestination = config.discovery { return originalDestinationHost(context) }
        let hosts = hostSet.balanced
        guard !hosts.isEmpty else { return nil }
        if hostSet.inPanic { stats.add(.lbHealthyPanic) }
        if case .leastRequest(var b) = balancer {
            let load = hostLoads()
            let weights = hostSet.balancedWeights
            func pick() -> Int {
                if let weights { return b.next(weights: weights) { load[$0].rqActive.load(ordering: .relaxed) } }
                return b.next(active: { load[$0].rqActive.load(ordering: .relaxed) }, count: hosts.count)
            }
            var index = pick()
            if let excluding, hosts.count > 1, hosts[index] == excluding { index = pick() }
            balancer = .leastRequest(b)
            return hosts[index]
        }
        if let weights = hostSet.balancedWeights, case .roundRobin = balancer {
            var pick = nextWeighted(weights)
            if let excluding, hosts.count > 1, hosts[pick] == excluding { pick = nextWeighted(weights) }
            return hosts[pick]
        }
        // RANDOM ignores endpoint weights (as Envoy's), not priorities' loads.
        if hostSet.weighsPriorities, let weights = hostSet.balancedWeights, case .random(var r) = balancer {
            var pick = r.next(weights: weights)
            if let excluding, hosts.count > 1, hosts[pick] == excluding { pick = r.next(weights: weights) }
            balancer = .random(r)
            return hosts[pick]
        }
        var index = balancer.next(count: hosts.count)
        if let excluding, hosts.count > 1, hosts[index] == excluding {
            index = balancer.next(count: hosts.count)
        }
        return hosts[index]
    }

    /// The balanced hosts' stats (their active requests), looked up once per membership.
    private var balancedHostStats: [HostStats]?

    private func hostLoads() -> [HostStats] {
        if let loads = balancedHostStats { return loads }
        let loads = hostSet.balanced.map { resources.hostStats.stats(for: $0) }
        balancedHostStats = loads
        return loads
    }

    /// Smooth weighted round robin (each pick adds every host's weight to
    /// its credit and takes the highest, which pays the total back): a
    /// host of weight 3 gets three picks of every four beside one of weight
    /// 1, spread out, as Envoy's EDF schedule does.
    private var weightedCurrent: [Int64] = []

    private func nextWeighted(_ weights: [UInt32]) -> Int {
        if weightedCurrent.count != weights.count { weightedCurrent = Array(repeating: 0, count: weights.count) }
        var best = 0
        var total: Int64 = 0
        for i in weights.indices {
            weightedCurrent[i] += Int64(weights[i])
            total += Int64(weights[i])
            if weightedCurrent[i] > weightedCurrent[best] { best = i }
        }
        weightedCurrent[best] -= total
        return best
    }

    // MARK: - ORIGINAL_DST

    /// Envoy's `OriginalDstCluster::LoadBalancer::chooseHost`: a valid
    /// override header wins, then the connection's restored local address;
    /// a connection that was not redirected has no host.
    private func originalDestinationHost(_ context: HostSelectionContext) -> SocketAddress? {
        var host: SocketAddress? = nil
        if overrideHostHeader != nil, let text = context.overrideHost {
            host = HostSelectionContext.parseHostAndPort(text)
        }
        if host == nil { host = context.originalDestination }
        guard let host, host.isIP else { return nil }
        if originalHosts.updateValue(true, forKey: host) == nil { startCleanup() }
        return host
    }

    /// Every `cleanup_interval`, hosts not picked since the last sweep are
    /// dropped and their pools drain (Envoy's `cleanup()`); the timer stops
    /// when no host is left.
    private func startCleanup() {
        guard cleanupTimer == nil, let loop, case .originalDestination(let options) = config.discovery else { return }
        let timer = Timer(loop: loop)
        cleanupTimer = timer
        let interval = options.cleanupIntervalMilliseconds
        timer.start(afterMilliseconds: interval, repeatMilliseconds: interval) { [unowned self] in self.cleanUpOriginalHosts() }
    }

    func cleanUpOriginalHosts() {
        for (host, used) in originalHosts {
            if used {
                originalHosts[host] = false
            } else {
                originalHosts[host] = nil
                for (key, pool) in httpPools where key.host == host && !pool.isDraining { pool.drain() }
                for (key, pool) in http2Pools where key.host == host && !pool.isDraining { pool.drain() }
            }
        }
        if originalHosts.isEmpty {
            cleanupTimer?.close()
            cleanupTimer = nil
        }
    }

    /// Hosts an ORIGINAL_DST cluster currently holds on this worker.
    public var originalHostCount: Int { originalHosts.count }
}

/// The balancers a cluster can use; an enum, not an existential, so a pick
/// is a switch and a call.
enum LoadBalancer {
    case roundRobin(RoundRobinBalancer)
    case random(RandomBalancer)
    /// Picks in `WorkerCluster.chooseHost`, which knows the hosts' loads.
    case leastRequest(LeastRequestBalancer)

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
        case .leastRequest:
            preconditionFailure("LEAST_REQUEST picks in chooseHost")
        }
    }
}
