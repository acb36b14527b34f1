import Testing
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
@testable import RemoraUpstream

/// The pool with real sockets on one loop (127.0.0.1 only): every
/// `max_connections` slot it takes comes back, whichever order the pool's
/// owner, the requester and the connect finish in.
@Suite struct HTTP1ConnectionPoolTests {
    /// A stream's holder: it gives its stream back when the response ends
    /// or the stream is reset.
    final class Requester: UpstreamStreamRequester {
        var provided: [any UpstreamStreamConnection] = []
        var failures: [UpstreamPoolFailure] = []
        var resets: [HTTPStreamResetReason] = []
        var stream: (any HTTPRequestEncoder)?
        var connection: (any UpstreamStreamConnection)?
        var onProvide: ((any UpstreamStreamConnection) -> Void)?

        func streamReady(_ stream: any HTTPRequestEncoder, on connection: any UpstreamStreamConnection) {
            self.stream = stream
            self.connection = connection
            provided.append(connection)
            onProvide?(connection)
        }

        func streamFailed(_ failure: UpstreamPoolFailure) {
            failures.append(failure)
        }

        /// A GET and its empty 200 (fed as if read): the connection is fit for reuse.
        func exchange() {
            stream?.encodeHeaders(HTTPHeaders([(":method", "GET"), (":authority", "a"), (":path", "/")]), endStream: true)
            (connection as? HTTP1PoolConnection)?.received(
                ByteSlice(copying: Array("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".utf8)))
        }

        func decode1xxHeaders(_ headers: HTTPHeaders) {}
        func decodeHeaders(_ headers: consuming HTTPHeaders, endStream: Bool) { if endStream { connection?.streamEnded() } }
        func decodeData(_ chunk: ByteSlice, endStream: Bool) { if endStream { connection?.streamEnded() } }
        func decodeTrailers(_ trailers: HTTPHeaders) { connection?.streamEnded() }
        func onResetStream(_ reason: HTTPStreamResetReason) {
            resets.append(reason)
            connection?.streamEnded()
        }
        func onAboveWriteBufferHighWatermark() {}
        func onBelowWriteBufferLowWatermark() {}
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
                                bufferLimitBytes: 1 << 20, resources: resources, stats: stats,
                                encoder: HTTP1SharedEncoder(HTTP1Encoder()))
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
        guard case .pending(let ticket) = pool!.newStream(for: requester) else { Issue.record("expected a connect"); return }
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
        guard case .pending(let ticket) = pool!.newStream(for: requester) else { Issue.record("expected a connect"); return }
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
        guard case .pending(let ticket) = pool.newStream(for: requester) else { Issue.record("expected a connect"); return }
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
        requester.onProvide = { _ in requester.exchange() }
        guard case .pending = pool.newStream(for: requester) else { Issue.record("expected a connect"); return }
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
        _ = pool.newStream(for: requester)
        f.run([(200, {
            pool.drain()
            pool.resume()
            requester.exchange()
            #expect(pool.idleConnections == 1)
            guard case .ready = pool.newStream(for: Requester()) else {
                Issue.record("expected the idle connection")
                return
            }
            #expect(upstream.accepted.count == 1)
        })])
    }

    /// A connection keeps one HTTP/1 client codec across its requests (no
    /// codec per request): the idle connection's next stream is the same
    /// codec on the same connection.
    @Test func connectionKeepsItsCodecAcrossRequests() throws {
        let f = try Fixture()
        let upstream = try Acceptor(loop: f.loop)
        let pool = f.pool(to: upstream.listener.boundAddress)
        let first = Requester()
        _ = pool.newStream(for: first)
        f.run([(200, {
            guard let connection = first.connection as? HTTP1PoolConnection, let stream = first.stream else {
                Issue.record("no connection")
                return
            }
            first.exchange()
            #expect(pool.idleConnections == 1 && !connection.busy)
            guard case .ready(let again, let sameConnection) = pool.newStream(for: Requester()) else {
                Issue.record("expected the idle connection")
                return
            }
            #expect(sameConnection === connection && again === stream && connection.busy)
            connection.close()
            #expect(pool.totalConnections == 0 && f.stat("upstream_cx_destroy_with_active_rq") == 1)
        })])
    }

    // MARK: - max_requests

    @Test func maxRequestsIsCheckedWhenARequestIsAttachedToAConnection() throws {
        var limits = ClusterResources.Limits.envoyDefaults
        limits.maxRequests = 1
        let f = try Fixture(limits: limits)
        let upstream = try Acceptor(loop: f.loop)
        let pool = f.pool(to: upstream.listener.boundAddress)
        let first = Requester(), second = Requester(), third = Requester()

        _ = pool.newStream(for: first)
        f.run([
            (150, {
                // Waits (pending) for a second connection, refused once it is up.
                guard case .pending = pool.newStream(for: second) else { Issue.record("expected to wait"); return }
            }),
            (300, {
                #expect(second.failures == [.overflow] && second.provided.isEmpty)
                #expect(pool.idleConnections == 1)
                // Refused at once on the idle connection; it stays idle.
                guard case .overflow = pool.newStream(for: third) else { Issue.record("expected an overflow"); return }
                #expect(pool.idleConnections == 1)
                #expect(f.stat("upstream_rq_active_overflow") == 2)
                #expect(f.stat("upstream_rq_pending_overflow") == 0)
                #expect(f.stat("upstream_rq_total") == 1)
                #expect(f.stat("upstream_rq_pending_total") == 2)
                #expect(f.resources.count(.requests) == 1)
                first.exchange()
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
        requester.onProvide = { connection in
            #expect(f.resources.count(.connections) == 2)
            (connection as? HTTP1PoolConnection)?.close()
        }
        _ = pool.newStream(for: requester)
        f.run([(300, {
            #expect(requester.provided.count == 1)
            #expect(f.stat("upstream_cx_overflow") == 1)
            #expect(f.resources.count(.connections) == 1)
        })])
    }
}
