import RemoraCore

/// What an HTTP/1 client codec needs of its connection.
public protocol HTTP1ClientConnectionCallbacks: AnyObject {
    /// Bytes for the wire, in order (a head, a chunk's framing, body slices).
    func onHTTP1Output(_ slice: ByteSlice)
    /// The stream's consumer holds (or releases) response reads: on HTTP/1
    /// that is the connection's reading; released when the stream ends.
    func onHTTP1ReadDisable(_ disable: Bool)
    /// The request's side of a tunnel ended: half-close the connection
    /// (nothing frames the end of raw bytes).
    func onHTTP1TunnelOutputEnded()
}

/// The HTTP/1.1 client codec (Envoy's `Http1::ClientConnectionImpl`): one
/// request at a time out, its response in, as events of the client codec
/// interface. The object is the encoder of its one stream (no object per
/// request), so a pooled connection keeps one codec for its whole life.
///
/// - A request head comes in the pseudo-header model (`:method :authority
///   :path` become the request line and `host`) and gets Envoy's framing:
///   the head's own `content-length` or `transfer-encoding: chunked`, else
///   `content-length: 0` for an empty body (not for GET, HEAD, DELETE,
///   TRACE, CONNECT), else chunked; an upgrade or CONNECT head is followed
///   by raw tunnel bytes.
/// - A response is handed on as 1xx heads, the head with `:status` first
///   (it references a shared constant: no copy), body slices of the read
///   buffer, trailers, and the end (`decodeData(empty, endStream: true)`
///   unless trailers ended it). A HEAD, 204 or 304 answer has no body; a
///   body until close ends with `inputEnded()`; a 101 (or 2xx to CONNECT)
///   turns every further byte into tunnel data. The tunnel's end is the
///   connection's: `inputEnded()` resets the stream with
///   `.connectionTermination`, as Envoy's codec client resets its streams
///   when the connection closes (an HTTP/2 tunnel ends with END_STREAM).
///   The request's end of a tunnel is `onHTTP1TunnelOutputEnded()`.
/// - Bytes after a whole response (no request asked for them) or a response
///   that says `connection: close` leave the connection unusable
///   (`isReusable` false, `wantsClose`); a malformed or oversized response
///   resets the stream (`.protocolError`, Envoy's "protocol error") and
///   ends the connection; input ending mid-response resets it with
///   `.connectionTermination`.
///
/// The stream ends (for the codec) before its last event reaches the
/// decoder, so the decoder may hand the connection back to its pool and a
/// next `newStream` may begin from inside that call. Owns no socket: output
/// goes to `onHTTP1Output` as it is made. Lives on its connection's loop.
public final class HTTP1ClientConnection: HTTPClientCodec, HTTPRequestEncoder {
    /// Outlives the codec, or is replaced before the next stream (a pooled
    /// connection's codec reports to whoever holds the connection now).
    public unowned(unsafe) var callbacks: any HTTP1ClientConnectionCallbacks
    /// The loop's encoder.
    let shared: HTTP1SharedEncoder
    private var parser: HTTP1Parser
    /// The stream's consumer, until the stream ends.
    private var decoder: (any HTTPResponseDecoder)?

    /// A stream is open (from `newStream` until its response ended or it was reset).
    public private(set) var hasStream = false
    /// The stream's request has been sent to its end.
    public private(set) var requestComplete = false
    /// The stream's response head has arrived.
    public private(set) var responseStarted = false
    /// After a 101 (or a 2xx to CONNECT) every byte is tunnel data.
    public private(set) var isTunneling = false
    /// No request may follow on this connection (the response said close,
    /// extra bytes followed it, a request ended early, or an error).
    public private(set) var closeAfterResponse = false
    /// A response said the connection ends with it (`connection: close`, or
    /// HTTP/1.0 without keep-alive): Envoy's `upstream_cx_close_notify`.
    public private(set) var closeAnnounced = false
    /// The connection is broken (a reset, a malformed response, input ended).
    public private(set) var aborted = false
    /// Why the last stream was reset, if it was.
    public private(set) var resetReason: HTTPStreamResetReason?
    private var requestChunked = false
    private var requestTunnel = false
    private var requestMethod: HTTPMethod = .get
    private var responseEnded = false
    private var inputEnded = false
    private var underlyingAboveHigh = false
    private var readHolds = HTTP1ReadHolds()

    public init(parser configuration: HTTP1Parser.Configuration = .response, encoder: HTTP1SharedEncoder,
                callbacks: any HTTP1ClientConnectionCallbacks) {
        self.callbacks = callbacks
        self.shared = encoder
        self.parser = HTTP1Parser(kind: .response, configuration: configuration)
    }

    /// Whether the connection may carry another request once the current
    /// one is done.
    public var isReusable: Bool { !closeAfterResponse && !aborted && !isTunneling && !inputEnded }

    // MARK: - HTTPClientCodec

    public func newStream(_ decoder: any HTTPResponseDecoder) -> any HTTPRequestEncoder {
        precondition(canOpenStream, "HTTP1ClientConnection: a stream is open or the connection is done")
        beginStream(decoder)
        return self
    }

    /// `newStream` for a caller that keeps the concrete codec (no existential).
    public func beginStream(_ decoder: any HTTPResponseDecoder) {
        hasStream = true
        self.decoder = decoder
        requestComplete = false
        responseStarted = false
        responseEnded = false
        requestChunked = false
        requestTunnel = false
        resetReason = nil
        if underlyingAboveHigh { decoder.onAboveWriteBufferHighWatermark() }
    }

    /// HTTP/1 carries one request at a time.
    public var peerMaxConcurrentStreams: UInt32 { 1 }
    public var goAwayReceived: (errorCode: UInt32, lastStreamID: Int32)? { nil }
    public var canOpenStream: Bool { !hasStream && isReusable }
    public var activeStreams: Int { hasStream ? 1 : 0 }
    public var wantsClose: Bool { !hasStream && !isReusable }

    // MARK: - HTTPRequestEncoder

    public func encodeHeaders(_ headers: HTTPHeaders, endStream: Bool) {
        guard hasStream, !requestComplete else { return }
        let method = headers.method.map { HTTPMethod(bytes: $0) } ?? .get
        requestMethod = method
        parser.requestMethod = method
        var extras: HTTP1Encoder.RequestExtras = []
        requestTunnel = method == .connect || headers.containsToken("upgrade", inFieldsNamed: "connection")
        if requestTunnel {
            // Tunnel bytes follow as they are.
        } else if headers.contains(name: "content-length") {
            requestChunked = false
        } else if headers.containsToken("chunked", inFieldsNamed: "transfer-encoding") {
            requestChunked = true
        } else if endStream {
            if !method.isBodiless { extras.insert(.contentLengthZero) }
        } else {
            extras.insert(.chunked)
            requestChunked = true
        }
        // The request's own `connection: close` ends keep-alive too.
        if headers.containsToken("close", inFieldsNamed: "connection") { closeAfterResponse = true }
        emit(shared.encoder.encodeRequestHead(pseudoHeaders: headers, method: method, extras: extras))
        if endStream { requestComplete = true }
    }

    /// The fast path: the head written straight from its parts (request
    /// line, `host`, the fields; no pseudo-header map built). Its framing
    /// is what `head.framing` says (the fields already carry any
    /// `content-length` or `transfer-encoding`); no field is added.
    public func encodeHeaders(_ head: HTTPRequestHead, endStream: Bool) {
        guard hasStream, !requestComplete else { return }
        let method = head.method
        requestMethod = method
        parser.requestMethod = method
        requestTunnel = head.framing.contains(.tunnel)
        requestChunked = head.framing.contains(.chunked) && !requestTunnel
        // A CONNECT's request target is its authority (RFC 9110 §9.3.6).
        emit(shared.encoder.encodeRequestHead(method: method, target: method == .connect ? head.authority : head.path,
                                              host: head.authority, headers: head.fields))
        if endStream {
            requestComplete = true
            if requestChunked { emit(HTTP1Encoder.lastChunk) }
        }
    }

    public func encodeData(_ chunk: ByteSlice, endStream: Bool) {
        // Tunnel bytes go as they come, whatever the request's end said.
        guard hasStream, !requestComplete || requestTunnel else { return }
        if chunk.count > 0 {
            if requestChunked {
                emit(shared.encoder.chunkHeader(size: chunk.count))
                emit(chunk)
                emit(HTTP1Encoder.crlf)
            } else {
                emit(chunk)
            }
        }
        if endStream && !requestComplete {
            requestComplete = true
            if requestChunked { emit(HTTP1Encoder.lastChunk) }
            if requestTunnel { callbacks.onHTTP1TunnelOutputEnded() }
        }
    }

    /// Trailers go after the last chunk (a body that is not chunked drops
    /// them, as Envoy's codec does).
    public func encodeTrailers(_ trailers: HTTPHeaders) {
        guard hasStream, !requestComplete else { return }
        requestComplete = true
        if requestChunked { emit(shared.encoder.encodeLastChunk(trailers: trailers)) }
    }

    /// A local reset: the exchange is abandoned, so is the connection.
    public func resetStream(_ reason: HTTPStreamResetReason) {
        guard hasStream else { return }
        reset(reason)
    }

    /// Ends the stream with `reason`; the connection is not reused.
    private func reset(_ reason: HTTPStreamResetReason) {
        let d = decoder
        aborted = true
        resetReason = reason
        endStream()
        d?.onResetStream(reason)
    }

    public func readDisable(_ disable: Bool) {
        if readHolds.change(disable, streamOpen: hasStream) { callbacks.onHTTP1ReadDisable(disable) }
    }

    /// HTTP/1 has no per-stream window: body bytes need no acknowledging.
    public func consumed(_ count: Int) {}

    /// Output goes to the connection's write buffer at once.
    public var bufferedBytes: Int { 0 }

    // MARK: - Input

    public func dispatch(_ data: ByteSlice) -> HTTPCodecStatus {
        guard !aborted, !inputEnded else { return .ok }
        if isTunneling {
            if data.count > 0, hasStream { decoder?.decodeData(data, endStream: false) }
            return .ok
        }
        var input = data
        while input.count > 0 {
            guard hasStream, !responseEnded else {
                // Bytes no request asked for: the peer and this codec
                // disagree on framing. Not an error for the stream (its
                // response was whole), but the connection is not reused
                // (Envoy: `http1.extra_bytes` / `r/extra-bytes`).
                closeAfterResponse = true
                return .ok
            }
            var sink = HTTP1ClientSink(codec: self)
            let result: HTTP1ParseResult
            do {
                result = try parser.parse(input, delegate: &sink)
            } catch {
                return protocolError(error)
            }
            input = input.dropFirst(min(result.consumed, input.count))
            switch result.stop {
            case .needMoreData, .closed:
                if result.stop == .closed { closeAfterResponse = true }
                if responseEnded { endResponse(extraBytes: input.count > 0) }
                return .ok
            case .messageComplete:
                if responseEnded { endResponse(extraBytes: input.count > 0) }
                return .ok
            case .upgrade:
                isTunneling = true
                if input.count > 0, hasStream { decoder?.decodeData(input, endStream: false) }
                return .ok
            }
        }
        return .ok
    }

    /// The peer closed its side: a body until close (or a tunnel) ends
    /// here; a response cut short resets the stream with
    /// `.connectionTermination`. No input is taken afterwards.
    public func onInputEnded() {
        guard !inputEnded else { return }
        inputEnded = true
        guard hasStream, !aborted else { return }
        if isTunneling {
            reset(.connectionTermination)
            return
        }
        var sink = HTTP1ClientSink(codec: self)
        do {
            try parser.finish(delegate: &sink)
        } catch {
            // Envoy: the upstream connection terminated mid-response.
        }
        if responseEnded {
            endResponse(extraBytes: false)
        } else if hasStream {
            reset(.connectionTermination)
        }
    }

    private func protocolError(_ error: HTTP1ParseError) -> HTTPCodecStatus {
        aborted = true
        if hasStream { reset(.protocolError) }
        return .protocolError(error.details)
    }

    // MARK: - Parser events

    fileprivate func responseHead(_ head: consuming HTTP1ResponseHead) {
        guard hasStream else { return }
        var headers = HTTPHeaders()
        swap(&headers, &head.headers)
        shared.headerArena.lend(to: &headers)
        headers.prependStatus(head.status)
        if head.isInformational {
            decoder?.decode1xxHeaders(headers)
            return
        }
        responseStarted = true
        if !head.keepAlive {
            closeAfterResponse = true
            closeAnnounced = true
        }
        if head.framing == .none {
            // HEAD, 204, 304, or a zero length: the stream ends with its
            // head, delivered once the parse call returns.
            bodilessHead = headers
        } else {
            // A 101 or a 2xx to CONNECT opens the tunnel (the parser stops
            // after its head). Moved, not copied: the decoder edits the
            // fields in place.
            if let decoder { decoder.decodeHeaders(consume headers, endStream: false) }
        }
    }

    /// A bodiless response's head, held until the parse call returns.
    private var bodilessHead: HTTPHeaders?

    fileprivate func responseBody(_ chunk: ByteSlice) {
        decoder?.decodeData(chunk, endStream: false)
    }

    private var pendingTrailers: HTTPHeaders?

    fileprivate func responseTrailers(_ trailers: HTTPHeaders) {
        pendingTrailers = trailers
    }

    fileprivate func responseComplete() {
        responseEnded = true
    }

    /// The response ended: the stream is over for the codec first, then the
    /// decoder hears its last event.
    private func endResponse(extraBytes: Bool) {
        guard hasStream else { return }
        if extraBytes { closeAfterResponse = true }
        if !requestComplete { closeAfterResponse = true }
        let d = decoder
        // Moved out, not copied: the decoder edits the head in place.
        let bodiless = bodilessHead != nil
        var head = HTTPHeaders()
        if bodiless { swap(&head, &bodilessHead!) }
        bodilessHead = nil
        let trailers = pendingTrailers
        pendingTrailers = nil
        endStream()
        guard let d else { return }
        if bodiless {
            d.decodeHeaders(consume head, endStream: true)
        } else if let trailers {
            d.decodeTrailers(trailers)
        } else {
            d.decodeData(HTTP1ClientConnection.empty, endStream: true)
        }
    }

    private func endStream() {
        hasStream = false
        decoder = nil
        for _ in 0..<readHolds.releaseAll() { callbacks.onHTTP1ReadDisable(false) }
    }

    // MARK: - HTTPCodec

    public func flush() -> HTTPCodecStatus { .ok }
    /// HTTP/1 output is handed to `onHTTP1Output` as it is made.
    public var hasOutput: Bool { false }
    public func takeOutput(into slices: inout [ByteSlice]) {}
    public func outputWritten() {}

    @inline(__always)
    private func emit(_ slice: ByteSlice) {
        callbacks.onHTTP1Output(slice)
    }

    /// HTTP/1 has no PING, GOAWAY or SETTINGS: the owner closes instead.
    public func sendPing(_ opaqueData: UInt64) {}
    public func shutdownNotice() { closeAfterResponse = true }
    public func goAway() { closeAfterResponse = true }

    public func onUnderlyingConnectionAboveWriteBufferHighWatermark() {
        underlyingAboveHigh = true
        decoder?.onAboveWriteBufferHighWatermark()
    }

    public func onUnderlyingConnectionBelowWriteBufferLowWatermark() {
        underlyingAboveHigh = false
        decoder?.onBelowWriteBufferLowWatermark()
    }

    public func resetAllStreams() {
        inputEnded = true
        guard hasStream else { return }
        reset(.connectionTermination)
    }

    static var empty: ByteSlice { HTTP1Encoder.crlf.dropFirst(2) }
}

/// The parser's delegate: forwards to the codec (concrete, no existential).
private struct HTTP1ClientSink: HTTP1ParserDelegate {
    /// Lives only inside a parse call on `codec`.
    unowned(unsafe) let codec: HTTP1ClientConnection

    mutating func onResponseHead(_ head: consuming HTTP1ResponseHead) { codec.responseHead(head) }
    mutating func onBody(_ chunk: ByteSlice) { codec.responseBody(chunk) }
    mutating func onTrailers(_ trailers: HTTPHeaders) { codec.responseTrailers(trailers) }
    mutating func onMessageComplete() { codec.responseComplete() }
}
