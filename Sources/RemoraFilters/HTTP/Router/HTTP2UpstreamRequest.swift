import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
import RemoraUpstream

/// One attempt of a request as a stream on a pooled HTTP/2 connection:
/// the head (pseudo-headers first), body and trailers go out through the
/// stream's encoder, the response comes back through the decoder calls.
/// Owned by the router, on the worker loop.
final class HTTP2UpstreamRequest: UpstreamAttempt, HTTP2PoolRequester {
    /// Strong until the attempt's last event or `cancel()` (see `UpstreamRequest`).
    private var owner: UpstreamRequestOwner?
    let pool: HTTP2ConnectionPool
    private let loop: EventLoop
    /// Sent (and let go) once the stream is open.
    private var head: HTTPRequestHead?
    private var stream: (any HTTPRequestEncoder)?
    private var connection: HTTP2PoolConnection?
    private var ticket: HTTP2ConnectionPool.Ticket?
    /// What waits for the stream (bounded by the cluster's buffer limit).
    private var pending: PendingRequestBody
    private var requestEnded = false
    private var responseEnded = false
    /// The upstream accepted an upgrade (an extended CONNECT answered 200,
    /// which the codec presents as 101): the stream carries tunnel bytes.
    private var tunneling = false
    /// The request is a CONNECT passed on (no `connect_config`).
    private let isConnect: Bool
    private var readingWanted = true
    private var holdsReadDisable = false
    private var done = false
    /// The pool heard that the stream ended (once).
    private var streamReleased = false
    private(set) var sentAt: UInt64 = 0
    private(set) var transportFailureReason: String?

    var hostStats: HostStats { pool.hostStats }
    var localAddress: SocketAddress? { connection?.localAddress }
    var upstreamConnection: Connection? { connection?.socket }

    init(owner: UpstreamRequestOwner, pool: HTTP2ConnectionPool, loop: EventLoop, head: HTTPRequestHead, bufferLimit: Int,
         isConnect: Bool = false) {
        self.owner = owner
        self.pool = pool
        self.loop = loop
        self.head = head
        self.isConnect = isConnect
        self.pending = PendingRequestBody(limit: bufferLimit)
    }

    func start() {
        switch pool.request(for: self) {
        case .ready(let stream, let connection):
            attach(stream, connection)
        case .pending(let ticket):
            self.ticket = ticket
        case .overflow:
            done = true
            takeOwner()?.upstreamReset(self, .overflow)
        }
    }

    private func takeOwner() -> UpstreamRequestOwner? {
        let owner = self.owner
        self.owner = nil
        return owner
    }

    // MARK: - HTTP2PoolRequester

    func pool(_ pool: HTTP2ConnectionPool, didOpen stream: any HTTPRequestEncoder, on connection: HTTP2PoolConnection) {
        ticket = nil
        guard !done else {
            self.connection = connection
            self.stream = stream
            stream.resetStream(.localReset)
            return
        }
        attach(stream, connection)
    }

    func pool(_ pool: HTTP2ConnectionPool, didFail failure: HTTP1ConnectionPool.Failure) {
        ticket = nil
        guard !done else { return }
        done = true
        let outcome = failure.attemptOutcome
        transportFailureReason = outcome.transportFailure
        takeOwner()?.upstreamReset(self, outcome.reason)
    }

    private func attach(_ stream: any HTTPRequestEncoder, _ connection: HTTP2PoolConnection) {
        self.stream = stream
        self.connection = connection
        sentAt = loop.nowMilliseconds
        let body = pending.slices
        let endWithHead = pending.ended && body.isEmpty && pending.trailers == nil
        if let head = head.take() { stream.encodeHeaders(head, endStream: endWithHead) }
        for (i, slice) in body.enumerated() {
            stream.encodeData(slice, endStream: i == body.count - 1 && pending.ended && pending.trailers == nil)
        }
        if let trailers = pending.trailers { stream.encodeTrailers(trailers) }
        if pending.ended { requestEnded = true }
        if !readingWanted { setReading(false) }
        connection.flush()
        if pending.drain() { owner?.upstreamWriteBuffer(self, aboveHigh: false) }
    }

    // MARK: - Request body

    func sendData(_ data: ByteSlice, endStream: Bool) {
        guard !done else { return }
        guard let stream, let connection else {
            if pending.append(data, endStream: endStream) { owner?.upstreamWriteBuffer(self, aboveHigh: true) }
            return
        }
        guard !requestEnded else { return }
        if endStream { requestEnded = true }
        stream.encodeData(data, endStream: endStream)
        connection.flush()
    }

    func sendTrailers(_ trailers: HTTPHeaders) {
        guard !done else { return }
        guard let stream, let connection else {
            pending.end(with: trailers)
            return
        }
        guard !requestEnded else { return }
        requestEnded = true
        stream.encodeTrailers(trailers)
        connection.flush()
    }

    func setReading(_ enabled: Bool) {
        readingWanted = enabled
        guard let stream, !done, holdsReadDisable == enabled else { return }
        holdsReadDisable = !enabled
        stream.readDisable(!enabled)
        if enabled { connection?.flush() }
    }

    /// Tunnel bytes after an upgrade go as the stream's DATA (RFC 8441 §5);
    /// the downstream's end is END_STREAM.
    func sendTunnelData(_ data: ByteSlice) {
        sendData(data, endStream: false)
    }

    func endTunnel() {
        sendData(emptySlice, endStream: true)
    }

    func cancel() {
        if let ticket {
            pool.cancel(ticket)
            self.ticket = nil
        }
        let wasDone = done
        done = true
        owner = nil
        if !wasDone || !responseEnded, let stream, !streamReleased {
            stream.resetStream(.localReset)
            connection?.flush()
        }
        releaseStream()
    }

    /// The stream is over for this attempt: the pool gets its capacity back.
    private func releaseStream() {
        guard !streamReleased, let connection else { return }
        streamReleased = true
        connection.streamEnded()
    }

    // MARK: - HTTPResponseDecoder

    /// Envoy drops upstream 1xx (100-continue is answered downstream by itself).
    func decode1xxHeaders(_ headers: HTTPHeaders) {}

    func decodeHeaders(_ headers: consuming HTTPHeaders, endStream: Bool) {
        guard !done else { return }
        var fields = headers
        let status = fields.status ?? 0
        var pseudo = 0
        while pseudo < fields.count, fields.name(at: pseudo).withUnsafeBytes({ $0.first }) == UInt8(ascii: ":") { pseudo += 1 }
        fields.removeFirst(pseudo)
        // An upgrade's 101, or a 2xx to a CONNECT passed on, opens the tunnel.
        if !endStream && (status == 101 || (isConnect && status >= 200 && status < 300)) { tunneling = true }
        if endStream { responseComplete() }
        owner?.upstreamHeaders(self, status: status, headers: &fields, endStream: endStream)
        if endStream { _ = takeOwner() }
    }

    func decodeData(_ chunk: ByteSlice, endStream: Bool) {
        guard !done else { return }
        if chunk.count > 0 { stream?.consumed(chunk.count) }
        if tunneling {
            if chunk.count > 0 { owner?.upstreamTunnelData(self, chunk) }
            guard endStream else { return }
            // The upstream closed its side: the tunnel ends (and the stream,
            // if the downstream had not ended its side yet).
            responseComplete()
            takeOwner()?.upstreamTunnelEnded(self, connectionClosed: false)
            return
        }
        if endStream { responseComplete() }
        owner?.upstreamData(self, chunk, endStream: endStream)
        if endStream { _ = takeOwner() }
    }

    func decodeTrailers(_ trailers: HTTPHeaders) {
        guard !done else { return }
        responseComplete()
        let owner = takeOwner()
        owner?.upstreamTrailers(self, trailers)
        owner?.upstreamData(self, emptySlice, endStream: true)
    }

    /// The whole response arrived. A request still being sent is reset
    /// (Envoy's router ends the upstream stream with the response).
    private func responseComplete() {
        responseEnded = true
        done = true
        if !requestEnded, let stream {
            stream.resetStream(.localReset)
            connection?.flush()
        }
        releaseStream()
    }

    func onResetStream(_ reason: HTTPStreamResetReason) {
        releaseStream()
        guard !done else { return }
        done = true
        let mapped: UpstreamResetReason
        switch reason {
        case .connectionTermination: mapped = .connectionTermination
        case .remoteRefusedStreamReset, .localRefusedStreamReset: mapped = .remoteRefusedStreamReset
        case .protocolError: mapped = .protocolError
        case .localReset: mapped = .localReset
        case .overflow: mapped = .overflow
        case .remoteReset, .connectError: mapped = .remoteReset
        }
        takeOwner()?.upstreamReset(self, mapped)
    }

    func onAboveWriteBufferHighWatermark() {
        owner?.upstreamWriteBuffer(self, aboveHigh: true)
    }

    func onBelowWriteBufferLowWatermark() {
        owner?.upstreamWriteBuffer(self, aboveHigh: false)
    }
}
