/// The decisions of an HTTP/2 connection pool for one host, without sockets
/// or timers (the counterpart of `HTTP1PoolState`): which connection a new
/// stream goes on, when to open another connection, which connections drain
/// or close, which waiters fail. `HTTP2ConnectionPool` feeds it events and
/// performs the actions it returns; the unit tests drive it alone.
///
/// A connection is *connecting* until its socket is up, then *ready*; it
/// takes streams while it has capacity: fewer open than the peer's
/// SETTINGS_MAX_CONCURRENT_STREAMS (unlimited until the peer says) and the
/// cluster's `max_concurrent_streams`, and fewer opened in its life than
/// `max_requests_per_connection`. A GOAWAY, or its last allowed stream,
/// makes it *draining*: its streams finish, none is added, and it closes
/// once it has none. Requests that find no capacity wait in order; one
/// connection is opened for them when none is on the way.
public struct HTTP2PoolState<Conn: Hashable, Ticket: Hashable> {
    public struct Limits: Sendable {
        /// The cluster's `http2_protocol_options.max_concurrent_streams`.
        public var maxConcurrentStreams: Int
        /// `max_requests_per_connection`; 0 = unlimited.
        public var maxRequestsPerConnection: Int

        public init(maxConcurrentStreams: Int = Int(Int32.max), maxRequestsPerConnection: Int = 0) {
            self.maxConcurrentStreams = maxConcurrentStreams
            self.maxRequestsPerConnection = maxRequestsPerConnection
        }
    }

    public enum Phase: Equatable, Sendable { case connecting, ready, draining }

    public enum Action: Equatable {
        /// Open a stream for `ticket` on `conn` (capacity already counted).
        case open(Ticket, Conn)
        /// The request waits for capacity.
        case queued
        /// Open one more connection (and report it with `connecting`).
        case connect
        /// Close this connection (it has no stream left, or is not wanted).
        case close(Conn)
        /// These waiters cannot be served: the connect they waited for failed.
        case fail([Ticket])
        /// The waiter cannot queue (`max_pending_requests`): overflow.
        case overflow
    }

    struct Entry {
        var phase: Phase
        var active = 0
        var opened = 0
        var peerLimit = Int.max
    }

    public let limits: Limits
    private var entries: [Conn: Entry] = [:]
    /// Connections in the order they were opened: streams go to the oldest
    /// with capacity, so younger ones fall idle and time out.
    private var order: [Conn] = []
    public private(set) var waiters: [Ticket] = []
    public private(set) var isDraining = false

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public var connectionCount: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty && waiters.isEmpty }
    public func phase(of conn: Conn) -> Phase? { entries[conn]?.phase }
    public func activeStreams(on conn: Conn) -> Int { entries[conn]?.active ?? 0 }
    private var isConnecting: Bool { entries.values.contains { $0.phase == .connecting } }

    private func hasCapacity(_ e: Entry) -> Bool {
        e.phase == .ready && e.active < min(e.peerLimit, limits.maxConcurrentStreams)
            && (limits.maxRequestsPerConnection == 0 || e.opened < limits.maxRequestsPerConnection)
    }

    /// A connection with room for one more stream, if any.
    public var readyConnection: Conn? {
        order.first { entries[$0].map(hasCapacity) ?? false }
    }

    /// Counts a stream opened on `conn`; its last allowed one drains it.
    private mutating func take(_ conn: Conn) {
        guard var e = entries[conn] else { return }
        e.active += 1
        e.opened += 1
        if limits.maxRequestsPerConnection > 0 && e.opened >= limits.maxRequestsPerConnection { e.phase = .draining }
        entries[conn] = e
    }

    // MARK: - Events

    /// A request for a stream: on a connection with room, or queued (and a
    /// connection opened if none is on the way), or an overflow when it may
    /// not queue.
    /// `request`'s common case without an action list (no array per
    /// request): a stream on a ready connection, or nil, and then `request`.
    public mutating func openOnReady() -> Conn? {
        guard let conn = readyConnection else { return nil }
        take(conn)
        return conn
    }

    public mutating func request(_ ticket: Ticket, mayQueue: Bool) -> [Action] {
        if let conn = readyConnection {
            take(conn)
            return [.open(ticket, conn)]
        }
        guard mayQueue else { return [.overflow] }
        waiters.append(ticket)
        return isConnecting ? [.queued] : [.queued, .connect]
    }

    /// The pool started the connect the last `.connect` asked for.
    public mutating func connecting(_ conn: Conn) {
        entries[conn] = Entry(phase: .connecting)
        order.append(conn)
    }

    /// The socket is up: waiters go on it. In a draining pool it serves the
    /// waiters there are, then drains (or closes at once with none).
    public mutating func connected(_ conn: Conn) -> [Action] {
        guard entries[conn]?.phase == .connecting else { return [] }
        entries[conn]?.phase = .ready
        if isDraining && waiters.isEmpty {
            entries[conn]?.phase = .draining
            return [.close(conn)]
        }
        let actions = serveWaiters()
        if isDraining { entries[conn]?.phase = .draining }
        return actions
    }

    /// The connect failed: waiters that nothing else will serve fail.
    public mutating func connectFailed(_ conn: Conn) -> [Action] {
        remove(conn)
        if isConnecting || readyConnection != nil { return serveWaiters() }
        let failed = waiters
        waiters.removeAll()
        return failed.isEmpty ? [] : [.fail(failed)]
    }

    /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS.
    public mutating func settings(_ conn: Conn, maxConcurrentStreams: Int) -> [Action] {
        entries[conn]?.peerLimit = maxConcurrentStreams
        return serveWaiters()
    }

    /// A stream opened by `.open` (or its attach was refused) ended.
    public mutating func streamEnded(_ conn: Conn) -> [Action] {
        guard var e = entries[conn] else { return [] }
        e.active = max(0, e.active - 1)
        entries[conn] = e
        if e.phase == .draining && e.active == 0 { return [.close(conn)] + serveWaiters() }
        return serveWaiters()
    }

    /// The peer sent GOAWAY: no new streams here.
    public mutating func goAway(_ conn: Conn) -> [Action] {
        guard var e = entries[conn] else { return [] }
        e.phase = .draining
        entries[conn] = e
        return (e.active == 0 ? [.close(conn)] : []) + serveWaiters()
    }

    /// The connection is gone (closed by either side).
    public mutating func closed(_ conn: Conn) -> [Action] {
        remove(conn)
        return serveWaiters()
    }

    public mutating func cancel(_ ticket: Ticket) {
        waiters.removeAll { $0 == ticket }
    }

    /// The host left: idle connections close, busy ones drain, connects
    /// nobody waits for are closed.
    public mutating func drain() -> [Action] {
        isDraining = true
        var actions: [Action] = []
        for conn in order {
            guard var e = entries[conn] else { continue }
            if e.active == 0 && (e.phase != .connecting || waiters.isEmpty) {
                actions.append(.close(conn))
            } else if e.phase != .connecting {
                e.phase = .draining
                entries[conn] = e
            }
        }
        return actions
    }

    public mutating func resume() {
        isDraining = false
    }

    // MARK: - Helpers

    private mutating func remove(_ conn: Conn) {
        entries[conn] = nil
        order.removeAll { $0 == conn }
    }

    /// Waiters go, in order, to connections with room; if some still wait
    /// and no connection is on the way, one more is opened.
    private mutating func serveWaiters() -> [Action] {
        var actions: [Action] = []
        while !waiters.isEmpty, let conn = readyConnection {
            take(conn)
            actions.append(.open(waiters.removeFirst(), conn))
        }
        if !waiters.isEmpty && !isConnecting { actions.append(.connect) }
        return actions
    }
}
