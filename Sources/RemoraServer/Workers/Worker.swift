import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraFilters
import RemoraHTTP
import RemoraTLS
import RemoraUpstream

/// One worker thread: its loop, its listening sockets, its view of every
/// cluster, and every connection it accepted.
///
/// All state is touched only on `loop`; the main thread reaches a worker by
/// posting closures with `loop.execute`. That is why `@unchecked Sendable`
/// is safe here: the reference crosses threads, the state never does.
final class Worker: @unchecked Sendable {
    let index: Int
    let loop: EventLoop
    private var listeners: [ActiveListener] = []
    /// Every listener of this worker by its address (bound or not), for
    /// `use_original_dst` hand-offs.
    private var listenersByAddress: [SocketAddress: ActiveListener] = [:]
    private var clusters: [String: WorkerCluster] = [:]
    /// Every connection past accept (in listener filters, a handshake, or
    /// with its chain's filter), with the listener and chain it belongs to.
    private var sessions: [ObjectIdentifier: Session] = [:]
    private lazy var httpContext = HTTPWorkerContext(
        loop: loop, seed: UInt64(index) &* 0x2545_F491_4F6C_DD1D ^ loop.nowMilliseconds, accessLogs: accessLogs,
        health: health, localClusterName: localClusterName, statsStore: store, thread: index
    ) { [unowned self] name in self.clusters[name] }
    private var draining = false
    private var onDrained: (@Sendable () -> Void)?
    /// This worker's access-log sets (its own buffer of each file).
    private let accessLogs: WorkerAccessLogs

    /// The server's `/healthcheck/fail` state.
    private let health: ServerHealth
    /// `node.cluster`, for the health-check filter.
    private let localClusterName: String

    /// For this worker's own scopes (`listener.<prefix>.worker_<n>.*`).
    private let store: StatsStore?
    private var workerListenerStats: [String: Stats<PerWorkerListenerStat>] = [:]
    /// The `ssl.*` scopes of listeners and clusters with TLS, by their
    /// prefix (`listener.<prefix>.`, `cluster.<name>.`), made by the server.
    private let tlsScopes: [String: StatScope]
    /// `--drain-time-s`: how long the connections of a drained filter
    /// chain or listener may stay.
    private let drainTimeSeconds: UInt64
    /// `--drain-strategy`.
    private let drainStrategy: DrainStrategy

    init(index: Int, loop: EventLoop, accessLogFiles: AccessLogFiles? = nil, health: ServerHealth = ServerHealth(),
         localClusterName: String = "", store: StatsStore? = nil, tlsScopes: [String: StatScope] = [:],
         drainTimeSeconds: UInt64 = 600, drainStrategy: DrainStrategy = .gradual) {
        self.index = index
        self.drainTimeSeconds = drainTimeSeconds
        self.drainStrategy = drainStrategy
        self.loop = loop
        self.health = health
        self.localClusterName = localClusterName
        self.store = store
        self.tlsScopes = tlsScopes
        self.accessLogs = WorkerAccessLogs(files: accessLogFiles, thread: index)
    }

    /// One connection's owner on this worker: its listener (by name) and,
    /// once chosen, its filter chain, so that a listener update drains only
    /// the connections of the chains it changed.
    struct Session {
        let object: AnyObject
        let listener: String
        var chain: FilterChainSource? = nil
    }

    private struct WeakSession {
        weak var object: AnyObject?
    }

    /// A listener socket this worker accepts on, with what it needs per connection.
    final class ActiveListener {
        let config: ListenerConfig
        /// Nil for a `bind_to_port: false` listener, which only takes hand-offs.
        let socket: Listener?
        /// Set once an update replaced or removed this listener: the chains
        /// whose connections stay. A connection that was still in listener
        /// filters or a handshake then, and lands on another chain, drains
        /// as soon as it starts.
        var keptChains: Set<FilterChainSource>?
        /// `/drain_listeners` reached this listener (or the version an
        /// in-place update replaced): its connections, new ones included,
        /// drain by this schedule. A listener added or changed outside its
        /// chains afterwards does not, as in Envoy.
        var adminDrain: DrainSchedule?
        let stats: Stats<ListenerStat>
        let proxyStats: [String: Stats<TcpProxyStat>]
        let httpStats: [String: Stats<HTTPStat>]
        let listenerHTTPStats: [String: Stats<ListenerHTTPStat>]
        /// This worker's rows of `http_inspector.*` and `tls_inspector.*`, when the listener has the filters.
        let inspectorStats: InspectorStats
        /// `listener.<prefix>.worker_<n>.*` of this worker.
        var workerStats: Stats<PerWorkerListenerStat>?
        /// This worker's row of `listener.<prefix>.ssl.*`, when a chain has TLS.
        var sslStats: Stats<SSLStat>?
        /// One TLS transport factory per distinct context of the chains.
        private var tlsFactories: [ObjectIdentifier: TLSTransportFactory] = [:]

        func tlsFactory(for context: TLSContext) -> TLSTransportFactory {
            if let made = tlsFactories[ObjectIdentifier(context)] { return made }
            let made = TLSTransportFactory(context: context, stats: sslStats)
            tlsFactories[ObjectIdentifier(context)] = made
            return made
        }
        /// Tells this listener apart from another of the same name.
        var tag: Int { Int(bitPattern: UInt(bitPattern: ObjectIdentifier(self))) }

        init(config: ListenerConfig, socket: Listener?, stats: Stats<ListenerStat>, proxyStats: [String: Stats<TcpProxyStat>],
             httpStats: [String: Stats<HTTPStat>], listenerHTTPStats: [String: Stats<ListenerHTTPStat>],
             inspectorStats: InspectorStats) {
            self.config = config
            self.socket = socket
            self.stats = stats
            self.proxyStats = proxyStats
            self.httpStats = httpStats
            self.listenerHTTPStats = listenerHTTPStats
            self.inspectorStats = inspectorStats
        }
    }

    // MARK: - Configuration (posted by the main thread)

    /// Adds a cluster, or replaces the one of that name: requests already
    /// routed keep the old `WorkerCluster` (its pools drain once they are
    /// done), new ones see this. `sslStats` is the cluster's `ssl.*` scope
    /// when it came after start-up (the bootstrap's are in `tlsScopes`).
    func installCluster(_ config: ClusterConfig, hosts: HostSet, stats: StatScope, resources: ClusterResources,
                        http2Stats: StatScope? = nil, sslStats: StatScope? = nil) {
        loop.assertInLoop()
        let cluster = WorkerCluster(
            config: config, hostSet: hosts, stats: stats.stats(ClusterStat.self, thread: index), resources: resources,
            seed: UInt64(index) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: loop.nowMilliseconds), loop: loop,
            http2Stats: http2Stats.map { ($0, $0.stats(HTTP2CodecStat.self, thread: index)) })
        if let tls = config.tls {
            cluster.transport = TLSTransportFactory(
                context: tls, stats: (sslStats ?? tlsScopes["cluster.\(config.name)."])?.stats(SSLStat.self, thread: index))
        }
        clusters[config.name] = cluster
        httpContext.clustersChanged()
    }

    /// Forgets a cluster removed over CDS: new requests to it fail as for
    /// an unknown cluster; those in flight finish on the copy they hold.
    func removeCluster(_ name: String) {
        loop.assertInLoop()
        guard clusters.removeValue(forKey: name) != nil else { return }
        httpContext.clustersChanged()
    }

    func updateHosts(cluster: String, hosts: HostSet) {
        loop.assertInLoop()
        clusters[cluster]?.update(hosts)
    }

    /// A new table of an RDS route configuration (see `RouteConfigSlot`).
    /// Returns the table it replaces (see `RouteConfigManager.install`).
    func updateRoutes(_ reference: RDSReference, table: RouteTable) -> RouteTable {
        loop.assertInLoop()
        return httpContext.updateRoutes(reference, table: table)
    }

    func dropRoutes(_ reference: RDSReference) {
        loop.assertInLoop()
        httpContext.dropRoutes(reference)
    }

    /// The worker's view of a cluster (on the worker's loop only).
    func cluster(named name: String) -> WorkerCluster? {
        loop.assertInLoop()
        return clusters[name]
    }

    /// Binds (or, for shared sockets, adopts) a listener and starts accepting.
    func addListener(_ config: ListenerConfig, address: SocketAddress, ipv4Compat: Bool, sharing shared: SharedListenSocket?,
                     scopes: ListenerScopes) throws(EventLoopError) -> Listener {
        loop.assertInLoop()
        let socket: Listener
        if let shared {
            socket = try Listener.adopt(loop: loop, duplicating: shared)
        } else {
            socket = try Listener.bind(loop: loop, address: address, reusePort: config.reusePort && address.isIP, backlog: config.backlog,
                                       ipv4Compat: ipv4Compat)
        }
        let active = makeActiveListener(config, socket: socket, scopes: scopes)
        try socket.startAccepting { [unowned self, unowned active] connection in
            self.accept(connection, on: active)
        }
        listeners.append(active)
        listenersByAddress[socket.boundAddress] = active
        return socket
    }

    /// A `bind_to_port: false` listener: no socket, only connections that a
    /// `use_original_dst` listener of this worker hands to it.
    func addHandOffListener(_ config: ListenerConfig, scopes: ListenerScopes) {
        loop.assertInLoop()
        let active = makeActiveListener(config, socket: nil, scopes: scopes)
        listeners.append(active)
        for bind in config.bindAddresses { listenersByAddress[bind.address] = active }
    }

    private func makeActiveListener(_ config: ListenerConfig, socket: Listener?, scopes: ListenerScopes) -> ActiveListener {
        let active = ActiveListener(
            config: config, socket: socket, stats: scopes.listener.stats(ListenerStat.self, thread: index),
            proxyStats: scopes.tcpProxy.mapValues { $0.stats(TcpProxyStat.self, thread: index) },
            httpStats: scopes.http.mapValues { $0.stats(HTTPStat.self, thread: index) },
            listenerHTTPStats: scopes.listenerHTTP.mapValues { $0.stats(ListenerHTTPStat.self, thread: index) },
            inspectorStats: scopes.inspectors.stats(thread: index))
        active.workerStats = workerStats(for: config.statPrefix)
        active.sslStats = (scopes.ssl ?? tlsScopes["listener.\(config.statPrefix)."])?.stats(SSLStat.self, thread: index)
        return active
    }

    // MARK: - Listener updates (LDS)

    /// A listener update that keeps the sockets (same addresses): each of
    /// this worker's sockets of the listener goes on accepting, now for
    /// `config`, with no moment without a listening socket. Connections on
    /// chains `config` no longer has drain; the others are left alone.
    func updateListener(_ config: ListenerConfig, scopes: ListenerScopes, inPlace: Bool) {
        loop.assertInLoop()
        let old = listeners.filter { $0.config.name == config.name }
        for previous in old {
            let replacement = makeActiveListener(config, socket: previous.socket, scopes: scopes)
            if inPlace { replacement.adminDrain = previous.adminDrain }
            if let socket = previous.socket {
                // The same socket, a new callback: nothing is re-bound.
                try? socket.startAccepting { [unowned self, unowned replacement] connection in
                    self.accept(connection, on: replacement)
                }
                listenersByAddress[socket.boundAddress] = replacement
            } else {
                for bind in config.bindAddresses { listenersByAddress[bind.address] = replacement }
            }
            if let i = listeners.firstIndex(where: { $0 === previous }) { listeners[i] = replacement }
            previous.keptChains = config.chainSources
        }
        drainConnections(of: config.name, keeping: config.chainSources)
    }

    /// Stops the listener's sockets at once (a removed listener, or one
    /// re-bound elsewhere) and drains the connections of its chains that
    /// are not in `keeping`.
    func removeListener(named name: String, keeping: Set<FilterChainSource> = []) {
        loop.assertInLoop()
        let removed = listeners.filter { $0.config.name == name }
        for listener in removed {
            listener.socket?.stopAccepting()
            listener.keptChains = keeping
        }
        let tags = Set(removed.map(\.tag))
        listeners.removeAll { tags.contains($0.tag) }
        listenersByAddress = listenersByAddress.filter { !tags.contains($0.value.tag) }
        drainConnections(of: name, keeping: keeping)
    }

    /// Envoy's drain of a filter chain: HTTP/1 connections close after
    /// their current exchange (`connection: close`; an idle one at once),
    /// HTTP/2 ones get GOAWAY, TCP sessions run until they end or the
    /// drain time does. A connection still in listener filters goes on
    /// with the listener it arrived on, and one in a TLS handshake with its
    /// chain: both drain when they start if their chain went away
    /// (`keptChains`).
    private func drainConnections(of listener: String, keeping: Set<FilterChainSource>) {
        var drained: [AnyObject] = []
        for session in sessions.values where session.listener == listener {
            guard let chain = session.chain, !keeping.contains(chain) else { continue }
            drained.append(session.object)
        }
        drain(drained)
    }

    /// Drains connections of a chain or listener that went away: HTTP by
    /// `--drain-strategy` (see `HTTPConnectionManager.beginDrain`); at the
    /// end of `--drain-time-s` every one still open is closed, upgraded,
    /// in flight or TCP, as Envoy removes the draining chains' connections.
    private func drain(_ drained: [AnyObject]) {
        guard !drained.isEmpty else { return }
        let schedule = DrainSchedule(startMilliseconds: loop.nowMilliseconds, durationSeconds: drainTimeSeconds,
                                     strategy: drainStrategy)
        for case let manager as HTTPConnectionManager in drained { manager.beginDrain(schedule) }
        let timer = Timer(loop: loop)
        // Weak: a connection gone by then must not be mistaken for a new
        // one at the same address (an ObjectIdentifier is reused).
        let weakly = drained.map { WeakSession(object: $0) }
        timer.start(afterMilliseconds: drainTimeSeconds * 1000) {
            timer.close()
            for session in weakly {
                switch session.object {
                case let manager as HTTPConnectionManager: manager.closeForDrainEnd()
                case let proxy as TcpProxySession: proxy.finish()
                default: break
                }
            }
        }
    }

    /// This worker's `listener.<prefix>.worker_<n>.*` (worker numbers from 0, as Envoy's).
    private func workerStats(for prefix: String) -> Stats<PerWorkerListenerStat>? {
        if let made = workerListenerStats[prefix] { return made }
        guard let store else { return nil }
        let made = store.makeScope(prefix: "listener.\(prefix).worker_\(index - 1).", PerWorkerListenerStat.self)
            .stats(PerWorkerListenerStat.self, thread: index)
        workerListenerStats[prefix] = made
        return made
    }

    /// Envoy's `getBalancedHandlerByAddress`: the listener whose address is
    /// `destination`, else the one on the wildcard address of its family
    /// and port, else for IPv4 an `ipv4_compat` listener on `[::]` and the port.
    private func handOffTarget(for destination: SocketAddress) -> ActiveListener? {
        if let exact = listenersByAddress[destination] { return exact }
        guard let port = destination.port else { return nil }
        switch destination {
        case .v4:
            if let any = listenersByAddress[.v4(0, port: port)] { return any }
            let any6 = SocketAddress.v6(high: 0, low: 0, port: port)
            guard let dual = listenersByAddress[any6],
                  dual.config.bindAddresses.contains(where: { $0.address == any6 && $0.ipv4Compat }) else { return nil }
            return dual
        case .v6: return listenersByAddress[.v6(high: 0, low: 0, port: port)]
        case .unix: return nil
        }
    }

    // MARK: - Connections

    private func accept(_ connection: Connection, on accepting: ActiveListener) {
        runListenerFilters(connection, on: accepting, from: 0, handOff: accepting.config.useOriginalDestination,
                           state: AcceptedConnectionState())
    }

    /// Envoy's `ActiveTcpSocket::continueFilterChain`: the listener's
    /// filters in order, from `from`; one that waits for bytes takes the
    /// connection and calls back here with the next index. A listener
    /// without such a filter does all of this synchronously, with no
    /// allocation beyond the connection's own.
    private func runListenerFilters(_ connection: Connection, on listener: ActiveListener, from: Int, handOff: Bool,
                                    state: AcceptedConnectionState) {
        let filters = listener.config.listenerFilters
        var index = from
        while index < filters.count {
            switch filters[index] {
            case .originalDestination:
                if let original = connection.originalDestination() { connection.restoreLocalAddress(original) }
            case .httpInspector:
                // Envoy's http_inspector leaves a connection already found to be TLS alone.
                guard state.transportProtocol == nil, let stats = listener.inspectorStats.http else { break }
                inspect(connection, with: HTTPInspectorFilter(stats: stats), on: listener, next: index + 1, handOff: handOff,
                        state: state)
                return
            case .tlsInspector(let config):
                guard let stats = listener.inspectorStats.tls else { break }
                inspect(connection, with: TLSInspectorFilter(config: config, stats: stats), on: listener, next: index + 1,
                        handOff: handOff, state: state)
                return
            }
            index += 1
        }
        newConnection(connection, on: listener, handOff: handOff, state: state)
    }

    /// Hands the connection to a listener filter that waits for bytes; it
    /// calls back into `runListenerFilters` from `next` once it decided.
    private func inspect<Inspector: DataInspector>(_ connection: Connection, with inspector: Inspector, on listener: ActiveListener,
                                                   next: Int, handOff: Bool, state: AcceptedConnectionState) {
        let inspection = ListenerFilterInspection(
            connection: connection, inspector: inspector, state: state, listenerStats: listener.stats,
            continueOnTimeout: listener.config.continueOnListenerFiltersTimeout
        ) { [unowned self] inspection, outcome in
            // Holds the listener: a drain may drop it from the worker meanwhile.
            self.sessions[ObjectIdentifier(inspection)] = nil
            if case .proceed(let learned) = outcome {
                self.runListenerFilters(connection, on: listener, from: next, handOff: handOff, state: learned)
            }
            self.checkDrained()
        }
        sessions[ObjectIdentifier(inspection)] = Session(object: inspection, listener: listener.config.name)
        inspection.start(loop: loop, timeoutMilliseconds: listener.config.listenerFiltersTimeoutMilliseconds)
    }

    /// Envoy's `ActiveTcpSocket::newConnection` and the listener's
    /// `newConnection`: the hand-off, then the filter chain.
    private func newConnection(_ connection: Connection, on listener: ActiveListener, handOff: Bool,
                               state: AcceptedConnectionState) {
        // Envoy hands a redirected connection to the listener of its
        // original destination, whose own listener filters run on it too;
        // without one, this listener keeps it. Only the listener that keeps
        // it counts it, as in Envoy.
        if handOff, connection.isLocalAddressRestored, let restored = connection.localAddress,
           let target = handOffTarget(for: restored), target !== listener {
            runListenerFilters(connection, on: target, from: 0, handOff: false, state: state)
            return
        }
        let stats = listener.stats
        let input = FilterChainMatchInput(
            localAddress: connection.localAddress, directRemoteAddress: connection.remoteAddress,
            remoteAddress: connection.remoteAddress, serverName: state.serverName,
            transportProtocol: state.transportProtocol ?? FilterChainMatchInput.rawBuffer,
            applicationProtocols: state.applicationProtocols)
        guard let chain = listener.config.filterChain(for: input) else {
            // Envoy closes it before it counts as a downstream connection.
            stats.add(.noFilterChainMatch)
            logUnproxied(connection, listener: listener.config)
            connection.close(reset: !state.received.isEmpty)
            return
        }
        stats.add(.downstreamCxTotal)
        stats.add(.downstreamCxActive)
        let workerStats = listener.workerStats
        workerStats?.add(.downstreamCxTotal)
        workerStats?.add(.downstreamCxActive)
        let opened = loop.nowMilliseconds
        connection.highWatermark = listener.config.bufferLimitBytes
        if let tls = chain.tls {
            // The chain's filter starts once the handshake is done.
            connection.installTransport(listener.tlsFactory(for: tls).makeTransportSocket(pool: loop.smallBufferPool))
            let handshake = DownstreamHandshake(connection: connection) { [unowned self] handshake, succeeded in
                // Holds the listener: a drain may drop it from the worker meanwhile.
                self.sessions[ObjectIdentifier(handshake)] = nil
                if succeeded {
                    // What the listener filters learned stays; the bytes they
                    // read went through the transport.
                    var decrypted = state
                    decrypted.received = []
                    self.startChain(chain, on: connection, listener: listener, state: decrypted, opened: opened)
                } else {
                    if handshake.timedOut { stats.add(.downstreamCxTransportSocketConnectTimeout) }
                    workerStats?.add(.downstreamCxActive, -1)
                    self.countClosed(stats: stats, opened: opened)
                }
                self.checkDrained()
            }
            sessions[ObjectIdentifier(handshake)] = Session(object: handshake, listener: listener.config.name, chain: chain.source)
            handshake.start(loop: loop, timeoutMilliseconds: chain.transportSocketConnectTimeoutMilliseconds, replaying: state.received)
            return
        }
        startChain(chain, on: connection, listener: listener, state: state, opened: opened)
    }

    /// The chain's terminal network filter takes the connection.
    private func startChain(_ chain: FilterChainConfig, on connection: Connection, listener: ActiveListener,
                            state: AcceptedConnectionState, opened: UInt64) {
        let stats = listener.stats
        let workerStats = listener.workerStats
        if let shared = chain.sharedHTTPConnectionManager, let httpStats = listener.httpStats[shared.config.statPrefix] {
            let manager = HTTPConnectionManager(
                loop: loop, connection: connection, config: shared, context: httpContext, stats: httpStats,
                listenerStats: listener.listenerHTTPStats[shared.config.statPrefix]
            ) { [unowned self] manager in
                stats.add(.downstreamCxActive, -1)
                workerStats?.add(.downstreamCxActive, -1)
                stats.add(.downstreamCxDestroy)
                stats.record(.downstreamCxLengthMs, milliseconds: self.loop.nowMilliseconds - opened)
                self.sessions[ObjectIdentifier(manager)] = nil
                self.checkDrained()
            }
            sessions[ObjectIdentifier(manager)] = Session(object: manager, listener: listener.config.name, chain: chain.source)
            manager.drainsOnHealthCheckFail = listener.config.drainsOnHealthCheckFail
            manager.requestedServerName = state.serverName
            manager.start(replaying: state.received)
            // Out of listener filters after a drain began: it serves one exchange.
            if draining {
                manager.startDraining()
            } else if listener.keptChains.map({ !$0.contains(chain.source) }) == true {
                drain([manager])
            } else if let schedule = listener.adminDrain {
                manager.beginDrain(schedule)
            }
            return
        }
        guard let proxy = chain.tcpProxy, let proxyStats = listener.proxyStats[proxy.statPrefix] else {
            workerStats?.add(.downstreamCxActive, -1)
            closeUnproxied(connection, stats: stats, opened: opened)
            return
        }
        let session = TcpProxySession(
            loop: loop, downstream: connection, config: proxy, cluster: clusters[proxy.cluster],
            stats: proxyStats, accessLogs: accessLogs.set(for: proxy.accessLogs), requestedServerName: state.serverName
        ) { [unowned self] session in
            stats.add(.downstreamCxActive, -1)
            workerStats?.add(.downstreamCxActive, -1)
            stats.add(.downstreamCxDestroy)
            stats.record(.downstreamCxLengthMs, milliseconds: self.loop.nowMilliseconds - opened)
            self.sessions[ObjectIdentifier(session)] = nil
            self.checkDrained()
        }
        sessions[ObjectIdentifier(session)] = Session(object: session, listener: listener.config.name, chain: chain.source)
        session.start(replaying: state.received)
        if listener.keptChains.map({ !$0.contains(chain.source) }) == true { drain([session]) }
    }

    /// The listener's own `access_log`: a connection no filter chain took
    /// (Envoy's `NR` flag).
    private func logUnproxied(_ connection: Connection, listener: ListenerConfig) {
        guard let set = accessLogs.set(for: listener.accessLogs) else { return }
        let info = StreamInfo(startMilliseconds: loop.nowMilliseconds, downstreamRemoteAddress: connection.remoteAddress,
                              downstreamLocalAddress: connection.localAddress,
                              downstreamLocalAddressRestored: connection.isLocalAddressRestored)
        info.markWallStart()
        info.responseFlags.insert(.noRouteFound)
        info.connectionTerminationDetails = "filter_chain_not_found"
        set.log(AccessLogInput(info: info, request: nil, responseHeaders: nil, responseTrailers: nil, endMilliseconds: loop.nowMilliseconds))
    }

    private func closeUnproxied(_ connection: Connection, stats: Stats<ListenerStat>, opened: UInt64) {
        countClosed(stats: stats, opened: opened)
        connection.close()
    }

    private func countClosed(stats: Stats<ListenerStat>, opened: UInt64) {
        stats.add(.downstreamCxActive, -1)
        stats.add(.downstreamCxDestroy)
        stats.record(.downstreamCxLengthMs, milliseconds: loop.nowMilliseconds - opened)
    }

    // MARK: - Drain

    /// Stops accepting; `done` runs (on this loop) once no connection is left.
    func drain(_ done: @escaping @Sendable () -> Void) {
        loop.assertInLoop()
        draining = true
        onDrained = done
        for listener in listeners { listener.socket?.stopAccepting() }
        listeners.removeAll()
        listenersByAddress.removeAll()
        // HTTP connections close as soon as their current exchange is done;
        // TCP sessions run until they end or the drain time does.
        // Connections still in listener filters go on until a verdict or the timeout.
        for case let manager as HTTPConnectionManager in sessions.values.map(\.object) { manager.startDraining() }
        checkDrained()
    }

    /// `/drain_listeners` began: the chosen listeners' (all, or the inbound
    /// ones) HTTP connections, and those they accept from now on, drain by
    /// `schedule` (HTTP/1 `connection: close`, HTTP/2 GOAWAY, at a response;
    /// idle ones and TCP sessions are left alone). A listener already
    /// draining keeps its schedule. The listeners go on accepting.
    func drainListeners(inboundOnly: Bool, schedule: DrainSchedule) {
        loop.assertInLoop()
        var names: Set<String> = []
        for listener in listeners where listener.adminDrain == nil && (!inboundOnly || listener.config.isInbound) {
            listener.adminDrain = schedule
            names.insert(listener.config.name)
        }
        guard !names.isEmpty else { return }
        // By name: a connection kept across an in-place update belongs to
        // the listener that replaced the one it came in on.
        for session in sessions.values where names.contains(session.listener) {
            (session.object as? HTTPConnectionManager)?.beginDrain(schedule)
        }
    }

    /// `/drain_listeners` stops the chosen listeners (all, or the inbound
    /// ones): they stop accepting; their connections go on. Returns how many
    /// listeners stopped. The process goes on.
    func stopListeners(inboundOnly: Bool) -> Int {
        loop.assertInLoop()
        let chosen = listeners.filter { !inboundOnly || $0.config.isInbound }
        let tags = Set(chosen.map(\.tag))
        let stopped = chosen.filter { $0.socket != nil }
        for listener in stopped { listener.socket?.stopAccepting() }
        listeners.removeAll { tags.contains($0.tag) }
        listenersByAddress = listenersByAddress.filter { !tags.contains($0.value.tag) }
        return stopped.count
    }

    private func checkDrained() {
        guard draining, sessions.isEmpty, let done = onDrained else { return }
        onDrained = nil
        done()
    }

    var activeConnections: Int { sessions.count }
}
