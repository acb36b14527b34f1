import RemoraCore
import RemoraEventLoop
import RemoraHTTP

/// What an `HTTP1PoolConnection` reports to its pool.
protocol HTTP1PoolConnectionOwner: AnyObject {
    /// The stream ended with the connection fit for another request.
    func streamEnded(on connection: HTTP1PoolConnection)
    /// The connection closed (once): `remote` when the upstream ended it,
    /// `withActiveRequest` when the exchange on it had not ended.
    func connectionClosed(_ connection: HTTP1PoolConnection, remote: Bool, withActiveRequest: Bool)
}

/// One HTTP/1.1 connection of an `HTTP1ConnectionPool`: the socket and
/// its client codec (one for the connection's life), handing out one
/// stream at a time (Envoy's `Http1::ActiveClient` over a `CodecClient`).
/// It is the socket's delegate, idle or busy: it counts the bytes, feeds
/// the codec, counts `upstream_cx_protocol_error`, and closes itself when
/// the stream's end leaves it unfit (`connection: close`, a response cut
/// short, a reset, bytes nobody asked for) or the upstream closes it. A
/// stream's holder only sends and receives messages and calls
/// `streamEnded()`. Strong to its owner (the pool holds it until it
/// closes, which ends the cycle). Lives on the pool's loop.
public final class HTTP1PoolConnection: UpstreamStreamConnection, ConnectionDelegate, HTTP1ClientConnectionCallbacks {
    let owner: any HTTP1PoolConnectionOwner
    /// The pool's name for it in its state machine.
    let id: Int
    /// Nil once closed (and, in socket-free tests, throughout).
    private(set) var connection: Connection?
    /// Made in `init` (the codec needs `self` as its callbacks).
    private(set) var codec: HTTP1ClientConnection!
    private let stats: Stats<ClusterStat>
    /// A stream was handed out and its holder has not called `streamEnded()`.
    private(set) var busy = false
    private(set) var closed = false
    /// The upstream ended the connection (EOF or a socket error).
    private var peerClosed = false
    var idleSince: UInt64?
    let openedAt: UInt64

    init(owner: any HTTP1PoolConnectionOwner, id: Int, connection: Connection?, parser: HTTP1Parser.Configuration,
         encoder: HTTP1SharedEncoder, stats: Stats<ClusterStat>, now: UInt64) {
        self.owner = owner
        self.id = id
        self.connection = connection
        self.stats = stats
        self.openedAt = now
        codec = HTTP1ClientConnection(parser: parser, encoder: encoder, callbacks: self)
        connection?.delegate = self
    }

    public var socket: Connection? { connection }
    public var localAddress: SocketAddress? { connection?.localAddress }

    /// Opens the connection's stream for `decoder` (the pool knows it is idle).
    func open(_ decoder: any HTTPResponseDecoder) -> any HTTPRequestEncoder {
        precondition(!busy && !closed, "HTTP1PoolConnection: a stream is open or the connection is closed")
        idleSince = nil
        busy = true
        codec.beginStream(decoder)
        return codec
    }

    /// HTTP/1 output goes to the socket as the codec makes it.
    public func flush() {}

    /// The holder is done with its stream: the connection goes back to the
    /// pool if the exchange was whole and keep-alive held, else it closes
    /// (with a reset when the holder abandoned the exchange: RST frees
    /// what both kernels hold at once and tells the upstream the request
    /// is not whole).
    public func streamEnded() {
        guard busy else { return }
        busy = false
        // A holder that gives up with its stream open resets it (its decoder
        // hears it; a second `streamEnded()` from there does nothing).
        if codec.hasStream { codec.resetStream(.localReset) }
        if codec.isReusable && !closed && connection?.isReadClosed != true {
            owner.streamEnded(on: self)
            return
        }
        close(reset: codec.resetReason == .localReset && !peerClosed, withActiveRequest: codec.aborted)
    }

    /// Closes the socket and reports it to the pool at once. A stream still
    /// open hears connection termination.
    func close(reset: Bool = false) {
        close(reset: reset, withActiveRequest: busy)
    }

    private func close(reset: Bool, withActiveRequest: Bool) {
        guard !closed else { return }
        closed = true
        connection?.close(reset: reset)
        owner.connectionClosed(self, remote: peerClosed, withActiveRequest: withActiveRequest)
        if codec.hasStream { codec.resetAllStreams() }
    }

    // MARK: - ConnectionDelegate

    public func connection(_ connection: Connection, didRead data: ByteSlice) {
        received(data)
    }

    /// Bytes from the upstream: the stream's response, or, on an idle
    /// connection, bytes nobody asked for (the connection is dropped).
    func received(_ data: ByteSlice) {
        stats.add(.upstreamCxRxBytesTotal, Int64(data.count))
        guard !closed else { return }
        guard busy else {
            close()
            return
        }
        if case .protocolError = codec.dispatch(data) {
            stats.add(.upstreamCxProtocolError)
            close()
        }
    }

    public func connectionDidReadEOF(_ connection: Connection) {
        inputEnded()
    }

    /// The upstream closed its side: a body until close ends, a response
    /// cut short or a tunnel ends as a connection termination.
    func inputEnded() {
        peerClosed = true
        if busy { codec.onInputEnded() }
        close()
    }

    public func connection(_ connection: Connection, didFailWith error: EventLoopError) {
        peerClosed = true
        close()
    }

    public func connectionWriteBufferAboveHighWatermark(_ connection: Connection) {
        codec.onUnderlyingConnectionAboveWriteBufferHighWatermark()
    }

    public func connectionWriteBufferBelowLowWatermark(_ connection: Connection) {
        codec.onUnderlyingConnectionBelowWriteBufferLowWatermark()
    }

    public func connectionDidClose(_ connection: Connection) {
        // Closed under us, not by us: the upstream's doing.
        if !closed && busy { peerClosed = true }
        close()
        self.connection = nil
    }

    // MARK: - HTTP1ClientConnectionCallbacks

    /// Writes to the upstream, counted in `upstream_cx_tx_bytes_total`.
    public func onHTTP1Output(_ slice: ByteSlice) {
        stats.add(.upstreamCxTxBytesTotal, Int64(slice.count))
        connection?.write(slice)
    }

    public func onHTTP1ReadDisable(_ disable: Bool) {
        connection?.readDisable(disable)
    }

    public func onHTTP1TunnelOutputEnded() {
        connection?.shutdownWrite()
    }
}
