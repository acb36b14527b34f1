import Testing
@testable import RemoraUpstream

@Suite struct HTTP1PoolStateTests {
    typealias Pool = HTTP1PoolState<Int, String>

    func pool(maxConnections: Int = 2, maxPending: Int = 10, perConnection: Int = 0) -> Pool {
        Pool(limits: .init(maxConnections: maxConnections, maxPending: maxPending, maxRequestsPerConnection: perConnection))
    }

    @Test func firstRequestOpensAConnectionAndGetsIt() {
        var p = pool()
        #expect(p.request("a") == .connect)
        p.connecting(1)
        #expect(p.connected(1) == .assign("a", 1))
        #expect(p.released(1, reusable: true) == .park(1))
        #expect(p.idleCount == 1)
    }

    @Test func idleConnectionIsReused() {
        var p = pool()
        _ = p.request("a"); p.connecting(1); _ = p.connected(1); _ = p.released(1, reusable: true)
        #expect(p.request("b") == .assign("b", 1))
        #expect(p.connectionCount == 1)
    }

    @Test func notReusableIsClosed() {
        var p = pool()
        _ = p.request("a"); p.connecting(1); _ = p.connected(1)
        #expect(p.released(1, reusable: false) == .close(1))
        #expect(p.connectionCount == 0)
    }

    @Test func maxRequestsPerConnectionClosesSpentConnection() {
        var p = pool(perConnection: 2)
        _ = p.request("a"); p.connecting(1); _ = p.connected(1)
        #expect(p.released(1, reusable: true) == .park(1))
        #expect(p.request("b") == .assign("b", 1))
        #expect(p.released(1, reusable: true) == .close(1))
    }

    @Test func waitersQueueAtMaxConnectionsAndOverflowPastMaxPending() {
        var p = pool(maxConnections: 1, maxPending: 2)
        #expect(p.request("a") == .connect)
        p.connecting(1)
        #expect(p.request("b") == .queued)
        #expect(p.request("c") == .overflow("c"))
        #expect(p.connected(1) == .assign("a", 1))
        #expect(p.released(1, reusable: true) == .assign("b", 1))
    }

    @Test func releasedConnectionGoesToNextWaiter() {
        var p = pool(maxConnections: 1)
        _ = p.request("a"); p.connecting(1); _ = p.connected(1)
        #expect(p.request("b") == .queued)
        #expect(p.released(1, reusable: true) == .assign("b", 1))
    }

    @Test func connectFailureFailsUncoveredWaiters() {
        var p = pool(maxConnections: 1)
        _ = p.request("a"); p.connecting(1)
        _ = p.request("b")
        #expect(p.connectFailed(1) == .fail(["a", "b"]))
        #expect(p.pendingCount == 0)
    }

    @Test func closeOfBusyConnectionOpensAnotherForWaiters() {
        var p = pool(maxConnections: 1)
        _ = p.request("a"); p.connecting(1); _ = p.connected(1)
        _ = p.request("b")
        #expect(p.closed(1) == .connect)
        p.connecting(2)
        #expect(p.connected(2) == .assign("b", 2))
    }

    @Test func clusterBreakersOverflowAndHold() {
        var p = pool()
        #expect(p.request("a", mayQueue: false) == .overflow("a"))
        #expect(p.request("b", mayConnect: false) == .queued)
        #expect(p.closed(99, mayConnect: true) == .connect)
    }

    @Test func cancelledWaiterIsForgotten() {
        var p = pool(maxConnections: 1)
        _ = p.request("a"); p.connecting(1)
        p.cancel("a")
        #expect(p.connected(1) == .park(1))
    }
}
