import Testing
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
@testable import RemoraUpstream

/// The pool with real sockets on one loop (127.0.0.1 only): every
/// `max_connections` slot it takes comes back, whichever order the pool's
/// owner, the requester and the connect finish in.
@Suite struct HTTP1ConnectionPoolTests {
    final class Requester: HTTP1PoolRequester {
        var provided: [Connection] = []
        var failures: [HTTP1ConnectionPool.Failure] = []
        var onProvide: ((HTTP1ConnectionPool, Connection) -> Void)?

        func pool(_ pool: HTTP1ConnectionPool, didProvide connection: Connection) {
            provided.append(connection)
            onProvide?(pool, connection)
        }

        func pool(_ pool: HTTP1ConnectionPool, didFail failure: HTTP1ConnectionPool.Failure) {
            failures.append(failure)
        }
    }

    struct Fixture {
        let loop: EventLoop
        let resources: ClusterResources
        let scope: StatScope
        let stats: Stats<ClusterStat>

        init(limits: ClusterResources.Limits = .envoyDefaults) throws {
            loop = try EventLoop()
            resources = ClusterResources(limits: limits)
            scope = ClusterStat.makeScope(cluster: "c", in: StatsStore(workerCount: 1))
            stats = scope.stats(ClusterStat.self, thread: 0)
        }

        func pool(to host: SocketAddress, idleTimeoutMilliseconds: UInt64 = 0) -> HTTP1ConnectionPool {
            HTTP1ConnectionPool(loop: loop, host: host, connectTimeoutMilliseconds: 2_000,
                                idleTimeoutMilliseconds: idleTimeoutMilliseconds, maxRequestsPerConnection: 0,
                                bufferLimitBytes: 1 << 20, resources: resources, stats: stats)
        }

        /// A pool to a fresh accepting port, counting its `onDrained` calls.
        func drainablePool() throws -> (HTTP1ConnectionPool, Acceptor, drained: () -> Int) {
            let upstream = try Acceptor(loop: loop)
            let pool = pool(to: upstream.listener.boundAddress)
            var count = 0
            pool.onDrained = { _ in count += 1 }
            return (pool, upstream, { count })
        }

        func stat(_ name: String) -> Int64 { scope.value(named: name) ?? -1 }

        /// Runs the loop (once per loop: `stop()` closes every handle), doing
        /// each step at its time after the start, and stops after the last.
        func run(_ steps: [(milliseconds: UInt64, body: () -> Void)]) {
            var timers: [Timer] = []
            for (index, step) in steps.enumerated() {
                let timer = Timer(loop: loop)
                timers.append(timer)
                timer.start(afterMilliseconds: step.milliseconds) {
                    step.body()
                    if index == steps.count - 1 { loop.stop() }
                }
            }
            loop.run()
        }
    }

    /// A port on 127.0.0.1 that accepts (and holds) connections.
    final class Acceptor {
        let listener: Listener
        var accepted: [Connection] = []
        init(loop: EventLoop) throws {
            listener = try Listener.bind(loop: loop, address: .ip("127.0.0.1", port: 0)!, reusePort: false)
            try listener.startAccepting { [weak self] connection in self?.accepted.append(connection) }
        }
    }

    /// A port on 127.0.0.1 where nothing listens (connects are refused).
    func refusedAddress(_ loop: EventLoop) throws -> SocketAddress {
        let listener = try Listener.bind(loop: loop, address: .ip("127.0.0.1", port: 0)!, reusePort: false)
        let address = listener.boundAddress
        listener.stopAccepting()
        return address
    }

    @Test func connectFailingAfterTheOwnerDroppedThePoolGivesItsSlotBack() throws {
        let f = try Fixture()
        var pool: HTTP1ConnectionPool? = f.pool(to: try refusedAddress(f.loop))
        let requester = Requester()
        guard case .pending(let ticket) = pool!.request(for: requester) else { Issue.record("expected a connect"); return }
        #expect(f.resources.count(.connections) == 1)
        pool!.cancel(ticket)
        pool = nil
        f.run([(300, {
            #expect(f.resources.count(.connections) == 0)
            #expect(f.stat("upstream_cx_active") == 0)
            #expect(f.stat("upstream_cx_connect_fail") == 1)
        })])
    }

    @Test func connectSucceedingAfterTheOwnerDroppedThePoolGivesItsSlotBack() throws {
        let f = try Fixture()
        let upstream = try Acceptor(loop: f.loop)
        var pool: HTTP1ConnectionPool? = f.pool(to: upstream.listener.boundAddress, idleTimeoutMilliseconds: 50)
        let requester = Requester()
        guard case .pending(let ticket) = pool!.request(for: requester) else { Issue.record("expected a connect"); return }
        pool!.cancel(ticket)
        pool = nil
        f.run([(400, {
            // Connected, parked, closed by the idle timeout: nothing left held.
            #expect(upstream.accepted.count == 1)
            #expect(f.resources.count(.connections) == 0)
            #expect(f.stat("upstream_cx_active") == 0)
            #expect(f.stat("upstream_cx_idle_timeout") == 1)
            #expect(requester.provided.isEmpty)
        })])
    }

    @Test func drainingAbandonsAConnectNobodyWaitsForAndReportsDrained() throws {
        let f = try Fixture()
        let (pool, _, drained) = try f.drainablePool()
        let requester = Requester()
        guard case .pending(let ticket) = pool.request(for: requester) else { Issue.record("expected a connect"); return }
        pool.cancel(ticket)
        pool.drain()
        #expect(f.resources.count(.connections) == 0)
        #expect(drained() == 1)
        f.run([(200, {
            #expect(f.resources.count(.connections) == 0)
            #expect(f.stat("upstream_cx_active") == 0)
            #expect(f.stat("upstream_cx_destroy") == 1)
            #expect(requester.provided.isEmpty && requester.failures.isEmpty)
        })])
    }

    @Test func drainingPoolServesItsWaiterThenClosesInsteadOfIdling() throws {
        let f = try Fixture()
        let (pool, upstream, drained) = try f.drainablePool()
        let requester = Requester()
        requester.onProvide = { pool, connection in pool.release(connection, reusable: true) }
        guard case .pending = pool.request(for: requester) else { Issue.record("expected a connect"); return }
        pool.drain()
        f.run([(300, {
            #expect(requester.provided.count == 1 && upstream.accepted.count == 1)
            #expect(pool.totalConnections == 0 && pool.idleConnections == 0)
            #expect(f.resources.count(.connections) == 0)
            #expect(f.stat("upstream_cx_active") == 0)
            #expect(drained() == 1)
        })])
    }

    @Test func resumedPoolKeepsItsConnectionForReuse() throws {
        let f = try Fixture()
        let upstream = try Acceptor(loop: f.loop)
        let pool = f.pool(to: upstream.listener.boundAddress)
        let requester = Requester()
        var held: Connection?
        requester.onProvide = { _, connection in held = connection }
        _ = pool.request(for: requester)
        f.run([(200, {
            pool.drain()
            pool.resume()
            if let held { pool.release(held, reusable: true) }
            #expect(pool.idleConnections == 1)
            guard case .ready = pool.request(for: Requester()) else {
                Issue.record("expected the idle connection")
                return
            }
            #expect(upstream.accepted.count == 1)
        })])
    }

    /// A connection keeps one HTTP/1 client codec across its requests (no
    /// codec per request); a new connection gets a new one.
    @Test func connectionKeepsItsCodecAcrossRequests() throws {
        let f = try Fixture()
        let upstream = try Acceptor(loop: f.loop)
        let pool = f.pool(to: upstream.listener.boundAddress)
        let sink = NullHTTP1Sink()
        let encoder = HTTP1SharedEncoder(HTTP1Encoder())
        let requester = Requester()
        var held: Connection?
        requester.onProvide = { _, connection in held = connection }
        _ = pool.request(for: requester)
        f.run([(200, {
            guard let connection = held else {
                Issue.record("no connection")
                return
            }
            var made = 0
            let make = { () -> HTTP1ClientConnection in
                made += 1
                return HTTP1ClientConnection(encoder: encoder, callbacks: sink)
            }
            let first = pool.codec(for: connection, make: make)
            pool.release(connection, reusable: true)
            guard case .ready(let again) = pool.request(for: Requester()) else {
                Issue.record("expected the idle connection")
                return
            }
            #expect(again === connection && pool.codec(for: again, make: make) === first && made == 1)
            again.close()
            pool.connectionClosed(again)
            _ = pool.codec(for: again, make: make)
            #expect(made == 2)
        })])
    }

    final class NullHTTP1Sink: HTTP1ClientConnectionCallbacks {
        func onHTTP1Output(_ slice: ByteSlice) {}
        func onHTTP1ReadDisable(_ disable: Bool) {}
    }

    // MARK: - max_requests

    @Test func maxRequestsIsCheckedWhenARequestIsAttachedToAConnection() throws {
        var limits = ClusterResources.Limits.envoyDefaults
        limits.maxRequests = 1
        let f = try Fixture(limits: limits)
        let upstream = try Acceptor(loop: f.loop)
        let pool = f.pool(to: upstream.listener.boundAddress)
        let first = Requester(), second = Requester(), third = Requester()
        var held: Connection?
        first.onProvide = { _, connection in held = connection }
        _ = pool.request(for: first)
        f.run([
            (150, {
                // Waits (pending) for a second connection, refused once it is up.
                guard case .pending = pool.request(for: second) else { Issue.record("expected to wait"); return }
            }),
            (300, {
                #expect(second.failures == [.overflow] && second.provided.isEmpty)
                #expect(pool.idleConnections == 1)
                // Refused at once on the idle connection; it stays idle.
                guard case .overflow = pool.request(for: third) else { Issue.record("expected an overflow"); return }
                #expect(pool.idleConnections == 1)
                #expect(f.stat("upstream_rq_active_overflow") == 2)
                #expect(f.stat("upstream_rq_pending_overflow") == 0)
                #expect(f.stat("upstream_rq_total") == 1)
                #expect(f.stat("upstream_rq_pending_total") == 2)
                #expect(f.resources.count(.requests) == 1)
                if let held { pool.release(held, reusable: true) }
                #expect(f.resources.count(.requests) == 0)
                #expect(upstream.accepted.count == 2)
            }),
        ])
    }

    @Test func hostWithoutConnectionsOpensOneWhenOtherHostsHoldEverySlot() throws {
        var limits = ClusterResources.Limits.envoyDefaults
        limits.maxConnections = 1
        let f = try Fixture(limits: limits)
        #expect(f.resources.tryAcquire(.connections))  // another host's connection
        let upstream = try Acceptor(loop: f.loop)
        let pool = f.pool(to: upstream.listener.boundAddress)
        let requester = Requester()
        requester.onProvide = { pool, connection in
            #expect(f.resources.count(.connections) == 2)
            connection.close()
            pool.connectionClosed(connection)
        }
        _ = pool.request(for: requester)
        f.run([(300, {
            #expect(requester.provided.count == 1)
            #expect(f.stat("upstream_cx_overflow") == 1)
            #expect(f.resources.count(.connections) == 1)
        })])
    }
}
