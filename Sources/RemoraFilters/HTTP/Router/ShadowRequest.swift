import RemoraCore
import RemoraEventLoop
import RemoraHTTP
import RemoraUpstream

/// A mirrored copy of a request (`request_mirror_policies`): sent to the
/// shadow cluster, its response read and dropped. It keeps itself alive until
/// its upstream attempt ends, and never slows or bloats the main request:
///
/// - the route's timeout bounds it (Envoy gives shadows the route timeout);
/// - a shadow whose upstream cannot take the body as fast as the main
///   request sends it (its write buffer or body queue passes the cluster's
///   buffer limit) is dropped, never waited for, and counted in the shadow
///   cluster's `upstream_rq_cancelled`;
/// - when the main stream ends before the whole request was mirrored, the
///   shadow is cancelled (it could never be completed).
///
/// Owned by itself, on the worker loop.
final class ShadowRequest: UpstreamRequestOwner {
    private var upstream: (any UpstreamAttempt)?
    private var keepAlive: ShadowRequest?
    private let stats: Stats<ClusterStat>
    private let context: HTTPWorkerContext
    private let timeoutMilliseconds: UInt64
    private var timer: Timer?
    private var requestEnded = false
    /// When the mirrored request ended (loop milliseconds): the start of its `upstream_rq_time`.
    private var requestCompletedAt: UInt64?
    private var responseStarted = false

    /// The shadow speaks the shadow cluster's protocol, as the main request
    /// would: a stream on its HTTP/2 pool, or HTTP/1.1 on its HTTP/1 pool.
    init(cluster: WorkerCluster, host: SocketAddress, context: HTTPWorkerContext, request: HTTPRequestMessage,
         chunked: Bool, downstreamHTTP2: Bool, timeoutMilliseconds: UInt64) {
        stats = cluster.stats
        self.context = context
        self.timeoutMilliseconds = timeoutMilliseconds
        upstream = makeHTTPUpstreamAttempt(
            owner: self, cluster: cluster, host: host, context: context,
            head: request.upstreamHead(authority: request.authority ?? "", framing: chunked ? .chunked : []),
            downstreamHTTP2: downstreamHTTP2, tlsOptions: nil, isConnect: false)
    }

    /// Whether the shadow is still running.
    var isActive: Bool { upstream != nil }

    func start(endStream: Bool) {
        keepAlive = self
        if endStream {
            requestComplete()
            upstream?.sendData(emptySlice, endStream: true)
        }
        if timeoutMilliseconds > 0 {
            let timer = context.timer()
            self.timer = timer
            timer.start(afterMilliseconds: timeoutMilliseconds) { [self] in
                self.stats.add(.upstreamRqTimeout)
                if !self.responseStarted { self.stats.chargeResponse(status: 504, internal: true) }
                self.cancel()
            }
        }
        upstream?.start()
    }

    func sendData(_ data: ByteSlice, endStream: Bool) {
        if endStream { requestComplete() }
        upstream?.sendData(data, endStream: endStream)
    }

    /// The main stream is gone: a shadow still waiting for request bytes
    /// can never finish, so it stops; one with the whole request goes on.
    func mainStreamEnded() {
        guard !requestEnded, upstream != nil else { return }
        stats.add(.upstreamRqCancelled)
        cancel()
    }

    private func requestComplete() {
        requestEnded = true
        requestCompletedAt = context.loop.nowMilliseconds
    }

    /// The response ended: timed as Envoy's router times it (the shadow's
    /// request carries `x-envoy-internal: true`, so it counts as internal).
    private func responseComplete() {
        if let start = requestCompletedAt {
            stats.recordResponseTime(milliseconds: context.loop.nowMilliseconds - start, internal: true)
        }
        end()
    }

    private func cancel() {
        upstream?.cancel()
        end()
    }

    private func end() {
        upstream = nil
        context.recycle(timer)
        timer = nil
        keepAlive = nil
    }

    func upstreamHeaders(_ request: any UpstreamAttempt, status: Int, headers: inout HTTPHeaders, endStream: Bool) {
        // Envoy's shadow goes through its async client's router, which
        // charges the response as the main router does.
        responseStarted = true
        stats.chargeResponse(status: status, internal: true)
        if endStream { responseComplete() }
    }
    func upstreamData(_ request: any UpstreamAttempt, _ data: ByteSlice, endStream: Bool) { if endStream { responseComplete() } }
    func upstreamTrailers(_ request: any UpstreamAttempt, _ trailers: HTTPHeaders) {}
    func upstreamReset(_ request: (any UpstreamAttempt)?, _ reason: UpstreamResetReason) {
        // Envoy's router charges the local reply it would answer with.
        if upstream != nil, !responseStarted, reason != .localReset {
            stats.chargeResponse(status: reason == .protocolError ? 502 : 503, internal: true)
        }
        end()
    }
    func upstreamTunnelData(_ request: any UpstreamAttempt, _ data: ByteSlice) {}
    func upstreamTunnelEnded(_ request: any UpstreamAttempt, connectionClosed: Bool) { end() }

    /// A shadow that cannot keep up is dropped, not waited for.
    func upstreamWriteBuffer(_ request: any UpstreamAttempt, aboveHigh: Bool) {
        guard aboveHigh, upstream != nil else { return }
        stats.add(.upstreamRqCancelled)
        cancel()
    }
}
