import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP

/// One HTTP/2 connection of an `HTTP2ConnectionPool`: the socket, its
/// client codec, and where it is in its life (connecting, ready, draining
/// after GOAWAY or its last allowed request, closed). The pool holds it;
/// the requests on it call `flush()` after sending and `streamEnded()` when
/// their stream ends.
public final class HTTP2PoolConnection: UpstreamStreamConnection, ConnectionDelegate, HTTPConnectionCallbacks, DeferredFraming {
    /// Strong: the pool holds its connections until they close, which ends the cycle.
    let pool: HTTP2ConnectionPool
    /// The pool's name for it in its state machine.
    let id: Int
    var attempt: ConnectAttempt?
    private(set) var connection: Connection?
    private var codec: HTTP2ClientConnection?
    private var closed = false
    private var dispatching = false
    /// A `flush()` is queued for the end of this loop iteration.
    private var framingScheduled = false
    private var outputUnwritten = false
    private var slices: [ByteSlice] = []
    private(set) var streamsOpened = 0
    var idleSince: UInt64?
    private(set) var openedAt: UInt64?

    init(pool: HTTP2ConnectionPool, id: Int) {
        self.pool = pool
        self.id = id
    }

    public var localAddress: SocketAddress? { connection?.localAddress }
    /// The socket (for its TLS facts); nil until connected.
    public var socket: Connection? { connection }
    var activeStreams: Int { codec?.activeStreams ?? 0 }
    /// The upstream ended the connection (EOF or a socket error).
    private var peerClosed = false

    func connected(_ connection: Connection) {
        guard !closed else {
            connection.close()
            return
        }
        self.connection = connection
        openedAt = pool.loop.nowMilliseconds
        idleSince = pool.loop.nowMilliseconds
        connection.delegate = self
        connection.reportsWritesDrained = true
        // Small blocks, as the server codec's (see HTTPConnectionManager+HTTP2).
        codec = HTTP2ClientConnection(options: pool.options, pool: pool.loop.smallBufferPool, stats: pool.codecStats,
                                      callbacks: self)
        connection.startReading()
        // The client preface and SETTINGS go out at once.
        flush()
        armKeepalive()
    }

    // MARK: - Keepalive

    private var keepalive: HTTP2Keepalive?

    /// `connection_keepalive`: a PING every interval; no ACK within the
    /// timeout closes the connection (`http2.keepalive_timeout`).
    private func armKeepalive() {
        guard !closed else { return }
        if keepalive == nil { keepalive = HTTP2Keepalive(pool.keepalive, loop: pool.loop) }
        keepalive?.arm(jitter: UInt64.random(in: 0..<UInt64.max), sendPing: { [self] in
            guard !self.closed, let codec = self.codec else { return }
            codec.sendPing(self.pool.loop.nowMilliseconds)
            self.flush()
        }, timedOut: { [self] in
            guard !self.closed else { return }
            self.pool.codecStats.add(.keepaliveTimeout)
            self.close()
        })
    }

    /// Opens a stream for `decoder` (capacity counted by the pool's state machine).
    func open(_ decoder: any HTTPResponseDecoder) -> any HTTPRequestEncoder {
        idleSince = nil
        streamsOpened += 1
        if pool.maxRequestsPerConnection > 0 && streamsOpened == pool.maxRequestsPerConnection {
            pool.stats.add(.upstreamCxMaxRequests)
        }
        return codec!.newStream(decoder)
    }

    /// A stream on this connection ended: the pool counts it and may close or reuse the connection.
    public func streamEnded() {
        pool.streamEnded(on: self)
    }

    /// Frames and writes what the streams queued, once per loop iteration:
    /// the requests started while one batch of events is handled go out in
    /// one pass of the codec (inside a dispatch, the dispatch flushes at
    /// its end).
    public func flush() {
        guard !dispatching, !framingScheduled, codec != nil, !closed else { return }
        framingScheduled = true
        pool.loop.scheduleFraming(self)
    }

    public func frameDeferredOutput() {
        guard framingScheduled else { return }
        flushNow()
    }

    private func flushNow() {
        framingScheduled = false
        guard let codec, !closed else { return }
        noteOutputWritten()
        after(codec.flush())
    }

    private func after(_ status: HTTPCodecStatus) {
        guard let codec, let connection else { return }
        switch status {
        case .ok:
            if codec.hasOutput {
                codec.takeOutput(into: &slices)
                for slice in slices {
                    pool.stats.add(.upstreamCxTxBytesTotal, Int64(slice.count))
                    connection.write(slice)
                }
                slices.removeAll(keepingCapacity: true)
                outputUnwritten = true
            }
            if codec.wantsClose { close() }
        case .protocolError:
            pool.stats.add(.upstreamCxProtocolError)
            close()
        case .bufferFlood, .inboundFramesWithEmptyPayload:
            pool.stats.add(.upstreamCxProtocolError)
            close()
        }
    }

    private func noteOutputWritten() {
        guard outputUnwritten, let connection, connection.writeBufferedBytes == 0 else { return }
        outputUnwritten = false
        codec?.outputWritten()
    }

    /// The connect failed: this connection will never serve.
    func markClosed() {
        closed = true
    }

    func close() {
        guard !closed else { return }
        // What the streams queued (a reset, a GOAWAY) goes before the close.
        if framingScheduled { flushNow() }
        guard !closed else { return }
        closed = true
        if let attempt {
            attempt.cancel()
            self.attempt = nil
            pool.stats.add(.upstreamCxDestroyLocal)
            pool.remove(self)
            return
        }
        connection?.close()
    }

    // MARK: - ConnectionDelegate

    public func connection(_ connection: Connection, didRead data: ByteSlice) {
        pool.stats.add(.upstreamCxRxBytesTotal, Int64(data.count))
        guard let codec else { return }
        noteOutputWritten()
        dispatching = true
        let status = codec.dispatch(data)
        dispatching = false
        // The dispatch framed whatever was queued.
        framingScheduled = false
        after(status)
    }

    public func connectionDidReadEOF(_ connection: Connection) {
        peerClosed = true
        connection.close()
    }

    public func connection(_ connection: Connection, didFailWith error: EventLoopError) {
        peerClosed = true
        connection.close()
    }

    public func connectionWriteBufferAboveHighWatermark(_ connection: Connection) {
        codec?.onUnderlyingConnectionAboveWriteBufferHighWatermark()
    }

    public func connectionWriteBufferBelowLowWatermark(_ connection: Connection) {
        noteOutputWritten()
        codec?.onUnderlyingConnectionBelowWriteBufferLowWatermark()
        flush()
    }

    public func connectionWritesDrained(_ connection: Connection) {
        noteOutputWritten()
    }

    public func connectionDidClose(_ connection: Connection) {
        closed = true
        pool.stats.countConnectionClosed(remote: peerClosed, withActiveRequests: activeStreams > 0)
        keepalive?.close()
        keepalive = nil
        // Every stream still open ends with connection termination.
        codec?.resetAllStreams()
        pool.remove(self)
    }

    // MARK: - HTTPConnectionCallbacks

    public func onGoAway(errorCode: UInt32, lastStreamID: Int32) {
        // Streams above the last id were refused (they heard it); the rest
        // finish here, new ones go to another connection.
        pool.goAwayReceived(on: self)
    }

    public func onSettings(maxConcurrentStreams: UInt32) {
        pool.settingsReceived(on: self, maxConcurrentStreams: maxConcurrentStreams)
    }

    public func onPingAck(_ opaqueData: UInt64) {
        keepalive?.pingAcknowledged()
        armKeepalive()
    }
}
