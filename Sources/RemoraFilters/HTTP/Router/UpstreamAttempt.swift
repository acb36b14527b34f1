import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
import RemoraUpstream

/// Why an upstream attempt ended without a (complete) response.
enum UpstreamResetReason: Equatable {
    case overflow
    case connectionFailure
    case connectionTimeout
    case connectionTermination
    case protocolError
    case localReset
    /// HTTP/2: the upstream reset the stream (RST_STREAM).
    case remoteReset
    /// HTTP/2: the upstream refused the stream (REFUSED_STREAM, or above its GOAWAY).
    case remoteRefusedStreamReset

    /// Envoy's words, as in `... reset reason: connection termination`.
    var text: String {
        switch self {
        case .overflow: "overflow"
        case .connectionFailure: "remote connection failure"
        case .connectionTimeout: "connection timeout"
        case .connectionTermination: "connection termination"
        case .protocolError: "protocol error"
        case .localReset: "local reset"
        case .remoteReset: "remote reset"
        case .remoteRefusedStreamReset: "remote refused stream reset"
        }
    }
}

/// Receives what one upstream attempt produces.
protocol UpstreamRequestOwner: AnyObject {
    /// The response head: `status` and the regular fields (moved out by the owner).
    func upstreamHeaders(_ request: any UpstreamAttempt, status: Int, headers: inout HTTPHeaders, endStream: Bool)
    func upstreamData(_ request: any UpstreamAttempt, _ data: ByteSlice, endStream: Bool)
    func upstreamTrailers(_ request: any UpstreamAttempt, _ trailers: HTTPHeaders)
    func upstreamReset(_ request: (any UpstreamAttempt)?, _ reason: UpstreamResetReason)
    func upstreamTunnelData(_ request: any UpstreamAttempt, _ data: ByteSlice)
    /// The upstream ended the tunnel: it ended its stream (HTTP/2
    /// END_STREAM, a terminated CONNECT's FIN: `connectionClosed` false),
    /// or its connection ended (HTTP/1's only end of a tunnel, or an
    /// HTTP/2 connection that went away: Envoy's connection termination).
    func upstreamTunnelEnded(_ request: any UpstreamAttempt, connectionClosed: Bool)
    func upstreamWriteBuffer(_ request: any UpstreamAttempt, aboveHigh: Bool)
}

/// One attempt of a request upstream, whatever the wire: a stream from
/// the host's HTTP/1.1 or HTTP/2 pool (`UpstreamRequest`), or a raw TCP
/// connection for a terminated CONNECT (`TCPUpstreamRequest`). The owner
/// sends body and trailers before or after `start()`; what comes before the
/// connection or stream is ready is queued (bounded by the buffer limit).
protocol UpstreamAttempt: AnyObject {
    var hostStats: HostStats { get }
    var localAddress: SocketAddress? { get }
    /// The connection the attempt was sent on (for its TLS facts).
    var upstreamConnection: Connection? { get }
    var sentAt: UInt64 { get }
    var transportFailureReason: String? { get }
    func start()
    func sendData(_ data: ByteSlice, endStream: Bool)
    func sendTrailers(_ trailers: HTTPHeaders)
    /// Flow control from the owner's downstream.
    func setReading(_ enabled: Bool)
    /// The owner gives up on the attempt; no event follows.
    func cancel()
    func sendTunnelData(_ data: ByteSlice)
    func endTunnel()
}

/// An HTTP attempt on `host` over the wire the cluster speaks to it (Envoy's
/// router asks its cluster for a pool by protocol the same way): a stream
/// from the host's HTTP/2 or HTTP/1.1 pool. The head is sent in parts; the
/// codec of the connection it lands on writes it.
func makeHTTPUpstreamAttempt(owner: UpstreamRequestOwner, cluster: WorkerCluster, host: SocketAddress,
                             context: HTTPWorkerContext, head: HTTPRequestHead, downstreamHTTP2: Bool,
                             tlsOptions: TransportSocketOptions?, isConnect: Bool) -> any UpstreamAttempt {
    // The cluster's config is read in place (not bound to a local: a copy
    // would retain every reference it holds, per attempt).
    let loop = context.loop
    let pool: any UpstreamStreamPool
    if cluster.config.http.usesHTTP2(downstreamHTTP2: downstreamHTTP2, negotiatedHTTP2: cluster.negotiatesHTTP2(host) ?? false) {
        pool = cluster.http2Pool(for: host, loop: loop, options: tlsOptions)
    } else {
        pool = cluster.httpPool(for: host, loop: loop, encoder: context.sharedEncoder, options: tlsOptions)
    }
    return UpstreamRequest(owner: owner, pool: pool, loop: loop, head: head, bufferLimit: cluster.config.bufferLimitBytes,
                           isConnect: isConnect)
}
