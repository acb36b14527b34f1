import Testing
@testable import RemoraUpstream

/// The HTTP/2 pool's decisions, without sockets: multiplexing up to the
/// peer's and the cluster's stream limits, max_requests_per_connection,
/// GOAWAY, connect failures, draining.
@Suite struct HTTP2PoolStateTests {
    typealias Pool = HTTP2PoolState<Int, String>

    func pool(streams: Int = Int(Int32.max), perConnection: Int = 0) -> Pool {
        Pool(limits: .init(maxConcurrentStreams: streams, maxRequestsPerConnection: perConnection))
    }

    /// A pool with connection 1 up and `n` streams open on it.
    func ready(_ p: inout Pool, streams n: Int = 0) {
        #expect(p.request("first", mayQueue: true) == [.queued, .connect])
        p.connecting(1)
        #expect(p.connected(1) == [.open("first", 1)])
        for i in 1..<max(n, 1) { #expect(p.request("s\(i)", mayQueue: true) == [.open("s\(i)", 1)]) }
        if n == 0 { _ = p.streamEnded(1) }
    }

    @Test func requestsWaitForTheFirstConnectionThenShareIt() {
        var p = pool()
        #expect(p.request("a", mayQueue: true) == [.queued, .connect])
        p.connecting(1)
        // One connect on the way is enough for the next ones.
        #expect(p.request("b", mayQueue: true) == [.queued])
        #expect(p.connected(1) == [.open("a", 1), .open("b", 1)])
        #expect(p.request("c", mayQueue: true) == [.open("c", 1)])
        #expect(p.activeStreams(on: 1) == 3)
        #expect(p.connectionCount == 1)
    }

    @Test func openOnReadyTakesAStreamOnlyWhereOneFits() {
        var p = pool(streams: 2)
        #expect(p.openOnReady() == nil)
        ready(&p, streams: 1)
        #expect(p.openOnReady() == 1)
        #expect(p.activeStreams(on: 1) == 2)
        // Full: nothing taken, and `request` queues as before.
        #expect(p.openOnReady() == nil)
        #expect(p.activeStreams(on: 1) == 2)
        #expect(p.request("x", mayQueue: true) == [.queued, .connect])
    }

    @Test func noQueueRoomIsAnOverflow() {
        var p = pool()
        #expect(p.request("a", mayQueue: false) == [.overflow])
        #expect(p.waiters.isEmpty)
    }

    @Test func peerSettingsLimitStreamsAndMoreConnectionsOpen() {
        var p = pool()
        ready(&p, streams: 2)
        #expect(p.settings(1, maxConcurrentStreams: 2) == [])
        #expect(p.request("c", mayQueue: true) == [.queued, .connect])
        p.connecting(2)
        #expect(p.connected(2) == [.open("c", 2)])
        // A stream ending on 1 makes room there first (the older connection).
        #expect(p.streamEnded(1) == [])
        #expect(p.request("d", mayQueue: true) == [.open("d", 1)])
    }

    @Test func clusterMaxConcurrentStreamsCaps() {
        var p = pool(streams: 1)
        ready(&p, streams: 1)
        #expect(p.request("b", mayQueue: true) == [.queued, .connect])
        p.connecting(2)
        // Raising the peer's limit does not lift the cluster's.
        #expect(p.settings(1, maxConcurrentStreams: 100) == [])
        #expect(p.streamEnded(1) == [.open("b", 1)])
    }

    @Test func lastAllowedRequestDrainsThenCloses() {
        var p = pool(perConnection: 2)
        ready(&p, streams: 2)
        #expect(p.phase(of: 1) == .draining)
        #expect(p.request("c", mayQueue: true) == [.queued, .connect])
        p.connecting(2)
        #expect(p.connected(2) == [.open("c", 2)])
        #expect(p.streamEnded(1) == [])
        #expect(p.streamEnded(1) == [.close(1)])
        #expect(p.closed(1) == [])
        #expect(p.connectionCount == 1)
    }

    @Test func goAwayMovesNewStreamsElsewhere() {
        var p = pool()
        ready(&p, streams: 1)
        #expect(p.goAway(1) == [])
        #expect(p.phase(of: 1) == .draining)
        #expect(p.request("b", mayQueue: true) == [.queued, .connect])
        p.connecting(2)
        #expect(p.connected(2) == [.open("b", 2)])
        // The stream in flight below the last id finishes; then the connection closes.
        #expect(p.streamEnded(1) == [.close(1)])
    }

    @Test func goAwayOnAnIdleConnectionClosesIt() {
        var p = pool()
        ready(&p)
        #expect(p.goAway(1) == [.close(1)])
    }

    @Test func failedConnectFailsItsWaitersUnlessAnotherCanServe() {
        var p = pool()
        _ = p.request("a", mayQueue: true)
        _ = p.request("b", mayQueue: true)
        p.connecting(1)
        #expect(p.connectFailed(1) == [.fail(["a", "b"])])
        #expect(p.isEmpty)

        // With a ready connection that gains room, waiters go there instead.
        var q = pool()
        ready(&q, streams: 1)
        _ = q.settings(1, maxConcurrentStreams: 1)
        #expect(q.request("b", mayQueue: true) == [.queued, .connect])
        q.connecting(2)
        _ = q.streamEnded(1)  // served "b" on 1
        #expect(q.connectFailed(2) == [])
        #expect(q.waiters.isEmpty)
    }

    @Test func closedConnectionWithWaitersOpensAnother() {
        var p = pool()
        ready(&p, streams: 1)
        _ = p.settings(1, maxConcurrentStreams: 1)
        #expect(p.request("b", mayQueue: true) == [.queued, .connect])
        p.connecting(2)
        #expect(p.closed(2) == [.connect])
        #expect(p.waiters == ["b"])
    }

    @Test func cancelledWaiterIsNotServed() {
        var p = pool()
        _ = p.request("a", mayQueue: true)
        p.cancel("a")
        p.connecting(1)
        #expect(p.connected(1) == [])
    }

    @Test func drainClosesIdleKeepsBusyUntilDone() {
        var p = pool()
        ready(&p, streams: 1)
        _ = p.settings(1, maxConcurrentStreams: 1)
        _ = p.request("b", mayQueue: true)
        p.connecting(2)
        _ = p.connected(2)  // "b" on 2
        _ = p.streamEnded(2)  // 2 idle
        #expect(p.drain() == [.close(2)])
        #expect(p.phase(of: 1) == .draining)
        #expect(p.streamEnded(1) == [.close(1)])
        _ = p.closed(1)
        _ = p.closed(2)
        #expect(p.isEmpty && p.isDraining)
    }
}
