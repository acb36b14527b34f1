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
        // Closing: it holds its `max_connections` slot until the socket is gone.
        #expect(p.connectionCount == 1)
        #expect(p.closed(1).releasesSlot)
        #expect(p.connectionCount == 0)
    }

    @Test func maxRequestsPerConnectionClosesSpentConnection() {
        var p = pool(perConnection: 2)
        _ = p.request("a"); p.connecting(1); _ = p.connected(1)
        #expect(p.released(1, reusable: true) == .park(1))
        #expect(p.request("b") == .assign("b", 1))
        #expect(p.released(1, reusable: true) == .close(1))
    }

    /// Envoy's `upstream_rq_per_cx`: a connection that was up reports the
    /// requests it carried when it leaves; one that never connected, none.
    @Test func closedConnectionReportsTheRequestsItServed() {
        var p = pool()
        _ = p.request("a"); p.connecting(1); _ = p.connected(1)
        _ = p.released(1, reusable: true)
        _ = p.request("b")
        _ = p.released(1, reusable: true)
        _ = p.request("c")
        #expect(p.released(1, reusable: false) == .close(1))
        #expect(p.closed(1).servedRequests == 3)
        p.connecting(2)
        #expect(p.closed(2).servedRequests == nil)
        _ = p.request("d"); p.connecting(3); _ = p.connected(3)
        #expect(p.unassign(3) == .park(3))
        #expect(p.closed(3).servedRequests == 0)
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
        #expect(p.connectFailed(1) == .init(releasesSlot: true, then: .fail(["a", "b"])))
        #expect(p.pendingCount == 0)
    }

    @Test func closeOfBusyConnectionOpensAnotherForWaiters() {
        var p = pool(maxConnections: 1)
        _ = p.request("a"); p.connecting(1); _ = p.connected(1)
        _ = p.request("b")
        #expect(p.closed(1) == .init(releasesSlot: true, then: .connect, servedRequests: 1))
        p.connecting(2)
        #expect(p.connected(2) == .assign("b", 2))
    }

    @Test func clusterBreakersOverflowAndHold() {
        var p = pool()
        #expect(p.request("a", mayQueue: false) == .overflow("a"))
        _ = p.request("x"); p.connecting(1); _ = p.connected(1)
        #expect(p.request("b", mayConnect: false) == .queued)
        #expect(p.closed(99, mayConnect: true) == .init(releasesSlot: false, then: .connect))
    }

    @Test func poolWithoutConnectionsOpensOnePastTheClusterLimit() {
        var p = pool()
        #expect(p.request("a", mayConnect: false) == .connect)
        p.connecting(1)
        #expect(p.request("b", mayConnect: false) == .queued)
        // Its only connection closed: it may open one again.
        #expect(p.closed(1, mayConnect: false) == .init(releasesSlot: true, then: .connect))
    }

    @Test func cancelledWaiterIsForgotten() {
        var p = pool(maxConnections: 1)
        _ = p.request("a"); p.connecting(1)
        #expect(p.cancel("a") == nil)
        #expect(p.connected(1) == .park(1))
    }

    // MARK: - max_connections slots: given back once, in any order

    @Test func slotOfAClosedConnectionIsReleasedOnceEvenIfItsEndIsReportedTwice() {
        var p = pool()
        _ = p.request("a"); p.connecting(1); _ = p.connected(1)
        #expect(p.released(1, reusable: false) == .close(1))
        // Still holds its slot until the socket is gone.
        #expect(p.connectionCount == 1)
        #expect(p.closed(1).releasesSlot)
        #expect(!p.closed(1).releasesSlot)
        #expect(!p.connectFailed(1).releasesSlot)
        #expect(p.isEmpty)
    }

    @Test func failedConnectReleasesItsSlotOnce() {
        var p = pool()
        _ = p.request("a"); p.connecting(1)
        #expect(p.connectFailed(1) == .init(releasesSlot: true, then: .fail(["a"])))
        #expect(!p.connectFailed(1).releasesSlot)
        #expect(!p.closed(1).releasesSlot)
    }

    @Test func drainAbandonsAConnectNobodyWaitsFor() {
        var p = pool()
        _ = p.request("a"); p.connecting(1)
        #expect(p.cancel("a") == nil)
        // The abandoned connect's slot is free at once (the action says so) ...
        #expect(p.drain() == [.cancelConnect(1)])
        #expect(p.isEmpty)
        // ... and whatever it reports later releases nothing more.
        #expect(p.connected(1) == .close(1))
        #expect(!p.closed(1).releasesSlot)
        #expect(!p.connectFailed(1).releasesSlot)
    }

    @Test func waiterCancelledInADrainingPoolAbandonsItsConnect() {
        var p = pool()
        _ = p.request("a"); p.connecting(1)
        #expect(p.drain() == [])
        #expect(p.cancel("a") == .cancelConnect(1))
        #expect(p.isEmpty)
    }

    /// Random interleavings of every event (including late and repeated
    /// reports, drains and resumes): slots taken always equal slots given
    /// back once every connection is gone, and never fall below them.
    @Test func slotsBalanceInAnyOrderOfEvents() {
        for seed in 1...300 {
            var rng = XorShift(seed: UInt64(seed))
            var p = pool(maxConnections: 3, maxPending: 4, perConnection: 3)
            var taken = 0, given = 0, nextID = 0, nextWaiter = 0
            var ids: [Int] = [], waiting: [String] = []
            func apply(_ action: Pool.Action?) {
                switch action {
                case .connect?:
                    nextID += 1; ids.append(nextID); p.connecting(nextID); taken += 1
                case .cancelConnect?:
                    given += 1
                case .fail(let ws)?:
                    waiting.removeAll { ws.contains($0) }
                case .assign(let w, _)?, .overflow(let w)?:
                    waiting.removeAll { $0 == w }
                default:
                    break
                }
            }
            func depart(_ d: Pool.Departure) {
                if d.releasesSlot { given += 1 }
                apply(d.then)
            }
            for _ in 0..<60 {
                let id = ids.isEmpty ? 0 : ids[Int(rng.next() % UInt64(ids.count))]
                switch rng.next() % 9 {
                case 0, 1:
                    nextWaiter += 1
                    let w = "w\(nextWaiter)"
                    waiting.append(w)
                    apply(p.request(w, mayConnect: rng.next() % 4 != 0))
                case 2: apply(p.connected(id))
                case 3: depart(p.connectFailed(id))
                case 4: apply(p.released(id, reusable: rng.next() % 2 == 0))
                case 5: depart(p.closed(id))
                case 6: if let w = waiting.first { waiting.removeFirst(); apply(p.cancel(w)) }
                case 7: for a in p.drain() { apply(a) }
                default: p.resume()
                }
                #expect(given <= taken, "seed \(seed): more slots given back than taken")
            }
            for w in waiting { apply(p.cancel(w)) }
            waiting.removeAll()
            var index = 0
            while index < ids.count {  // closing can open more for waiters (none are left)
                depart(p.closed(ids[index]))
                index += 1
            }
            #expect(taken == given, "seed \(seed): \(taken) slots taken, \(given) given back")
            #expect(p.connectionCount == 0)
        }
    }

    // MARK: - Draining

    @Test func drainClosesIdleConnectionsAndClosesConnectionsThatComeFree() {
        var p = pool()
        _ = p.request("a"); p.connecting(1); _ = p.connected(1)
        _ = p.request("b"); p.connecting(2); _ = p.connected(2)
        #expect(p.released(1, reusable: true) == .park(1))
        #expect(p.drain() == [.close(1)])
        // The request in flight finishes; its connection is not kept idle.
        #expect(p.released(2, reusable: true) == .close(2))
        #expect(p.closed(1).releasesSlot && p.closed(2).releasesSlot)
        #expect(p.isEmpty)
    }

    @Test func drainingPoolStillServesItsWaiters() {
        var p = pool(maxConnections: 1)
        _ = p.request("a"); p.connecting(1)
        _ = p.request("b")
        #expect(p.drain() == [])
        #expect(p.connected(1) == .assign("a", 1))
        #expect(p.released(1, reusable: true) == .assign("b", 1))
        #expect(p.released(1, reusable: true) == .close(1))
    }

    @Test func resumedPoolParksAgain() {
        var p = pool()
        _ = p.request("a"); p.connecting(1); _ = p.connected(1)
        _ = p.drain()
        p.resume()
        #expect(!p.isDraining)
        #expect(p.released(1, reusable: true) == .park(1))
        #expect(p.request("b") == .assign("b", 1))
    }

    @Test func unassignedConnectionGoesToTheNextWaiterOrIdles() {
        var p = pool(perConnection: 3)
        _ = p.request("a"); p.connecting(1); _ = p.connected(1)
        #expect(p.released(1, reusable: true) == .park(1))
        #expect(p.request("b") == .assign("b", 1))
        // Attaching "b" was refused: the connection served nobody for it.
        #expect(p.unassign(1) == .park(1))
        #expect(p.request("c") == .assign("c", 1))
        // Two requests served, not three: not spent yet.
        #expect(p.released(1, reusable: true) == .park(1))
    }
}

/// A small deterministic generator for the interleaving test (xorshift64).
struct XorShift {
    private var state: UInt64
    init(seed: UInt64) { state = seed &* 0x2545_F491_4F6C_DD1D | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
