import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
import RemoraUpstream

/// One attempt of a request as a stream from the host's pool, whatever the
/// wire (Envoy's `Router::UpstreamRequest` over an `HttpUpstream`): on
/// HTTP/1.1 the stream is a whole pooled connection, on HTTP/2 one of
/// many on a shared one. The head (in parts), body and trailers go out
/// through the stream's `HTTPRequestEncoder`; the response comes back
/// through the decoder calls. The pool connection owns the socket and the
/// codec: it counts bytes and protocol errors and closes itself; this
/// request only tells it when its stream is over (`streamEnded()`).
///
/// A tunnel (an upgrade's 101, a 2xx to a CONNECT passed on) carries
/// tunnel data both ways. It ends with the upstream's END_STREAM
/// (`upstreamTunnelEnded(connectionClosed: false)`) or with its
/// connection (a connection-termination reset:
/// `connectionClosed: true`; on HTTP/1 the connection's end is the only
/// end a tunnel has). Owned by the router (or a shadow), on the worker loop.
final class UpstreamRequest: UpstreamAttempt, UpstreamStreamRequester {
    /// Strong until the attempt ends (`cancel()` or the last event sent to
    /// the owner lets go), which breaks the owner ↔ request cycle. Not weak:
    /// a weak reference gives the owner a side table and slow refcounting.
    private var owner: UpstreamRequestOwner?
    let pool: any UpstreamStreamPool
    private let loop: EventLoop
    /// Sent (and let go) once the stream is open.
    private var head: HTTPRequestHead?
    private var stream: (any HTTPRequestEncoder)?
    private var connection: (any UpstreamStreamConnection)?
    private var ticket: Int?
    /// What waits for the stream (bounded by the cluster's buffer limit).
    private var pending: PendingRequestBody
    private var requestEnded = false
    private var responseEnded = false
    /// The upstream accepted an upgrade (a 101; over HTTP/2 an extended
    /// CONNECT answered 200, which the codec presents as 101) or a CONNECT
    /// passed on (a 2xx): the stream carries tunnel bytes.
    private var tunneling = false
    /// The request is a CONNECT passed on (no `connect_config`).
    private let isConnect: Bool
    private var readingWanted = true
    private var holdsReadDisable = false
    private var done = false
    /// The pool connection heard that the stream ended (once).
    private var streamReleased = false
    private(set) var sentAt: UInt64 = 0
    /// Why the connection could not be made (Envoy's transport failure reason).
    private(set) var transportFailureReason: String?

    var hostStats: HostStats { pool.hostStats }
    var localAddress: SocketAddress? { connection?.localAddress }
    var upstreamConnection: Connection? { connection?.socket }

    init(owner: UpstreamRequestOwner, pool: any UpstreamStreamPool, loop: EventLoop, head: HTTPRequestHead, bufferLimit: Int,
         isConnect: Bool = false) {
        self.owner = owner
        self.pool = pool
        self.loop = loop
        self.head = head
        self.isConnect = isConnect
        self.pending = PendingRequestBody(limit: bufferLimit)
    }

    func start() {
        switch pool.newStream(for: self) {
        case .ready(let stream, let connection):
            attach(stream, connection)
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

    // MARK: - UpstreamStreamRequester

    func streamReady(_ stream: any HTTPRequestEncoder, on connection: any UpstreamStreamConnection) {
        ticket = nil
        guard !done else {
            // Given up while waiting: the stream ends unused.
            self.connection = connection
            self.stream = stream
            stream.resetStream(.localReset)
            connection.flush()
            releaseStream()
            return
        }
        attach(stream, connection)
    }

    func streamFailed(_ failure: UpstreamPoolFailure) {
        ticket = nil
        guard !done else { return }
        done = true
        let outcome = failure.attemptOutcome
        transportFailureReason = outcome.transportFailure
        takeOwner()?.upstreamReset(self, outcome.reason)
    }

    private func attach(_ stream: any HTTPRequestEncoder, _ connection: any UpstreamStreamConnection) {
        self.stream = stream
        self.connection = connection
        sentAt = loop.nowMilliseconds
        let body = pending.slices
        let endWithHead = pending.ended && body.isEmpty && pending.trailers == nil
        // Moved out, not copied (no retain of its parts).
        if let head = head.take() { stream.encodeHeaders(head, endStream: endWithHead) }
        for (i, slice) in body.enumerated() {
            stream.encodeData(slice, endStream: i == body.count - 1 && pending.ended && pending.trailers == nil)
        }
        if let trailers = pending.trailers { stream.encodeTrailers(trailers) }
        if pending.ended { requestEnded = true }
        if !readingWanted { setReading(false) }
        connection.flush()
        // The queue now sits in the connection's buffers, which report their
        // own watermarks: give back the queue's.
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

    /// Flow control from the owner's downstream: no response bytes are
    /// read while it is full (one read-disable count on the stream, given
    /// back by the codec when the stream ends).
    func setReading(_ enabled: Bool) {
        readingWanted = enabled
        guard let stream, !done, holdsReadDisable == enabled else { return }
        holdsReadDisable = !enabled
        stream.readDisable(!enabled)
        if enabled { connection?.flush() }
    }

    /// Tunnel bytes after an upgrade are the stream's data (HTTP/1: raw
    /// bytes; HTTP/2: DATA, RFC 8441 §5); the downstream's end is the
    /// stream's end (HTTP/1: a half-close; HTTP/2: END_STREAM).
    func sendTunnelData(_ data: ByteSlice) {
        sendData(data, endStream: false)
    }

    func endTunnel() {
        sendData(emptySlice, endStream: true)
    }

    /// The owner gives up on this attempt (timeout, downstream reset,
    /// retry): a stream still open is reset (on HTTP/1 the connection
    /// closes with a reset).
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

    /// The stream is over for this attempt: its connection gets it back.
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
        fields.removeLeadingPseudoHeaders(pseudo)
        // An upgrade's 101, or a 2xx to a CONNECT passed on, opens the tunnel.
        if !endStream && (status == 101 || (isConnect && status >= 200 && status < 300)) { tunneling = true }
        guard endStream else {
            owner?.upstreamHeaders(self, status: status, headers: &fields, endStream: false)
            return
        }
        responseComplete()
        takeOwner()?.upstreamHeaders(self, status: status, headers: &fields, endStream: true)
    }

    func decodeData(_ chunk: ByteSlice, endStream: Bool) {
        guard !done else { return }
        if chunk.count > 0 { stream?.consumed(chunk.count) }
        if tunneling {
            if chunk.count > 0 { owner?.upstreamTunnelData(self, chunk) }
            guard endStream else { return }
            // The upstream ended its side (HTTP/2 END_STREAM): the tunnel
            // ends (and the stream, if the downstream had not ended its side).
            responseComplete()
            takeOwner()?.upstreamTunnelEnded(self, connectionClosed: false)
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

    /// The whole response arrived. A request still being sent is reset
    /// (Envoy's router ends the upstream stream with the response; the
    /// HTTP/1 codec has ended its stream already and closes the connection).
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
        if tunneling && reason == .connectionTermination {
            // The tunnel's connection ended (HTTP/1: the upstream closed it).
            takeOwner()?.upstreamTunnelEnded(self, connectionClosed: true)
            return
        }
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
