/// The decisions of an HTTP/1.1 connection pool for one upstream host, as a
/// plain state machine: events in, `Action`s out, no sockets. The pool
/// (`HTTP1ConnectionPool`) performs the actions.
///
/// HTTP/1.1 carries one request at a time per connection, so each request
/// either takes an idle connection, waits for one being opened, or, past
/// the circuit breakers, overflows. Connections are identified by `ID`;
/// waiting requests by `Waiter`.
///
/// Every connection the state knows holds one of the cluster's
/// `max_connections` slots, from `connecting` until it leaves: through
/// `connectFailed`, `closed` or a `.cancelConnect` action. The leaving says
/// so once (`Departure.releasesSlot`, or the action itself), whatever order
/// the events come in, so the pool gives each slot back exactly once.
///
/// Draining (the host left the cluster): idle connections close, connects
/// that nobody waits for are abandoned, requests in flight and waiting
/// ones finish, and a connection that comes free closes instead of idling.
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
        /// Close this connection (spent, not reusable, or the pool drains).
        case close(ID)
        /// Park this connection as idle (start its idle timer).
        case park(ID)
        /// Connecting failed and these waiters have no other connection coming: fail them.
        case fail([Waiter])
        /// Abandon opening this connection: the pool drains and nobody waits
        /// for it. The state has forgotten it, so its slot is free now.
        case cancelConnect(ID)
    }

    /// A connection left the pool (closed, or its connect failed).
    public struct Departure: Equatable {
        /// It held a `max_connections` slot, which is free now: give it back.
        /// True once per connection, however often its end is reported.
        public var releasesSlot: Bool
        /// What follows: waiters to fail, or another connection to open.
        public var then: Action?
        /// The requests an established connection carried (Envoy's
        /// `upstream_rq_per_cx`); nil for one that never connected.
        public var servedRequests: Int?

        public init(releasesSlot: Bool, then: Action?, servedRequests: Int? = nil) {
            self.releasesSlot = releasesSlot
            self.then = then
            self.servedRequests = servedRequests
        }
    }

    private enum ConnectionState: Equatable {
        case connecting
        case idle
        case busy
        /// Told to close; it keeps its slot until `closed` reports it gone.
        case closing
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
    public private(set) var isDraining = false
    public var limits: Limits

    public init(limits: Limits) {
        self.limits = limits
    }

    public var connectionCount: Int { connections.count }
    public var pendingCount: Int { waiters.count }
    public var idleCount: Int { idle.count }
    /// Nothing open, opening or waiting: a draining pool in this state is done.
    public var isEmpty: Bool { connections.isEmpty && waiters.isEmpty }
    /// More requests wait than connections are being opened for them.
    public var needsConnection: Bool { waiters.count > connectingCount }

    /// A request wants a connection. `mayQueue` and `mayConnect` are the
    /// cluster-wide circuit breakers (`max_pending_requests`,
    /// `max_connections`), which span every host and worker. A pool with no
    /// connection at all opens one even past `max_connections`, as Envoy's
    /// does, so that its requests do not wait on other hosts' connections.
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
        if mayOpen(mayConnect) && connections.count < limits.maxConnections && needsConnection {
            return .connect
        }
        return .queued
    }

    /// The pool began opening connection `id` (after a `.connect`), having
    /// taken a `max_connections` slot for it.
    public mutating func connecting(_ id: ID) {
        precondition(connections[id] == nil, "connection id reused")
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
    public mutating func connectFailed(_ id: ID) -> Departure {
        // Only a connect in progress can fail (a late or repeated report is ignored).
        guard connections[id]?.state == .connecting else { return Departure(releasesSlot: false, then: nil) }
        connections[id] = nil
        connectingCount -= 1
        let uncovered = waiters.count - connectingCount - idle.count
        guard uncovered > 0 else { return Departure(releasesSlot: true, then: nil) }
        let failed = Array(waiters.prefix(uncovered))
        waiters.removeFirst(uncovered)
        return Departure(releasesSlot: true, then: .fail(failed))
    }

    /// The request on `id` finished. `reusable` is false when the response
    /// said `close`, was not fully read, or the connection broke.
    public mutating func released(_ id: ID, reusable: Bool) -> Action {
        guard let entry = connections[id], entry.state == .busy else { return .close(id) }
        let spent = limits.maxRequestsPerConnection > 0 && entry.served >= limits.maxRequestsPerConnection
        if !reusable || spent {
            set(id, .closing)
            return .close(id)
        }
        return handOut(id)
    }

    /// `id` was assigned, but the request could not be attached to it
    /// (`max_requests` reached): the connection is free again, unused.
    public mutating func unassign(_ id: ID) -> Action {
        guard let entry = connections[id], entry.state == .busy else { return .close(id) }
        connections[id] = ConnectionInfo(state: entry.state, served: max(0, entry.served - 1))
        return handOut(id)
    }

    /// Connection `id` closed (by the peer, an idle timeout, or us).
    /// If waiters remain and there is room, another connection is opened.
    public mutating func closed(_ id: ID, mayConnect: Bool = true) -> Departure {
        var releasesSlot = false
        var served: Int?
        if let entry = connections.removeValue(forKey: id) {
            releasesSlot = true
            if entry.state == .connecting { connectingCount -= 1 } else { served = entry.served }
            if entry.state == .idle { idle.removeAll { $0 == id } }
        }
        let then: Action? = mayOpen(mayConnect) && needsConnection && connections.count < limits.maxConnections ? .connect : nil
        return Departure(releasesSlot: releasesSlot, then: then, servedRequests: served)
    }

    /// A waiting request gave up (downstream reset, timeout). In a draining
    /// pool, a connect that nobody waits for any more is abandoned.
    public mutating func cancel(_ waiter: Waiter) -> Action? {
        guard let index = waiters.firstIndex(of: waiter) else { return nil }
        waiters.remove(at: index)
        return isDraining ? abandonSurplusConnect() : nil
    }

    /// The host left the cluster. Returns what to do now: close the idle
    /// connections, abandon connects beyond the waiting requests.
    public mutating func drain() -> [Action] {
        isDraining = true
        var actions: [Action] = []
        for id in idle {
            set(id, .closing)
            actions.append(.close(id))
        }
        idle.removeAll()
        while let action = abandonSurplusConnect() { actions.append(action) }
        return actions
    }

    /// The host is back in the cluster: the pool serves as before (whatever
    /// already closed stays closed).
    public mutating func resume() {
        isDraining = false
    }

    private func mayOpen(_ mayConnect: Bool) -> Bool {
        mayConnect || connections.isEmpty
    }

    private mutating func abandonSurplusConnect() -> Action? {
        guard connectingCount > waiters.count,
              let id = connections.first(where: { $0.value.state == .connecting })?.key else { return nil }
        connections[id] = nil
        connectingCount -= 1
        return .cancelConnect(id)
    }

    /// Get and set, not `connections[id]?.state = ...`: the dictionary's
    /// `_modify` accessor through an optional costs three heap allocations
    /// (coroutine frames) per call, and this runs once per request.
    private mutating func set(_ id: ID, _ state: ConnectionState) {
        guard let entry = connections[id] else { return }
        connections[id] = ConnectionInfo(state: state, served: entry.served)
    }

    private mutating func handOut(_ id: ID) -> Action {
        if !waiters.isEmpty {
            let waiter = waiters.removeFirst()
            connections[id] = ConnectionInfo(state: .busy, served: (connections[id]?.served ?? 0) + 1)
            return .assign(waiter, id)
        }
        if isDraining {
            set(id, .closing)
            return .close(id)
        }
        set(id, .idle)
        idle.append(id)
        return .park(id)
    }
}
