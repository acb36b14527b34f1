import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP

/// Who waits for an HTTP/2 stream: the router's upstream request, which is
/// also the stream's response decoder.
public protocol HTTP2PoolRequester: HTTPResponseDecoder {
    /// A stream opened for the requester on `connection` (its head not yet
    /// sent); the requester owns it until it completes or resets.
    func pool(_ pool: HTTP2ConnectionPool, didOpen stream: any HTTPRequestEncoder, on connection: HTTP2PoolConnection)
    func pool(_ pool: HTTP2ConnectionPool, didFail failure: HTTP1ConnectionPool.Failure)
}

/// What `HTTP2ConnectionPool.request` gives at once.
public enum HTTP2PoolOutcome {
    case ready(any HTTPRequestEncoder, HTTP2PoolConnection)
    case pending(HTTP2ConnectionPool.Ticket)
    case overflow
}

/// HTTP/2 connections to one upstream host, for one worker: streams are
/// multiplexed on a connection while it has capacity (the peer's
/// SETTINGS_MAX_CONCURRENT_STREAMS, `max_requests_per_connection`), a
/// connection that received GOAWAY (or used up its requests) drains — its
/// streams finish, new ones go to another connection — and an idle one closes
/// after the idle timeout. Circuit breakers as Envoy's HTTP/2 pool counts
/// them: `max_requests` per stream, `max_pending_requests` per waiter,
/// `max_connections` per connection. Owned by one worker loop.
public final class HTTP2ConnectionPool {
    public typealias Ticket = Int

    let loop: EventLoop
    public let host: SocketAddress
    private let connectTimeout: UInt64
    /// The cluster's TLS, if any: a connection is ready once its handshake is done.
    private let transport: (any TransportSocketFactory)?
    private let sourceAddress: SocketAddress?
    public let hostStats: HostStats
    let idleTimeout: UInt64
    let bufferLimit: Int
    let maxRequestsPerConnection: Int
    let options: HTTP2Options
    private let resources: ClusterResources
    public let stats: Stats<ClusterStat>
    let codecStats: Stats<HTTP2CodecStat>
    private let codecScope: StatScope?
    private var connections: [HTTP2PoolConnection] = []
    private var waiters: [(ticket: Ticket, requester: HTTP2PoolRequester)] = []
    private var nextTicket = 0
    private var draining = false
    private var idleTimer: Timer?
    /// Runs once when a draining pool has nothing left.
    public var onDrained: ((HTTP2ConnectionPool) -> Void)?

    public init(loop: EventLoop, host: SocketAddress, connectTimeoutMilliseconds: UInt64, idleTimeoutMilliseconds: UInt64,
                maxRequestsPerConnection: Int, bufferLimitBytes: Int, options: HTTP2Options, resources: ClusterResources,
                stats: Stats<ClusterStat>, codecStats: (scope: StatScope, stats: Stats<HTTP2CodecStat>)?,
                sourceAddress: SocketAddress? = nil, transport: (any TransportSocketFactory)? = nil) {
        self.transport = transport
        self.loop = loop
        self.host = host
        self.connectTimeout = connectTimeoutMilliseconds
        self.sourceAddress = sourceAddress
        self.hostStats = resources.hostStats.stats(for: host)
        self.idleTimeout = idleTimeoutMilliseconds
        self.bufferLimit = bufferLimitBytes
        self.maxRequestsPerConnection = maxRequestsPerConnection
        self.options = options
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
    }

    deinit {
        idleTimer?.close()
    }

    // MARK: - Requests

    /// A stream on a connection with capacity at once, or a ticket answered
    /// later through the requester (never inside this call), or an overflow.
    public func request(for requester: HTTP2PoolRequester) -> HTTP2PoolOutcome {
        if let ready = connections.first(where: { $0.canOpenStream }) {
            guard attach() else { return .overflow }
            return .ready(ready.open(requester), ready)
        }
        guard resources.tryAcquire(.pendingRequests) else {
            stats.add(.upstreamRqPendingOverflow)
            return .overflow
        }
        stats.add(.upstreamRqPendingTotal)
        stats.add(.upstreamRqPendingActive)
        HostStats.add(hostStats.rqPendingActive)
        nextTicket += 1
        waiters.append((nextTicket, requester))
        if !connections.contains(where: { $0.isConnecting }) { connect() }
        return .pending(nextTicket)
    }

    public func cancel(_ ticket: Ticket) {
        guard let i = waiters.firstIndex(where: { $0.ticket == ticket }) else { return }
        waiters.remove(at: i)
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
        // The ending stream may still be listed by the codec (it is told
        // first); a draining connection closes once the codec has no stream.
        if connection.activeStreams <= 1 && !connection.isDraining {
            connection.idleSince = loop.nowMilliseconds
            armIdleTimer()
        }
        serveWaiters()
    }

    /// Hands streams to waiters while a connection has room.
    func serveWaiters() {
        while !waiters.isEmpty {
            guard let ready = connections.first(where: { $0.canOpenStream }) else { break }
            let (_, requester) = waiters.removeFirst()
            leavePending()
            guard attach() else {
                requester.pool(self, didFail: .overflow)
                continue
            }
            let stream = ready.open(requester)
            requester.pool(self, didOpen: stream, on: ready)
        }
        // Waiters left and nothing on the way: another connection.
        if !waiters.isEmpty && !connections.contains(where: { $0.isConnecting }) { connect() }
    }

    // MARK: - Connections

    private func connect() {
        if !resources.tryAcquire(.connections) {
            stats.add(.upstreamCxOverflow)
            guard connections.isEmpty else { return }
            resources.forceAcquire(.connections)
        }
        stats.add(.upstreamCxTotal)
        stats.add(.upstreamCxHttp2Total)
        stats.add(.upstreamCxActive)
        HostStats.add(hostStats.cxTotal)
        HostStats.add(hostStats.cxActive)
        codecScope?.markUsed()
        let client = HTTP2PoolConnection(pool: self)
        connections.append(client)
        let started = loop.nowMilliseconds
        client.attempt = Connection.connect(loop: loop, to: host, from: sourceAddress, timeoutMilliseconds: connectTimeout,
                                            transport: transport) { result in
            client.attempt = nil
            switch result {
            case .success(let connection):
                self.stats.record(.upstreamCxConnectMs, milliseconds: self.loop.nowMilliseconds - started)
                connection.highWatermark = self.bufferLimit
                client.connected(connection)
                self.serveWaiters()
            case .failure(let error):
                self.stats.add(.upstreamCxConnectFail)
                HostStats.add(self.hostStats.cxConnectFail)
                self.stats.add(.upstreamCxDestroyRemote)
                if error == .timedOut { self.stats.add(.upstreamCxConnectTimeout) }
                // Nothing else can serve them: the waiters fail (Envoy's UF),
                // before the slot goes (which would connect again for them).
                if !self.connections.contains(where: { $0 !== client && ($0.isConnecting || $0.canOpenStream) }) {
                    let failed = self.waiters
                    self.waiters.removeAll()
                    for (_, requester) in failed {
                        self.leavePending()
                        requester.pool(self, didFail: .connectFailure(error))
                    }
                }
                client.markClosed()
                self.remove(client)
            }
            self.checkDrained()
        }
    }

    /// A connection closed (or failed to open): its slot goes back.
    func remove(_ client: HTTP2PoolConnection) {
        guard let i = connections.firstIndex(where: { $0 === client }) else { return }
        connections.remove(at: i)
        resources.release(.connections)
        stats.add(.upstreamCxActive, -1)
        HostStats.add(hostStats.cxActive, -1)
        stats.add(.upstreamCxDestroy)
        if let opened = client.openedAt {
            stats.record(.upstreamCxLengthMs, milliseconds: loop.nowMilliseconds - opened)
        }
        if !waiters.isEmpty { serveWaiters() }
        checkDrained()
    }

    public var totalConnections: Int { connections.count }
    public var isDraining: Bool { draining }

    /// The host left the cluster: idle connections close, busy ones finish
    /// their streams and close, waiters are still served.
    public func drain() {
        draining = true
        for client in connections {
            client.startDraining()
        }
        checkDrained()
    }

    public func resume() {
        draining = false
    }

    private func checkDrained() {
        guard draining, connections.isEmpty, waiters.isEmpty, let onDrained else { return }
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
        for client in connections where client.activeStreams == 0 {
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
