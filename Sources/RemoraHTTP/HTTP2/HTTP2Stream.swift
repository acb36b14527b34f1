import RemoraCore

/// One HTTP/2 stream of an `HTTP2Connection`: the encoder the consumer
/// calls, and the codec's per-stream state (the head being received, the
/// queue of body bytes to send, flow-control accounting).
///
/// Owned by its connection (in its list of active streams) from its first
/// HEADERS (server) or `newStream` (client) until it closes; the consumer
/// holds it as its encoder.
/// The stream holds its decoder until it closes, then lets go. Lives on the
/// connection's loop. `connection` is `unowned(unsafe)`: the connection
/// outlives its streams' use (it resets them all when it goes).
public final class HTTP2Stream: HTTPResponseEncoder, HTTPRequestEncoder {
    unowned(unsafe) let connection: HTTP2Connection
    /// 0 until a client stream's HEADERS are submitted.
    public internal(set) var id: Int32 = 0
    var requestDecoder: (any HTTPRequestDecoder)?
    /// `expectsContinue` is read off the head; an extended CONNECT is an
    /// upgrade and a tunnel.
    public internal(set) var requestFraming = HTTPRequestFraming(version: .http2)
    /// The upgrade this stream carries as an extended CONNECT (RFC 8441):
    /// the `:protocol` received (server) or the `upgrade` sent (client).
    /// Its answer is converted (`HTTPHeaders+Upgrade.swift`).
    var upgrade: ByteSlice?
    var responseDecoder: (any HTTPResponseDecoder)?

    /// The head (or trailers) being received, and its size so far.
    var receiving = HTTPHeaders()
    /// Its size so far, kept here: reading `receiving.count` through the
    /// class would copy the struct (a retain per reference in it).
    var receivingBytes = 0
    var receivingCount = 0
    var receivedFinalHeaders = false
    /// The DATA chunk received and not yet delivered (delivered with the
    /// frame's END_STREAM when the frame ends).
    var pendingChunk: ByteSlice?

    var remoteEnd = false
    var localEnd = false
    /// A frame with END_STREAM went out for this side.
    var localEndSent = false
    /// A reset asked for once this side's end was queued: RST_STREAM goes
    /// right after the END_STREAM frame (Envoy's deferred reset), so the
    /// peer gets the whole response first.
    var resetAfterEnd = false
    /// `onResetStream` was called (or the stream closed): no more events.
    var finished = false
    var resetDueToMessagingError = false

    // Sending.
    var headersSubmitted = false
    var hasDataProvider = false
    var dataDeferred = false
    var endAfterQueue = false
    var pendingTrailers: HTTPHeaders?
    var sendQueue = HTTP2SliceQueue()
    var queuedBytes = 0
    var watermark: WatermarkBuffer

    // Receiving flow control: bytes the consumer consumed but whose window
    // is held back while read-disabled.
    var readDisableCount = 0
    var heldConsumed = 0

    // The connection's intrusive list of active streams.
    var next: HTTP2Stream?
    unowned(unsafe) var previous: HTTP2Stream?
    var isListed = false

    init(connection: HTTP2Connection, highWatermark: Int) {
        self.connection = connection
        self.watermark = WatermarkBuffer(highWatermark: highWatermark)
    }

    var decoder: (any HTTPStreamDecoder)? {
        if let d = requestDecoder { return d }
        return responseDecoder
    }

    // MARK: - HTTPStreamEncoder

    public func encode1xxHeaders(_ headers: HTTPHeaders) {
        connection.submitInformational(self, headers)
    }

    public func encodeHeaders(_ headers: HTTPHeaders, endStream: Bool) {
        connection.submitHeaders(self, headers, endStream: endStream)
    }

    public func encodeData(_ chunk: ByteSlice, endStream: Bool) {
        guard !localEnd, !finished else { return }
        if chunk.count > 0 {
            sendQueue.append(chunk)
            queuedBytes += chunk.count
            connection.pendingSendBytesChanged(chunk.count)
            if watermark.added(chunk.count) == .aboveHigh { decoder?.onAboveWriteBufferHighWatermark() }
        }
        if endStream { endAfterQueue = true }
        connection.resumeData(self)
    }

    public func encodeTrailers(_ trailers: HTTPHeaders) {
        guard !localEnd, !finished else { return }
        // Empty trailers: Envoy ends the stream with an empty DATA frame.
        if !trailers.isEmpty { pendingTrailers = trailers }
        endAfterQueue = true
        connection.resumeData(self)
    }

    public func resetStream(_ reason: HTTPStreamResetReason) {
        connection.resetStream(self, reason)
    }

    public func readDisable(_ disable: Bool) {
        if disable {
            readDisableCount += 1
        } else {
            precondition(readDisableCount > 0, "HTTP2Stream: readDisable(false) without a disable")
            readDisableCount -= 1
            if readDisableCount == 0 && heldConsumed > 0 {
                let n = heldConsumed
                heldConsumed = 0
                connection.consumeStream(self, n)
            }
        }
    }

    public func consumed(_ count: Int) {
        guard count > 0 else { return }
        if readDisableCount > 0 {
            heldConsumed += count
        } else {
            connection.consumeStream(self, count)
        }
    }

    public var bufferedBytes: Int { queuedBytes }

    // MARK: - Send queue

    /// Moves the first `count` queued bytes to `output` (references, no
    /// copy). Returns whether the queue fell to its low watermark.
    func dequeue(_ count: Int, into output: inout HTTP2Output) -> Bool {
        sendQueue.move(count, into: &output)
        queuedBytes -= count
        connection.pendingSendBytesChanged(-count)
        return watermark.drained(count) == .belowLow
    }

    /// Drops the send queue (the stream ended).
    func dropQueue() {
        if queuedBytes > 0 {
            connection.pendingSendBytesChanged(-queuedBytes)
            _ = watermark.drained(queuedBytes)
        }
        sendQueue.removeAll()
        queuedBytes = 0
        pendingTrailers = nil
    }
}
