import RemoraCore
import RemoraEventLoop
import RemoraHTTP
import RemoraUpstream

/// A mirrored copy of a request (`request_mirror_policies`): sent to the
/// shadow cluster, its response read and dropped. Fire and forget: it keeps
/// itself alive until its upstream attempt ends.
final class ShadowRequest: UpstreamRequestOwner {
    private var upstream: UpstreamRequest?
    private var keepAlive: ShadowRequest?
    private let stats: Stats<ClusterStat>

    init(cluster: WorkerCluster, host: SocketAddress, loop: EventLoop, request: HTTPRequestMessage, chunked: Bool) {
        stats = cluster.stats
        var encoder = HTTP1Encoder(pool: loop.bufferPool)
        let head = encoder.encodeRequestHead(method: request.method, target: request.path, host: request.authority ?? "",
                                             headers: request.headers)
        upstream = UpstreamRequest(
            owner: self, pool: cluster.httpPool(for: host, loop: loop), loop: loop, head: head, chunked: chunked,
            method: request.method, maxResponseHeadBytes: 80 * 1024, maxResponseHeaders: 100)
    }

    func start(endStream: Bool) {
        keepAlive = self
        if endStream { upstream?.sendData(emptySlice, endStream: true) }
        upstream?.start()
    }

    func sendData(_ data: ByteSlice, endStream: Bool) {
        upstream?.sendData(data, endStream: endStream)
    }

    private func end() {
        upstream = nil
        keepAlive = nil
    }

    func upstreamHeaders(_ request: UpstreamRequest, _ head: consuming HTTP1ResponseHead, endStream: Bool) {
        stats.countUpstreamResponse(status: head.status)
        if endStream { end() }
    }
    func upstreamData(_ request: UpstreamRequest, _ data: ByteSlice, endStream: Bool) { if endStream { end() } }
    func upstreamTrailers(_ request: UpstreamRequest, _ trailers: HTTPHeaders) {}
    func upstreamReset(_ request: UpstreamRequest?, _ reason: UpstreamResetReason) { end() }
    func upstreamTunnelData(_ request: UpstreamRequest, _ data: ByteSlice) {}
    func upstreamTunnelEnded(_ request: UpstreamRequest) { end() }
    func upstreamWriteBuffer(_ request: UpstreamRequest, aboveHigh: Bool) {}
}
