import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
import RemoraUpstream

/// One attempt of a request on one HTTP/1.1 connection from a host's pool,
/// through the connection's `HTTP1ClientConnection` (kept by the pool, one
/// per connection): this object is the stream's decoder and the codec's
/// output sink while it holds the connection. It writes the request (head,
/// body, trailers) through the codec, gets the response as codec
/// events, and gives the connection back (reusable only if both messages
/// were whole and keep-alive held). Owned by the router (or a shadow), on
/// the worker loop.
final class UpstreamRequest: UpstreamAttempt, HTTP1PoolRequester, ConnectionDelegate, HTTP1ClientConnectionCallbacks,
    HTTPResponseDecoder {
    /// Strong until the attempt ends (`cancel()` or the last event sent to
    /// the owner lets go), which breaks the owner ↔ request cycle. Not weak:
    /// a weak reference gives the owner a side table and slow refcounting.
    private var owner: UpstreamRequestOwner?
    let pool: HTTP1ConnectionPool
    let host: SocketAddress
    private let loop: EventLoop
    /// Sent (and let go) once the attempt has a connection.
    private var head: HTTPRequestHead?
    private let encoder: HTTP1SharedEncoder
    private let parserConfiguration: HTTP1Parser.Configuration
    private var connection: Connection?
    private var codec: HTTP1ClientConnection?
    private var ticket: HTTP1ConnectionPool.Ticket?
    /// What waits for the connection (bounded by the cluster's buffer limit).
    private var pending: PendingRequestBody
    /// The owner asked for no response bytes (its downstream is full): one
    /// read-disable count on the stream, given back by the codec when the
    /// stream ends.
    private var holdsReadDisable = false
    private var readingWanted = true
    private var done = false
    private var tunneling = false
    /// The upstream ended the connection (EOF or a socket error).
    private var peerClosed = false
    private(set) var sentAt: UInt64 = 0
    /// Why the connection could not be made (Envoy's transport failure reason).
    private(set) var transportFailureReason: String?
    /// The local address of the connection the attempt was sent on.
    var localAddress: SocketAddress? { connection?.localAddress }
    var upstreamConnection: Connection? { connection }
    var hostStats: HostStats { pool.hostStats }

    init(owner: UpstreamRequestOwner, pool: HTTP1ConnectionPool, loop: EventLoop, encoder: HTTP1SharedEncoder, head: HTTPRequestHead,
         maxResponseHeadBytes: Int, maxResponseHeaders: Int, bufferLimit: Int) {
        self.owner = owner
        self.pending = PendingRequestBody(limit: bufferLimit)
        self.pool = pool
        self.host = pool.host
        self.loop = loop
        self.encoder = encoder
        self.head = head
        var configuration = HTTP1Parser.Configuration.response
        configuration.maxHeadBytes = maxResponseHeadBytes
        configuration.maxHeaderCount = maxResponseHeaders
        parserConfiguration = configuration
    }

    func start() {
        switch pool.request(for: self) {
        case .ready(let connection):
            attach(connection)
        case .pending(let ticket):
            self.ticket = ticket
        case .overflow:
            done = true
            takeOwner()?.upstreamReset(self, .overflow)
        }
    }

    /// The owner, for the attempt's last event; the request lets go of it.
    private func takeOwner() -> UpstreamRequestOwner? {
        let owner = self.owner
        self.owner = nil
        return owner
    }

    // MARK: - HTTP1PoolRequester

    func pool(_ pool: HTTP1ConnectionPool, didProvide connection: Connection) {
        ticket = nil
        guard !done else {
            pool.release(connection, reusable: true)
            return
        }
        attach(connection)
    }

    func pool(_ pool: HTTP1ConnectionPool, didFail failure: HTTP1ConnectionPool.Failure) {
        ticket = nil
        guard !done else { return }
        done = true
        let outcome = failure.attemptOutcome
        transportFailureReason = outcome.transportFailure
        takeOwner()?.upstreamReset(self, outcome.reason)
    }

    private func attach(_ connection: Connection) {
        self.connection = connection
        connection.delegate = self
        let codec = pool.codec(for: connection) {
            HTTP1ClientConnection(parser: parserConfiguration, encoder: encoder, callbacks: self)
        }
        self.codec = codec
        codec.callbacks = self
        codec.beginStream(self)
        sentAt = loop.nowMilliseconds
        // Moved out, not copied (no retain of its parts).
        if let head = head.take() { codec.encodeHeaders(head, endStream: false) }
        for slice in pending.slices { codec.encodeData(slice, endStream: false) }
        if pending.ended {
            if let trailers = pending.trailers { codec.encodeTrailers(trailers) } else { codec.encodeData(emptySlice, endStream: true) }
        }
        if !readingWanted { setReading(false) }
        connection.startReading()
        // The queue now sits in the connection's buffer, which reports its
        // own watermarks: give back the queue's.
        if pending.drain() { owner?.upstreamWriteBuffer(self, aboveHigh: false) }
    }

    // MARK: - Request body

    func sendData(_ data: ByteSlice, endStream: Bool) {
        guard !done else { return }
        guard let codec else {
            if pending.append(data, endStream: endStream) { owner?.upstreamWriteBuffer(self, aboveHigh: true) }
            return
        }
        codec.encodeData(data, endStream: endStream)
    }

    func sendTrailers(_ trailers: HTTPHeaders) {
        guard !done else { return }
        guard let codec else {
            pending.end(with: trailers)
            return
        }
        codec.encodeTrailers(trailers)
    }

    /// Raw bytes after an accepted upgrade.
    func sendTunnelData(_ data: ByteSlice) {
        guard let connection else { return }
        onHTTP1Output(data, on: connection)
    }

    func endTunnel() {
        connection?.shutdownWrite()
    }

    /// Flow control from the owner's downstream: no response bytes are
    /// read while it is full.
    func setReading(_ enabled: Bool) {
        readingWanted = enabled
        guard let codec, holdsReadDisable == enabled else { return }
        holdsReadDisable = !enabled
        codec.readDisable(!enabled)
    }

    // MARK: - HTTP1ClientConnectionCallbacks

    /// Writes to the upstream, counted in `upstream_cx_tx_bytes_total`.
    func onHTTP1Output(_ slice: ByteSlice) {
        guard let connection else { return }
        onHTTP1Output(slice, on: connection)
    }

    private func onHTTP1Output(_ slice: ByteSlice, on connection: Connection) {
        pool.stats.add(.upstreamCxTxBytesTotal, Int64(slice.count))
        connection.write(slice)
    }

    func onHTTP1ReadDisable(_ disable: Bool) {
        if !disable { holdsReadDisable = false }
        connection?.readDisable(disable)
    }

    // MARK: - ConnectionDelegate

    func connection(_ connection: Connection, didRead data: ByteSlice) {
        pool.stats.add(.upstreamCxRxBytesTotal, Int64(data.count))
        if tunneling {
            owner?.upstreamTunnelData(self, data)
            return
        }
        guard let codec else { return }
        _ = codec.dispatch(data)
    }

    func connectionDidReadEOF(_ connection: Connection) {
        peerClosed = true
        if tunneling {
            takeOwner()?.upstreamTunnelEnded(self, connectionClosed: true)
            return
        }
        guard !done else { return }
        codec?.onInputEnded()
        if !done { fail(.connectionTermination) }
    }

    func connection(_ connection: Connection, didFailWith error: EventLoopError) {
        peerClosed = true
        if tunneling {
            takeOwner()?.upstreamTunnelEnded(self, connectionClosed: true)
            connection.close()
            return
        }
        fail(.connectionTermination)
    }

    func connectionWriteBufferAboveHighWatermark(_ connection: Connection) {
        owner?.upstreamWriteBuffer(self, aboveHigh: true)
    }

    func connectionWriteBufferBelowLowWatermark(_ connection: Connection) {
        owner?.upstreamWriteBuffer(self, aboveHigh: false)
    }

    func connectionDidClose(_ connection: Connection) {
        // Closed under this request, not by it: the upstream ended it.
        pool.connectionClosed(connection, remote: true, withActiveRequest: !done)
        if self.connection === connection {
            self.connection = nil
            codec = nil
        }
        if tunneling && !done {
            done = true
            takeOwner()?.upstreamTunnelEnded(self, connectionClosed: true)
        } else if !done {
            fail(.connectionTermination)
        }
    }

    // MARK: - HTTPResponseDecoder

    /// Envoy drops upstream 1xx (100-continue is answered downstream by itself).
    func decode1xxHeaders(_ headers: HTTPHeaders) {}

    func decodeHeaders(_ headers: consuming HTTPHeaders, endStream: Bool) {
        guard !done else { return }
        var fields = headers
        // The codec puts `:status` first.
        let status = fields.status ?? 0
        fields.removeLeadingPseudoHeaders(1)
        if status == 101 && !endStream { tunneling = true }
        guard endStream else {
            owner?.upstreamHeaders(self, status: status, headers: &fields, endStream: false)
            return
        }
        responseComplete()
        takeOwner()?.upstreamHeaders(self, status: status, headers: &fields, endStream: true)
    }

    func decodeData(_ chunk: ByteSlice, endStream: Bool) {
        guard !done else { return }
        if tunneling {
            if chunk.count > 0 { owner?.upstreamTunnelData(self, chunk) }
            return
        }
        guard endStream else {
            owner?.upstreamData(self, chunk, endStream: false)
            return
        }
        responseComplete()
        takeOwner()?.upstreamData(self, chunk, endStream: true)
    }

    func decodeTrailers(_ trailers: HTTPHeaders) {
        guard !done else { return }
        responseComplete()
        let owner = takeOwner()
        owner?.upstreamTrailers(self, trailers)
        owner?.upstreamData(self, emptySlice, endStream: true)
    }

    func onResetStream(_ reason: HTTPStreamResetReason) {
        guard !done else { return }
        if reason == .protocolError { pool.stats.add(.upstreamCxProtocolError) }
        fail(reason == .protocolError ? .protocolError : .connectionTermination)
    }

    /// The upstream's write buffer reports to the owner directly (see
    /// `connectionWriteBufferAboveHighWatermark`).
    func onAboveWriteBufferHighWatermark() {}
    func onBelowWriteBufferLowWatermark() {}

    /// The whole response arrived (the codec's stream is over): the
    /// connection goes back, reusable if the codec says so (keep-alive, the
    /// request sent whole, nothing after the response).
    private func responseComplete() {
        done = true
        releaseConnection(reusable: codec?.isReusable ?? false, withActiveRequest: false)
    }

    // MARK: - Ending

    private func fail(_ reason: UpstreamResetReason) {
        guard !done else { return }
        done = true
        releaseConnection(reusable: false)
        takeOwner()?.upstreamReset(self, reason)
    }

    /// `withActiveRequest`: the exchange had not ended (Envoy's "active
    /// request" when a connection closes).
    private func releaseConnection(reusable: Bool, reset: Bool = false, withActiveRequest: Bool = true) {
        guard let connection else { return }
        self.connection = nil
        let codec = self.codec
        self.codec = nil
        holdsReadDisable = false
        if reusable {
            pool.release(connection, reusable: true)
        } else {
            // The stream, if the codec still has it, ends here (its read
            // holds given back); this request already counts as ended.
            codec?.resetStream(.localReset)
            connection.delegate = nil
            connection.close(reset: reset)
            pool.connectionClosed(connection, remote: peerClosed, withActiveRequest: withActiveRequest)
        }
    }

    /// The owner gives up on this attempt (timeout, downstream reset, retry).
    func cancel() {
        if let ticket {
            pool.cancel(ticket)
            self.ticket = nil
        }
        done = true
        owner = nil
        // An abandoned exchange: RST frees what the kernels hold at both
        // ends at once and tells the upstream the request is not whole.
        releaseConnection(reusable: false, reset: true)
    }
}
