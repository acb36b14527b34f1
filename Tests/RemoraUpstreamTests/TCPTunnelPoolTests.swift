import Testing
import RemoraCore
@testable import RemoraUpstream

/// Envoy's TCP pool circuit breakers for terminated CONNECTs, without sockets.
@Suite struct TCPTunnelPoolTests {
    struct Fixture {
        let resources: ClusterResources
        let scope: StatScope
        let pool: TCPTunnelPool

        init(maxConnections: Int = 1024, maxPending: Int = 1024) {
            resources = ClusterResources(limits: ClusterResources.Limits(
                maxConnections: maxConnections, maxPendingRequests: maxPending, maxRequests: 1024, maxRetries: 3))
            scope = ClusterStat.makeScope(cluster: "c", in: StatsStore(workerCount: 1))
            pool = TCPTunnelPool(resources: resources, stats: scope.stats(ClusterStat.self, thread: 0))
        }

        func stat(_ name: String) -> Int64 { scope.value(named: name) ?? -1 }
    }

    @Test func tunnelsConnectWithinTheLimitAndArePendingUntilConnected() {
        let f = Fixture(maxConnections: 2)
        #expect(f.pool.request({}) == .connect)
        #expect(f.pool.request({}) == .connect)
        #expect(f.stat("upstream_rq_pending_total") == 2)
        #expect(f.stat("upstream_rq_pending_active") == 2)
        #expect(f.resources.count(.connections) == 2)
        f.pool.leavePending()
        f.pool.leavePending()
        #expect(f.stat("upstream_rq_pending_active") == 0)
        #expect(f.resources.count(.pendingRequests) == 0)
        #expect(f.stat("upstream_cx_overflow") == 0)
    }

    @Test func pastMaxConnectionsATunnelWaitsForAClose() {
        let f = Fixture(maxConnections: 1)
        #expect(f.pool.request({}) == .connect)
        f.pool.leavePending()
        var granted = 0
        guard case .queued = f.pool.request({ granted += 1 }) else {
            Issue.record("expected the second tunnel to wait")
            return
        }
        #expect(f.stat("upstream_cx_overflow") == 1)
        #expect(f.pool.waiting == 1 && granted == 0)
        // The first tunnel's connection closes: its slot goes to the waiter.
        f.pool.connectionGone()
        #expect(granted == 1 && f.pool.waiting == 0)
        #expect(f.resources.count(.connections) == 1 && f.pool.connections == 1)
    }

    @Test func aHostWithoutConnectionsGetsOneWhateverTheLimit() {
        // Another host holds the cluster's only connection.
        let f = Fixture(maxConnections: 1)
        #expect(f.resources.tryAcquire(.connections))
        #expect(f.pool.request({}) == .connect)
        #expect(f.stat("upstream_cx_overflow") == 1)
        #expect(f.resources.count(.connections) == 2)
    }

    @Test func pastMaxPendingRequestsATunnelOverflows() {
        let f = Fixture(maxPending: 0)
        #expect(f.pool.request({}) == .overflow)
        #expect(f.stat("upstream_rq_pending_overflow") == 1)
        #expect(f.stat("upstream_rq_pending_total") == 0)
        #expect(f.resources.count(.connections) == 0)
    }

    @Test func aCancelledWaiterIsNotGranted() {
        let f = Fixture(maxConnections: 1)
        #expect(f.pool.request({}) == .connect)
        var granted = false
        guard case .queued(let ticket) = f.pool.request({ granted = true }) else {
            Issue.record("expected the second tunnel to wait")
            return
        }
        f.pool.cancel(ticket)
        f.pool.leavePending()
        f.pool.connectionGone()
        #expect(!granted && f.pool.connections == 0)
        #expect(f.resources.count(.connections) == 0)
    }

    @Test func anIdlePoolSaysSo() {
        let f = Fixture()
        var idle = 0
        f.pool.onIdle = { _ in idle += 1 }
        #expect(f.pool.request({}) == .connect)
        f.pool.leavePending()
        f.pool.connectionGone()
        #expect(idle == 1)
    }
}
