/// The decisions of an HTTP/1.1 connection pool for one upstream host, as a
/// plain state machine: events in, `Action`s out, no sockets. The pool
/// (`HTTP1ConnectionPool`) performs the actions.
///
/// HTTP/1.1 carries one request at a time per connection, so each request
/// either takes an idle connection, waits for one being opened, or, past
/// the circuit breakers, overflows. Connections are identified by `ID`;
/// waiting requests by `Waiter`.
public struct HTTP1PoolState<ID: Hashable, Waiter: Hashable> {
    public struct Limits: Sendable, Equatable {
        /// Connections this pool may hold open (cluster `max_connections`, as a per-pool budget).
        public var maxConnections: Int
        /// Requests that may wait for a connection (`max_pending_requests`).
        public var maxPending: Int
        /// Requests a connection serves before it is closed (`max_requests_per_connection`, 0 = unlimited).
        public var maxRequestsPerConnection: Int

        public init(maxConnections: Int, maxPending: Int, maxRequestsPerConnection: Int) {
            self.maxConnections = maxConnections
            self.maxPending = maxPending
            self.maxRequestsPerConnection = maxRequestsPerConnection
        }
    }

    public enum Action: Equatable {
        /// Send the waiter's request on this idle connection.
        case assign(Waiter, ID)
        /// Open a new connection (the waiter is queued until it is ready).
        case connect
        /// The waiter is queued; nothing else to do.
        case queued
        /// No connection and no room to wait: answer 503 (UO).
        case overflow(Waiter)
        /// Close this connection (spent, or not reusable).
        case close(ID)
        /// Park this connection as idle (start its idle timer).
        case park(ID)
        /// Connecting failed and these waiters have no other connection coming: fail them.
        case fail([Waiter])
    }

    private enum ConnectionState: Equatable {
        case connecting
        case idle
        case busy
    }

    private struct ConnectionInfo {
        var state: ConnectionState
        var served: Int
    }

    private var connections: [ID: ConnectionInfo] = [:]
    /// Idle connections, most recently used last (reused first: warm, likely alive).
    private var idle: [ID] = []
    private var waiters: [Waiter] = []
    private var connectingCount = 0
    public var limits: Limits

    public init(limits: Limits) {
        self.limits = limits
    }

    public var connectionCount: Int { connections.count }
    public var pendingCount: Int { waiters.count }
    public var idleCount: Int { idle.count }

    /// A request wants a connection. `mayQueue` and `mayConnect` are the
    /// cluster-wide circuit breakers (`max_pending_requests`,
    /// `max_connections`), which span every host and worker.
    public mutating func request(_ waiter: Waiter, mayQueue: Bool = true, mayConnect: Bool = true) -> Action {
        if let id = idle.popLast() {
            let served = connections[id]?.served ?? 0
            connections[id] = ConnectionInfo(state: .busy, served: served + 1)
            return .assign(waiter, id)
        }
        guard waiters.count < limits.maxPending, mayQueue else {
            return .overflow(waiter)
        }
        waiters.append(waiter)
        // At most one connection opening per waiting request.
        if mayConnect && connections.count < limits.maxConnections && connectingCount < waiters.count {
            return .connect
        }
        return .queued
    }

    /// The pool began opening connection `id` (after a `.connect`).
    public mutating func connecting(_ id: ID) {
        connections[id] = ConnectionInfo(state: .connecting, served: 0)
        connectingCount += 1
    }

    /// Connection `id` is up.
    public mutating func connected(_ id: ID) -> Action {
        guard connections[id]?.state == .connecting else { return .close(id) }
        connectingCount -= 1
        return handOut(id)
    }

    /// Connecting `id` failed. Waiters beyond the connections still opening fail.
    public mutating func connectFailed(_ id: ID) -> Action {
        guard connections.removeValue(forKey: id) != nil else { return .fail([]) }
        connectingCount -= 1
        let uncovered = waiters.count - connectingCount - idle.count
        guard uncovered > 0 else { return .fail([]) }
        let failed = Array(waiters.prefix(uncovered))
        waiters.removeFirst(uncovered)
        return .fail(failed)
    }

    /// The request on `id` finished. `reusable` is false when the response
    /// said `close`, was not fully read, or the connection broke.
    public mutating func released(_ id: ID, reusable: Bool) -> Action {
        guard let entry = connections[id], entry.state == .busy else { return .close(id) }
        let spent = limits.maxRequestsPerConnection > 0 && entry.served >= limits.maxRequestsPerConnection
        if !reusable || spent {
            connections[id] = nil
            return .close(id)
        }
        return handOut(id)
    }

    /// Connection `id` closed (by the peer, an idle timeout, or us).
    /// If waiters remain and there is room, another connection is opened.
    public mutating func closed(_ id: ID, mayConnect: Bool = true) -> Action? {
        if let entry = connections.removeValue(forKey: id) {
            if entry.state == .connecting { connectingCount -= 1 }
            idle.removeAll { $0 == id }
        }
        if mayConnect && waiters.count > connectingCount && connections.count < limits.maxConnections {
            return .connect
        }
        return nil
    }

    /// A waiting request gave up (downstream reset, timeout).
    public mutating func cancel(_ waiter: Waiter) {
        waiters.removeAll { $0 == waiter }
    }

    private mutating func handOut(_ id: ID) -> Action {
        if !waiters.isEmpty {
            let waiter = waiters.removeFirst()
            connections[id] = ConnectionInfo(state: .busy, served: (connections[id]?.served ?? 0) + 1)
            return .assign(waiter, id)
        }
        if let served = connections[id]?.served { connections[id] = ConnectionInfo(state: .idle, served: served) }
        idle.append(id)
        return .park(id)
    }
}
