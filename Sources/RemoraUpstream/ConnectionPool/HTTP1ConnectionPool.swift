import RemoraCore
import RemoraEventLoop
import RemoraHTTP

/// HTTP/1.1 connections to one upstream host, for one worker: keep-alive
/// reuse, `max_requests_per_connection`, idle timeout, the cluster's
/// circuit breakers, and draining once the host leaves the cluster. It
/// hands out streams (`UpstreamStreamPool`), one per connection at a time:
/// each connection is an `HTTP1PoolConnection`, which owns the socket and
/// codec and tells the pool when its stream ended (reusable) or it closed.
/// Decisions come from `HTTP1PoolState`; this class performs them. Owned by
/// one worker loop.
///
/// Lifetime: a connect in progress holds the pool (its completion captures
/// it), a connection holds it (`HTTP1PoolConnection.owner`) until it
/// closes. So whatever drops the pool, every `max_connections` slot taken
/// comes back here, through the state machine's `Departure`.
public final class HTTP1ConnectionPool: UpstreamStreamPool, HTTP1PoolConnectionOwner {
    public typealias Ticket = Int

    private let loop: EventLoop
    public let host: SocketAddress
    private let connectTimeout: UInt64
    /// The cluster's TLS, if any: a connection is ready once its handshake is done.
    private let transport: (any TransportSocketFactory)?
    /// `upstream_bind_config.source_address` of the cluster.
    private let sourceAddress: SocketAddress?
    private let tcpKeepalive: TCPKeepalive?
    /// This host's stats across workers (`/clusters`).
    public let hostStats: HostStats
    private let idleTimeout: UInt64
    private let bufferLimit: Int
    private let resources: ClusterResources
    public let stats: Stats<ClusterStat>
    /// The loop's encoder, shared by the connections' codecs.
    private let encoder: HTTP1SharedEncoder
    /// The response parser's limits (the cluster's `max_response_headers_kb`
    /// and `max_headers_count`).
    private let responseParser: HTTP1Parser.Configuration
    /// Connections are known to the state machine by a number given when
    /// the connect starts (the `HTTP1PoolConnection` exists only once it is up).
    private var state: HTTP1PoolState<Int, Ticket>
    private var waiters: [Ticket: any UpstreamStreamRequester] = [:]
    private var nextTicket = 0
    private var nextID = 0
    private var connections: [Int: HTTP1PoolConnection] = [:]
    private var attempts: [Int: ConnectAttempt] = [:]
    /// Its callback holds the pool `unowned(unsafe)`: a weak capture would
    /// give the pool a side table, and every retain of it (one per request)
    /// the slow path. The timer is closed in `deinit`, so it never fires
    /// for a freed pool.
    private var idleTimer: Timer?

    deinit {
        idleTimer?.close()
    }
    /// Connections carrying a request that holds one of the cluster's
    /// `max_requests` units (taken when the request is attached).
    private var streams: Set<Int> = []
    /// Runs once when a draining pool has nothing left (no connection, no
    /// waiter), so that its owner can forget it.
    public var onDrained: ((HTTP1ConnectionPool) -> Void)?

    public init(loop: EventLoop, host: SocketAddress, connectTimeoutMilliseconds: UInt64,
                idleTimeoutMilliseconds: UInt64, maxRequestsPerConnection: Int, bufferLimitBytes: Int,
                resources: ClusterResources, stats: Stats<ClusterStat>, encoder: HTTP1SharedEncoder,
                responseParser: HTTP1Parser.Configuration = .response, sourceAddress: SocketAddress? = nil,
                tcpKeepalive: TCPKeepalive? = nil, transport: (any TransportSocketFactory)? = nil) {
        self.loop = loop
        self.encoder = encoder
        self.responseParser = responseParser
        self.transport = transport
        self.host = host
        self.sourceAddress = sourceAddress
        self.tcpKeepalive = tcpKeepalive
        self.hostStats = resources.hostStats.stats(for: host)
        self.connectTimeout = connectTimeoutMilliseconds
        self.idleTimeout = idleTimeoutMilliseconds
        self.bufferLimit = bufferLimitBytes
        self.resources = resources
        self.stats = stats
        state = HTTP1PoolState(limits: .init(
            maxConnections: Int.max, maxPending: Int.max, maxRequestsPerConnection: maxRequestsPerConnection))
    }

    // MARK: - Requests

    /// Asks for a stream: on an idle connection at once, or a ticket whose
    /// answer comes later through the requester (never inside this call),
    /// or an overflow.
    public func newStream(for requester: any UpstreamStreamRequester) -> UpstreamStreamOutcome {
        nextTicket += 1
        let ticket = nextTicket
        let mayConnect = resources.canAcquire(.connections)
        let action = state.request(ticket, mayQueue: resources.canAcquire(.pendingRequests), mayConnect: mayConnect)
        switch action {
        case .overflow:
            stats.add(.upstreamRqPendingOverflow)
            return .overflow
        case .assign(_, let id):
            guard let connection = connections[id] else { preconditionFailure("idle connection missing") }
            guard attach(id) else {
                perform(state.unassign(id))
                return .overflow
            }
            return .ready(connection.open(requester), connection)
        case .queued:
            if !mayConnect && state.needsConnection {
                // Waiting because `max_connections` is reached (Envoy's cx overflow).
                stats.add(.upstreamCxOverflow)
            }
            waiters[ticket] = requester
            enterPending()
        case .connect:
            waiters[ticket] = requester
            enterPending()
            connect()
        default:
            preconditionFailure("unexpected pool action \(action) for a request")
        }
        return .pending(ticket)
    }

    /// The requester gave up before getting a connection.
    public func cancel(_ ticket: Ticket) {
        guard waiters.removeValue(forKey: ticket) != nil else { return }
        leavePending()
        perform(state.cancel(ticket))
        checkDrained()
    }

    /// `connection`'s stream ended with the connection fit for another
    /// request (the response read whole with keep-alive, the request sent
    /// whole): it serves a waiter, idles, or closes if spent.
    func streamEnded(on connection: HTTP1PoolConnection) {
        guard connections[connection.id] === connection else { return }
        detach(connection.id)
        perform(state.released(connection.id, reusable: true))
        checkDrained()
    }

    public var idleConnections: Int { state.idleCount }
    public var totalConnections: Int { state.connectionCount }
    public var isDraining: Bool { state.isDraining }

    /// The host left the cluster: idle connections close now, connects that
    /// nobody waits for are abandoned, requests in flight and waiting finish
    /// and their connections then close. `onDrained` runs when all is done.
    public func drain() {
        for action in state.drain() { perform(action) }
        checkDrained()
    }

    /// The host is back: the pool serves again (rather than a second pool
    /// for the same host).
    public func resume() {
        state.resume()
    }

    private func checkDrained() {
        guard state.isDraining, state.isEmpty, let onDrained else { return }
        self.onDrained = nil
        onDrained(self)
    }

    // MARK: - Performing actions

    private func perform(_ action: HTTP1PoolState<Int, Ticket>.Action?) {
        guard let action else { return }
        switch action {
        case .assign(let ticket, let id):
            deliver(ticket, id)
        case .connect:
            connect()
        case .close(let id):
            connections[id]?.close()
        case .park(let id):
            // It keeps reading, to notice the upstream closing it. (Read,
            // then set: `connections[id]?.idleSince = …` goes through the
            // dictionary's `_modify`, a heap-allocated coroutine frame.)
            if let connection = connections[id] { connection.idleSince = loop.nowMilliseconds }
            armIdleTimer()
        case .fail(let tickets):
            stats.add(.upstreamRqPendingFailureEject, Int64(tickets.count))
            for ticket in tickets { failWaiter(ticket, .connectFailure(lastFailure)) }
        case .cancelConnect(let id):
            attempts.removeValue(forKey: id)?.cancel()
            stats.add(.upstreamCxDestroyLocal)
            releaseSlot()
        case .queued, .overflow:
            break
        }
    }

    private func deliver(_ ticket: Ticket, _ id: Int) {
        guard let requester = waiters.removeValue(forKey: ticket), let connection = connections[id] else {
            preconditionFailure("pool state assigned a connection or waiter the pool does not have")
        }
        leavePending()
        guard attach(id) else {
            // Told first, so that a request it makes at once finds the
            // connection still taken and waits for it.
            requester.streamFailed(.overflow)
            perform(state.unassign(id))
            return
        }
        requester.streamReady(connection.open(requester), on: connection)
    }

    /// Envoy checks `max_requests` when a request is attached to a
    /// connection, not when it arrives (`ConnPoolImplBase::attachStreamToClient`):
    /// requests waiting for a connection count as pending only, and an
    /// overflow here is `upstream_rq_active_overflow`. `upstream_rq_total`
    /// and `upstream_rq_active` count attached requests, as Envoy's do.
    private func attach(_ id: Int) -> Bool {
        guard resources.tryAcquire(.requests) else {
            stats.add(.upstreamRqActiveOverflow)
            return false
        }
        streams.insert(id)
        stats.add(.upstreamRqTotal)
        stats.add(.upstreamRqActive)
        HostStats.add(hostStats.rqTotal)
        HostStats.add(hostStats.rqActive)
        return true
    }

    /// The request on `id` is over (connection given back or closed).
    private func detach(_ id: Int) {
        guard streams.remove(id) != nil else { return }
        resources.release(.requests)
        stats.add(.upstreamRqActive, -1)
        HostStats.add(hostStats.rqActive, -1)
    }

    private func failWaiter(_ ticket: Ticket, _ failure: UpstreamPoolFailure) {
        guard let requester = waiters.removeValue(forKey: ticket) else { return }
        leavePending()
        requester.streamFailed(failure)
    }

    private func enterPending() {
        _ = resources.tryAcquire(.pendingRequests)
        stats.add(.upstreamRqPendingTotal)
        stats.add(.upstreamRqPendingActive)
        HostStats.add(hostStats.rqPendingActive)
    }

    private func leavePending() {
        resources.release(.pendingRequests)
        stats.add(.upstreamRqPendingActive, -1)
        HostStats.add(hostStats.rqPendingActive, -1)
    }

    private var lastFailure: EventLoopError = .connectionRefused

    private func connect() {
        if !resources.tryAcquire(.connections) {
            stats.add(.upstreamCxOverflow)
            // Other hosts hold every slot: Envoy still opens one connection for
            // a host that has none (`ConnPoolImplBase::tryCreateNewConnection`),
            // or its requests would wait for connections it cannot use.
            guard state.connectionCount == 0 else { return }
            resources.forceAcquire(.connections)
        }
        let started = loop.nowMilliseconds
        let id = countNewConnection()
        // Captures the pool strongly (the cycle ends when the completion runs
        // or the attempt is cancelled): a pool freed mid-connect could not
        // give the slot back.
        attempts[id] = Connection.connect(loop: loop, to: host, from: sourceAddress, keepalive: tcpKeepalive,
                                          timeoutMilliseconds: connectTimeout,
                                          transport: transport) { result in
            self.connectFinished(id, started: started, result)
        }
    }

    private func countNewConnection() -> Int {
        hostStats.countConnectionOpened(.upstreamCxHttp1Total, in: stats)
        nextID += 1
        state.connecting(nextID)
        return nextID
    }

    /// Takes a connection to this host made elsewhere (`auto_config`'s
    /// first one, which learned that the server speaks HTTP/1.1) as if this
    /// pool had opened it at `started`: counted, then given to a waiter or
    /// kept idle. It exists already, so it takes a `max_connections` slot
    /// even past the limit.
    public func adopt(_ connection: Connection, started: UInt64) {
        if !resources.tryAcquire(.connections) { resources.forceAcquire(.connections) }
        connectFinished(countNewConnection(), started: started, .success(connection))
    }

    private func connectFinished(_ id: Int, started: UInt64, _ result: Result<Connection, EventLoopError>) {
        attempts[id] = nil
        switch result {
        case .success(let connection):
            stats.record(.upstreamCxConnectMs, milliseconds: loop.nowMilliseconds - started)
            connection.highWatermark = bufferLimit
            connection.bufferGauges = stats.bufferGauges(rx: .upstreamCxRxBytesBuffered, tx: .upstreamCxTxBytesBuffered)
            connections[id] = HTTP1PoolConnection(owner: self, id: id, connection: connection, parser: responseParser,
                                                  encoder: encoder, stats: stats, now: loop.nowMilliseconds)
            // Reads stay on from here, idle or busy (stopping and restarting
            // them would cost two `epoll_ctl`s per request).
            connection.startReading()
            perform(state.connected(id))
        case .failure(let error):
            stats.add(.upstreamCxConnectFail)
            HostStats.add(hostStats.cxConnectFail)
            stats.add(.upstreamCxDestroyRemote)
            if error == .timedOut { stats.add(.upstreamCxConnectTimeout) }
            lastFailure = error
            let departure = state.connectFailed(id)
            if departure.releasesSlot { releaseSlot() }
            perform(departure.then)
        }
        checkDrained()
    }

    /// Gives back the `max_connections` slot of a connection that left (the
    /// state machine says when: once per connection).
    private func releaseSlot() {
        resources.release(.connections)
        stats.add(.upstreamCxActive, -1)
        HostStats.add(hostStats.cxActive, -1)
        stats.add(.upstreamCxDestroy)
    }

    // MARK: - Idle connections

    private func armIdleTimer() {
        guard idleTimeout > 0 else { return }
        if idleTimer == nil { idleTimer = Timer(loop: loop) }
        guard idleTimer?.isActive == false else { return }
        idleTimer?.start(afterMilliseconds: idleTimeout) { [unowned(unsafe) self] in self.expireIdle() }
    }

    private func expireIdle() {
        let now = loop.nowMilliseconds
        var next: UInt64? = nil
        for connection in connections.values {
            guard let since = connection.idleSince else { continue }
            if now - since >= idleTimeout {
                stats.add(.upstreamCxIdleTimeout)
                connection.close()
            } else {
                let left = idleTimeout - (now - since)
                next = min(next ?? left, left)
            }
        }
        if let next { idleTimer?.start(afterMilliseconds: next) { [unowned(unsafe) self] in self.expireIdle() } }
    }

    // MARK: - HTTP1PoolConnectionOwner

    func connectionClosed(_ connection: HTTP1PoolConnection, remote: Bool, withActiveRequest: Bool) {
        let id = connection.id
        guard connections[id] === connection else { return }
        if connection.codec?.closeAnnounced == true { stats.add(.upstreamCxCloseNotify) }
        connections[id] = nil
        stats.countConnectionClosed(remote: remote, withActiveRequests: withActiveRequest)
        detach(id)
        stats.record(.upstreamCxLengthMs, milliseconds: loop.nowMilliseconds - connection.openedAt)
        let departure = state.closed(id, mayConnect: resources.canAcquire(.connections))
        if let served = departure.servedRequests { stats.record(.upstreamRqPerCx, milliseconds: UInt64(served)) }
        if departure.releasesSlot { releaseSlot() }
        perform(departure.then)
        checkDrained()
    }
}
