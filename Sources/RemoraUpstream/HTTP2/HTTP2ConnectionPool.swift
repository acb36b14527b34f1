import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP

/// HTTP/2 connections to one upstream host, for one worker: streams are
/// multiplexed on a connection while it has capacity (the peer's
/// SETTINGS_MAX_CONCURRENT_STREAMS, `max_requests_per_connection`), a
/// connection that received GOAWAY (or used up its requests) drains — its
/// streams finish, new ones go to another connection — and an idle one closes
/// after the idle timeout. Circuit breakers as Envoy's HTTP/2 pool counts
/// them: `max_requests` per stream, `max_pending_requests` per waiter,
/// `max_connections` per connection. Owned by one worker loop.
public final class HTTP2ConnectionPool: UpstreamStreamPool {
    public typealias Ticket = Int

    let loop: EventLoop
    public let host: SocketAddress
    private let connectTimeout: UInt64
    /// The cluster's TLS, if any: a connection is ready once its handshake is done.
    private let transport: (any TransportSocketFactory)?
    private let sourceAddress: SocketAddress?
    private let tcpKeepalive: TCPKeepalive?
    public let hostStats: HostStats
    let idleTimeout: UInt64
    let bufferLimit: Int
    let maxRequestsPerConnection: Int
    let options: HTTP2Options
    /// The cluster's `connection_keepalive`, if any.
    let keepalive: HTTP2ProtocolOptions.Keepalive?
    private let resources: ClusterResources
    public let stats: Stats<ClusterStat>
    let codecStats: Stats<HTTP2CodecStat>
    private let codecScope: StatScope?
    /// The pool's decisions (socket-free); connections are known to it by id.
    private var state: HTTP2PoolState<Int, Ticket>
    private var connections: [Int: HTTP2PoolConnection] = [:]
    private var waiters: [Ticket: any UpstreamStreamRequester] = [:]
    private var nextTicket = 0
    private var nextID = 0
    private var idleTimer: Timer?
    /// Runs once when a draining pool has nothing left.
    public var onDrained: ((HTTP2ConnectionPool) -> Void)?

    public init(loop: EventLoop, host: SocketAddress, connectTimeoutMilliseconds: UInt64, idleTimeoutMilliseconds: UInt64,
                maxRequestsPerConnection: Int, bufferLimitBytes: Int, options: HTTP2Options,
                keepalive: HTTP2ProtocolOptions.Keepalive? = nil, resources: ClusterResources,
                stats: Stats<ClusterStat>, codecStats: (scope: StatScope, stats: Stats<HTTP2CodecStat>)?,
                sourceAddress: SocketAddress? = nil, tcpKeepalive: TCPKeepalive? = nil,
                transport: (any TransportSocketFactory)? = nil) {
        self.transport = transport
        self.loop = loop
        self.host = host
        self.connectTimeout = connectTimeoutMilliseconds
        self.sourceAddress = sourceAddress
        self.tcpKeepalive = tcpKeepalive
        self.hostStats = resources.hostStats.stats(for: host)
        self.idleTimeout = idleTimeoutMilliseconds
        self.bufferLimit = bufferLimitBytes
        self.maxRequestsPerConnection = maxRequestsPerConnection
        self.options = options
        self.keepalive = keepalive
        self.resources = resources
        self.stats = stats
        if let codecStats {
            self.codecScope = codecStats.scope
            self.codecStats = codecStats.stats
        } else {
            let scope = StatScope(prefix: "http2.", stats: HTTP2CodecStat.allCases.map { ($0.name, $0.kind) }, threadCount: 1)
            self.codecScope = nil
            self.codecStats = scope.stats(HTTP2CodecStat.self, thread: 0)
        }
        state = HTTP2PoolState(limits: .init(maxConcurrentStreams: Int(options.maxConcurrentStreams),
                                             maxRequestsPerConnection: maxRequestsPerConnection))
    }

    deinit {
        idleTimer?.close()
    }

    // MARK: - Requests

    /// A stream on a connection with capacity at once, or a ticket answered
    /// later through the requester (never inside this call), or an overflow.
    public func newStream(for requester: any UpstreamStreamRequester) -> UpstreamStreamOutcome {
        if let id = state.openOnReady() { return open(id, for: requester) }
        nextTicket += 1
        let ticket = nextTicket
        var outcome = UpstreamStreamOutcome.pending(ticket)
        for action in state.request(ticket, mayQueue: resources.canAcquire(.pendingRequests)) {
            switch action {
            case .open(_, let id):
                outcome = open(id, for: requester)
                if case .overflow = outcome { return .overflow }
            case .queued:
                _ = resources.tryAcquire(.pendingRequests)
                stats.add(.upstreamRqPendingTotal)
                stats.add(.upstreamRqPendingActive)
                HostStats.add(hostStats.rqPendingActive)
                waiters[ticket] = requester
            case .overflow:
                stats.add(.upstreamRqPendingOverflow)
                return .overflow
            default:
                perform([action])
            }
        }
        return outcome
    }

    /// A stream for `requester` on connection `id` (counted in the state).
    private func open(_ id: Int, for requester: any UpstreamStreamRequester) -> UpstreamStreamOutcome {
        guard let client = connections[id], attach() else {
            perform(state.streamEnded(id))
            return .overflow
        }
        return .ready(client.open(requester), client)
    }

    public func cancel(_ ticket: Ticket) {
        guard waiters.removeValue(forKey: ticket) != nil else { return }
        state.cancel(ticket)
        leavePending()
        checkDrained()
    }

    private func leavePending() {
        resources.release(.pendingRequests)
        stats.add(.upstreamRqPendingActive, -1)
        HostStats.add(hostStats.rqPendingActive, -1)
    }

    /// `max_requests` is a stream count on HTTP/2, checked when a stream is
    /// attached to a connection, as Envoy does.
    private func attach() -> Bool {
        guard resources.tryAcquire(.requests) else {
            stats.add(.upstreamRqActiveOverflow)
            return false
        }
        stats.add(.upstreamRqTotal)
        stats.add(.upstreamRqActive)
        HostStats.add(hostStats.rqTotal)
        HostStats.add(hostStats.rqActive)
        return true
    }

    /// A stream the pool opened has ended (completed or reset).
    func streamEnded(on connection: HTTP2PoolConnection) {
        resources.release(.requests)
        stats.add(.upstreamRqActive, -1)
        HostStats.add(hostStats.rqActive, -1)
        perform(state.streamEnded(connection.id))
        if state.activeStreams(on: connection.id) == 0 && state.phase(of: connection.id) == .ready {
            connection.idleSince = loop.nowMilliseconds
            armIdleTimer()
        }
    }

    func goAwayReceived(on connection: HTTP2PoolConnection) {
        stats.add(.upstreamCxCloseNotify)
        perform(state.goAway(connection.id))
    }

    func settingsReceived(on connection: HTTP2PoolConnection, maxConcurrentStreams: UInt32) {
        perform(state.settings(connection.id, maxConcurrentStreams: Int(maxConcurrentStreams)))
    }

    // MARK: - Performing the state machine's actions

    private func perform(_ actions: [HTTP2PoolState<Int, Ticket>.Action]) {
        for action in actions {
            switch action {
            case .open(let ticket, let id):
                guard let requester = waiters.removeValue(forKey: ticket), let client = connections[id] else { continue }
                leavePending()
                guard attach() else {
                    perform(state.streamEnded(id))
                    requester.streamFailed(.overflow)
                    continue
                }
                let stream = client.open(requester)
                requester.streamReady(stream, on: client)
            case .connect:
                connect()
            case .close(let id):
                connections[id]?.close()
            case .fail(let tickets):
                for ticket in tickets {
                    guard let requester = waiters.removeValue(forKey: ticket) else { continue }
                    leavePending()
                    stats.add(.upstreamRqPendingFailureEject)
                    requester.streamFailed(.connectFailure(lastFailure))
                }
            case .queued, .overflow:
                break
            }
        }
    }

    private var lastFailure: EventLoopError = .connectionRefused

    // MARK: - Connections

    private func connect() {
        if !resources.tryAcquire(.connections) {
            stats.add(.upstreamCxOverflow)
            // Envoy still opens one connection for a host that has none.
            guard connections.isEmpty else { return }
            resources.forceAcquire(.connections)
        }
        let client = countNewConnection()
        let started = loop.nowMilliseconds
        client.attempt = Connection.connect(loop: loop, to: host, from: sourceAddress, keepalive: tcpKeepalive,
                                            timeoutMilliseconds: connectTimeout,
                                            transport: transport) { result in
            client.attempt = nil
            switch result {
            case .success(let connection):
                self.connected(client, connection, started: started)
            case .failure(let error):
                self.stats.add(.upstreamCxConnectFail)
                HostStats.add(self.hostStats.cxConnectFail)
                self.stats.add(.upstreamCxDestroyRemote)
                if error == .timedOut { self.stats.add(.upstreamCxConnectTimeout) }
                self.lastFailure = error
                client.markClosed()
                self.releaseSlot(client)
                self.perform(self.state.connectFailed(client.id))
            }
            self.checkDrained()
        }
    }

    private func countNewConnection() -> HTTP2PoolConnection {
        hostStats.countConnectionOpened(.upstreamCxHttp2Total, in: stats)
        codecScope?.markUsed()
        nextID += 1
        let client = HTTP2PoolConnection(pool: self, id: nextID)
        connections[client.id] = client
        state.connecting(client.id)
        return client
    }

    private func connected(_ client: HTTP2PoolConnection, _ connection: Connection, started: UInt64) {
        stats.record(.upstreamCxConnectMs, milliseconds: loop.nowMilliseconds - started)
        connection.highWatermark = bufferLimit
        connection.bufferGauges = stats.bufferGauges(rx: .upstreamCxRxBytesBuffered, tx: .upstreamCxTxBytesBuffered)
        client.connected(connection)
        perform(state.connected(client.id))
    }

    /// Takes a connection to this host made elsewhere (`auto_config`'s
    /// first one, whose server picked `h2`) as if this pool had opened it at
    /// `started`. It exists already, so it takes a `max_connections` slot
    /// even past the limit.
    public func adopt(_ connection: Connection, started: UInt64) {
        if !resources.tryAcquire(.connections) { resources.forceAcquire(.connections) }
        connected(countNewConnection(), connection, started: started)
        checkDrained()
    }

    /// A connection closed: its slot goes back, waiters may need another.
    func remove(_ client: HTTP2PoolConnection) {
        guard connections[client.id] === client else { return }
        releaseSlot(client)
        perform(state.closed(client.id))
        checkDrained()
    }

    private func releaseSlot(_ client: HTTP2PoolConnection) {
        connections[client.id] = nil
        resources.release(.connections)
        stats.add(.upstreamCxActive, -1)
        HostStats.add(hostStats.cxActive, -1)
        stats.add(.upstreamCxDestroy)
        if let opened = client.openedAt {
            stats.record(.upstreamRqPerCx, milliseconds: UInt64(client.streamsOpened))
            stats.record(.upstreamCxLengthMs, milliseconds: loop.nowMilliseconds - opened)
        }
    }

    public var totalConnections: Int { connections.count }
    public var isDraining: Bool { state.isDraining }

    /// The host left the cluster: idle connections close, busy ones finish
    /// their streams and close, waiters are still served.
    public func drain() {
        perform(state.drain())
        checkDrained()
    }

    public func resume() {
        state.resume()
    }

    private func checkDrained() {
        guard state.isDraining, connections.isEmpty, waiters.isEmpty, let onDrained else { return }
        self.onDrained = nil
        onDrained(self)
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
        for client in connections.values where state.activeStreams(on: client.id) == 0 {
            guard let since = client.idleSince else { continue }
            if now - since >= idleTimeout {
                stats.add(.upstreamCxIdleTimeout)
                client.close()
            } else {
                let left = idleTimeout - (now - since)
                next = min(next ?? left, left)
            }
        }
        if let next { idleTimer?.start(afterMilliseconds: next) { [unowned(unsafe) self] in self.expireIdle() } }
    }
}
