import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP

/// One gRPC call of a `GRPCAsyncClient`, as an HTTP/2 stream on the
/// cluster's pool (Envoy's `Grpc::AsyncStreamImpl`): messages go out framed
/// as DATA, the response head, messages and trailers come back through the
/// decoder calls and reach the owner's `GRPCStreamCallbacks`. Messages sent
/// before the pool hands out a stream wait here. Owned by the client (until
/// the call ends) on the client's loop.
public final class GRPCStream: UpstreamStreamRequester {
    private var client: GRPCAsyncClient?
    private var callbacks: GRPCStreamCallbacks?
    private let loop: EventLoop
    private var pool: HTTP2ConnectionPool?
    private var head: HTTPHeaders
    private let timeoutMilliseconds: UInt64?
    private var deframer: GRPCMessageDeframer
    private var ticket: HTTP2ConnectionPool.Ticket?
    private var encoder: (any HTTPRequestEncoder)?
    private var connection: (any UpstreamStreamConnection)?
    /// Framed messages (and a last empty one ending the stream) waiting for the stream.
    private var queued: [(data: ByteSlice, endStream: Bool)] = []
    /// This side is ended (sent or queued).
    private var localEnded = false
    private var remoteComplete = false
    private var responseHeadSeen = false
    /// The call is over: no more callbacks.
    private var finished = false
    /// The pool heard that the stream ended (once).
    private var streamReleased = false
    private var timer: Timer?

    init(client: GRPCAsyncClient, callbacks: GRPCStreamCallbacks, head: HTTPHeaders, timeoutMilliseconds: UInt64?,
         maxReceiveMessageBytes: Int) {
        self.client = client
        self.callbacks = callbacks
        self.loop = client.loop
        self.head = head
        self.timeoutMilliseconds = timeoutMilliseconds
        self.deframer = GRPCMessageDeframer(maxMessageBytes: maxReceiveMessageBytes)
    }

    /// Whether the call has ended (closed by the server, failed, or reset).
    public var isFinished: Bool { finished }

    func start(pool: HTTP2ConnectionPool?) {
        if let timeoutMilliseconds {
            startTimer(afterMilliseconds: timeoutMilliseconds) { [unowned self] in
                self.finish(.unavailable, "upstream request timeout")
            }
        }
        guard let pool else {
            // Envoy's router: no host to send to is a 503 "no healthy upstream".
            failLater(.unavailable, "no healthy upstream")
            return
        }
        self.pool = pool
        switch pool.newStream(for: self) {
        case .ready(let stream, let connection):
            attach(stream, connection)
        case .pending(let ticket):
            self.ticket = ticket
        case .overflow:
            failLater(.unavailable, GRPCCallStatus.resetBeforeHeadersMessage("overflow"))
        }
    }

    /// Reports a failure found inside `startStream` from the loop's next
    /// turn, so that the owner has its handle before hearing about it.
    private func failLater(_ status: GRPCStatus, _ message: String) {
        startTimer(afterMilliseconds: 0) { [unowned self] in self.finish(status, message) }
    }

    private func startTimer(afterMilliseconds: UInt64, _ body: @escaping () -> Void) {
        let timer = self.timer ?? Timer(loop: loop)
        self.timer = timer
        timer.start(afterMilliseconds: afterMilliseconds, body)
    }

    // MARK: - Sending

    /// Sends one message; `endStream` half-closes this side with it. Ignored
    /// once this side is ended or the call is over.
    public func sendMessage(_ message: some Collection<UInt8>, endStream: Bool = false) {
        loop.assertInLoop()
        guard !finished, !localEnded else { return }
        localEnded = endStream
        send(GRPCMessageFramer.frame(message), endStream: endStream)
    }

    /// Half-closes this side (an empty DATA frame with END_STREAM, as Envoy's
    /// `closeStream`); the server's messages and status still come.
    public func closeStream() {
        loop.assertInLoop()
        guard !finished, !localEnded else { return }
        localEnded = true
        send(ByteSlice(copying: [UInt8]()), endStream: true)
    }

    /// Ends the call at once (RST_STREAM); no callback follows.
    public func resetStream() {
        loop.assertInLoop()
        guard !finished else { return }
        finished = true
        tearDown(reset: true)
        dropReferences()
    }

    private func send(_ data: ByteSlice, endStream: Bool) {
        guard let encoder, let connection else {
            queued.append((data, endStream))
            return
        }
        encoder.encodeData(data, endStream: endStream)
        connection.flush()
    }

    // MARK: - UpstreamStreamRequester

    public func streamReady(_ stream: any HTTPRequestEncoder, on connection: any UpstreamStreamConnection) {
        ticket = nil
        guard !finished else {
            self.connection = connection
            stream.resetStream(.localReset)
            connection.flush()
            releaseStream()
            return
        }
        attach(stream, connection)
    }

    public func streamFailed(_ failure: UpstreamPoolFailure) {
        ticket = nil
        switch failure {
        case .overflow:
            finish(.unavailable, GRPCCallStatus.resetBeforeHeadersMessage("overflow"))
        case .connectFailure(let error):
            let reason = error == .timedOut ? "connection timeout" : "remote connection failure"
            finish(.unavailable, GRPCCallStatus.resetBeforeHeadersMessage(reason))
        }
    }

    private func attach(_ stream: any HTTPRequestEncoder, _ connection: any UpstreamStreamConnection) {
        encoder = stream
        self.connection = connection
        var fields = HTTPHeaders()
        swap(&fields, &head)
        // A call ended before anything was sent is one HEADERS frame with END_STREAM.
        let endWithHead = queued.count == 1 && queued[0].endStream && queued[0].data.count == 0
        stream.encodeHeaders(fields, endStream: endWithHead)
        if !endWithHead {
            for item in queued { stream.encodeData(item.data, endStream: item.endStream) }
        }
        queued.removeAll()
        connection.flush()
    }

    // MARK: - HTTPResponseDecoder

    public func decode1xxHeaders(_ headers: HTTPHeaders) {}

    public func decodeHeaders(_ headers: consuming HTTPHeaders, endStream: Bool) {
        guard !finished else { return }
        var fields = headers
        let httpStatus = fields.status
        // Envoy's async client goes through its router, which charges the
        // response head to the cluster as an internal request's
        // (`upstream_rq_200`, `internal.upstream_rq_200`,
        // `upstream_rq_completed`), a stream that stays open (xDS) included.
        if let httpStatus, let pool { pool.stats.chargeResponse(status: httpStatus, internal: true) }
        var pseudo = 0
        while pseudo < fields.count, fields.name(at: pseudo).withUnsafeBytes({ $0.first }) == UInt8(ascii: ":") { pseudo += 1 }
        fields.removeFirst(pseudo)
        responseHeadSeen = true
        if endStream { remoteComplete = true }
        let outcome = GRPCCallStatus.head(httpStatus: httpStatus, headers: fields, endStream: endStream)
        callbacks?.onReceiveInitialMetadata(endStream ? HTTPHeaders() : fields)
        guard !finished else { return }
        switch outcome {
        case .proceed:
            break
        case .trailersOnly:
            endWithTrailers(fields)
        case .failed(let status):
            finish(status, "")
        }
    }

    public func decodeData(_ chunk: ByteSlice, endStream: Bool) {
        guard !finished else { return }
        if chunk.count > 0 { encoder?.consumed(chunk.count) }
        if endStream { remoteComplete = true }
        var messages: [[UInt8]] = []
        if let error = deframer.append(chunk, onMessage: { messages.append($0) }) {
            finish(error.status, error.description)
            return
        }
        for message in messages {
            // The owner may reset the call from a callback.
            guard !finished else { return }
            callbacks?.onReceiveMessage(message)
        }
        // A response must end with trailers; Envoy ends the call UNKNOWN.
        if endStream { finish(.unknown, "the response ended without trailers") }
    }

    public func decodeTrailers(_ trailers: HTTPHeaders) {
        guard !finished else { return }
        remoteComplete = true
        endWithTrailers(trailers)
    }

    private func endWithTrailers(_ trailers: HTTPHeaders) {
        let (status, message) = GRPCCallStatus.trailers(trailers)
        callbacks?.onReceiveTrailingMetadata(trailers)
        finish(status, message)
    }

    public func onResetStream(_ reason: HTTPStreamResetReason) {
        releaseStream()
        encoder = nil
        guard !finished else { return }
        let text = GRPCCallStatus.resetReasonText(reason)
        // Before the head Envoy's router answers with a 503 local reply
        // (UNAVAILABLE); after it the async stream is reset (INTERNAL).
        if responseHeadSeen {
            finish(.internal, "upstream reset after the response head. reset reason: \(text)")
        } else {
            finish(.unavailable, GRPCCallStatus.resetBeforeHeadersMessage(text))
        }
    }

    /// Never raised: messages are framed into their own buffers and a
    /// control-plane call has no source to pause.
    public func onAboveWriteBufferHighWatermark() {}
    public func onBelowWriteBufferLowWatermark() {}

    // MARK: - Ending

    private func finish(_ status: GRPCStatus, _ message: String) {
        guard !finished else { return }
        finished = true
        // Both sides done: the codec closed the stream; otherwise reset it
        // (Envoy's router ends the upstream stream with the response).
        tearDown(reset: !(remoteComplete && localEnded))
        let callbacks = self.callbacks
        dropReferences()
        callbacks?.onRemoteClose(status: status, message: message)
    }

    private func tearDown(reset: Bool) {
        timer?.close()
        timer = nil
        if let ticket, let pool {
            pool.cancel(ticket)
            self.ticket = nil
        }
        if reset, let encoder, !streamReleased {
            encoder.resetStream(.localReset)
            connection?.flush()
        }
        releaseStream()
        queued.removeAll()
    }

    private func dropReferences() {
        callbacks = nil
        client?.streamFinished(self)
        client = nil
    }

    /// The stream is over: the pool gets its capacity back.
    private func releaseStream() {
        guard !streamReleased, let connection else { return }
        streamReleased = true
        connection.streamEnded()
    }
}
