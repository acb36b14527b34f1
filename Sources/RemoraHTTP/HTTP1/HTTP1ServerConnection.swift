import RemoraCore

/// What an HTTP/1 server codec needs of its connection beyond the shared
/// callbacks.
public protocol HTTP1ServerConnectionCallbacks: HTTPServerConnectionCallbacks {
    /// A stream's consumer holds (or releases) reads. On HTTP/1 that is the
    /// connection's reading; one call per hold, released when the stream ends.
    func onHTTP1ReadDisable(_ disable: Bool)
    /// Bytes for the wire, in order (a head, a chunk's framing, body slices).
    func onHTTP1Output(_ slice: ByteSlice)
}

/// The HTTP/1.1 server codec (Envoy's `Http1::ServerConnectionImpl`): wire
/// bytes in, one stream at a time out through `HTTPServerConnectionCallbacks`;
/// the stream's response in through this object, which is the encoder of
/// whichever stream is current (no object per request).
///
/// Request at a time: bytes of a pipelined next request wait in the codec
/// until the current response is complete and the owner calls `resume()`
/// (not from inside an encoder call, so the old stream ends before the next
/// begins). The head is translated at this edge to the pseudo-header model
/// (`:method :scheme :authority :path` first; `Host` → `:authority`; an
/// absolute-form target gives `:authority` and `:path`); framing, `Expect`,
/// upgrades and keep-alive stay codec facts (`requestFraming`,
/// `closeAfterResponse`). A response head is written from `:status` and the
/// fields, with the framing fields this codec decides (`content-length: 0`,
/// `transfer-encoding: chunked`, `connection: close`/`keep-alive`).
///
/// Owns no socket: each piece of output goes to `onHTTP1Output` as it is
/// made, in wire order (an HTTP/1 response is written as it comes; nothing
/// is framed in batches as on HTTP/2). Lives on its connection's loop.
public final class HTTP1ServerConnection: HTTPServerCodec, HTTPResponseEncoder {
    public struct Options {
        public var parser: HTTP1Parser.Configuration
        /// `:scheme` of the requests (the connection's: "http" or "https").
        public var scheme: String
        /// `:authority` for an HTTP/1.0 request without `Host`.
        public var defaultHostForHTTP10: String?
        /// Whether response trailers are sent (`enable_trailers`).
        public var enableTrailers: Bool
        /// Where `headers_with_underscores_action` is counted (`http1.*`).
        public var stats: Stats<HTTP1CodecStat>?

        public init(parser: HTTP1Parser.Configuration = .request, scheme: String = "http",
                    defaultHostForHTTP10: String? = nil, enableTrailers: Bool = false) {
            self.parser = parser
            self.scheme = scheme
            self.defaultHostForHTTP10 = defaultHostForHTTP10
            self.enableTrailers = enableTrailers
        }
    }

    /// The owner outlives its codec (it drops the codec when it goes).
    unowned(unsafe) let callbacks: any HTTP1ServerConnectionCallbacks
    let shared: HTTP1SharedEncoder
    /// The shared encoder's (it outlives the codec).
    unowned(unsafe) let pseudoBytes: PseudoHeaderBytes
    /// `:scheme`'s value among them, when it is "http" or "https".
    let schemeRun: PseudoHeaderBytes.Run?
    let options: Options
    var parser: HTTP1Parser
    var pendingInput = PendingSlices()
    var parsing = false
    /// The current stream's consumer. Not retained: the owner keeps its
    /// stream until the stream has finished, which ends it here first.
    unowned(unsafe) var decoder: (any HTTPRequestDecoder)?

    /// A stream is open: its response is not complete yet.
    public private(set) var hasStream = false
    /// The current stream's request has been read to its end.
    public private(set) var requestComplete = false
    var requestEndDelivered = false
    /// No request after the current one: the connection closes once its
    /// response is out (set by the codec from the request and the response
    /// framing, and by the owner for its own reasons).
    public var closeAfterResponse = false
    /// The current request asked for the connection to close (HTTP/1.1
    /// `Connection: close`, HTTP/1.0 without keep-alive), or the owner
    /// decided this request is the connection's last (Envoy's
    /// `saw_connection_close_`).
    public var sawConnectionClose = false
    /// The response is HTTP/1.0 without a content-length: only the close ends it.
    private var responseCloseDelimited = false
    /// After an upgrade or CONNECT head every byte is tunnel data.
    public private(set) var isTunneling = false
    /// The stream was reset (locally, or by a broken request after its
    /// response started): nothing more can be said on the connection.
    public private(set) var aborted = false
    /// The stream being opened comes from a request head (false for a
    /// stream that only carries a codec error or timeout reply).
    public private(set) var openingWithHead = true
    public private(set) var requestFraming = HTTPRequestFraming(version: .http1_1)
    var isHeadRequest = false
    var responseStarted = false
    var responseChunked = false
    var responseHeadOnly = false
    var responseTunnel = false
    var inputStopped = false
    var underlyingAboveHigh = false
    var readHolds = HTTP1ReadHolds()

    public init(options: Options, encoder: HTTP1SharedEncoder, callbacks: any HTTP1ServerConnectionCallbacks) {
        self.options = options
        self.shared = encoder
        self.pseudoBytes = encoder.pseudoBytes
        self.schemeRun = encoder.pseudoBytes.scheme(options.scheme)
        self.callbacks = callbacks
        self.parser = HTTP1Parser(kind: .request, configuration: options.parser)
    }

    // MARK: - Input

    public func dispatch(_ data: ByteSlice) -> HTTPCodecStatus {
        guard !inputStopped else { return .ok }
        if isTunneling {
            if data.count > 0 { decoder?.decodeData(data, endStream: false) }
            return .ok
        }
        pendingInput.append(data)
        return processInput()
    }

    /// Parses held input once the current response is complete (or when
    /// the owner's write buffer went back under its low watermark).
    public func resume() -> HTTPCodecStatus {
        processInput()
    }

    /// The client half-closed a tunnel: the stream's last `decodeData`.
    public func tunnelInputEnded() {
        guard isTunneling, hasStream else { return }
        decoder?.decodeData(Self.empty, endStream: true)
    }

    /// Nothing more is read (the connection is closing).
    public func stopInput() {
        inputStopped = true
        pendingInput.removeAll()
    }

    /// Bytes of a next request wait for the current response.
    public var hasPendingInput: Bool { !pendingInput.isEmpty }
    /// No stream and no request begun: nothing would be lost by closing.
    public var isIdle: Bool { !hasStream && !parsing && parser.isIdle && pendingInput.isEmpty }
    /// A request head is arriving and has no stream yet.
    public var hasPartialHead: Bool { !hasStream && !parsing && !parser.isIdle && !inputStopped }

    func processInput() -> HTTPCodecStatus {
        // Re-entry (a stream ending inside a parser callback) resumes in the outer loop.
        guard !parsing else { return .ok }
        parsing = true
        defer { parsing = false }
        while !inputStopped, !pendingInput.isEmpty {
            if hasStream && requestComplete { return .ok }
            if !hasStream && (closeAfterResponse || aborted) { pendingInput.removeAll(); return .ok }
            // No new request while responses wait for a client that does not read.
            if !hasStream && underlyingAboveHigh { return .ok }
            let slice = pendingInput.removeFirst()
            var sink = Sink(codec: self)
            let result: HTTP1ParseResult
            do {
                result = try parser.parse(slice, delegate: &sink)
            } catch {
                countUnderscoreFields(error)
                return codecError(error)
            }
            if parser.droppedUnderscoreFields > 0 { countUnderscoreFields(nil) }
            if result.consumed < slice.count && !inputStopped {
                pendingInput.prepend(slice.dropFirst(result.consumed))
            }
            if !hasStream && (closeAfterResponse || parser.isClosed) { return .ok }
            switch result.stop {
            case .needMoreData, .messageComplete:
                continue
            case .upgrade:
                // What follows the head is tunnel data for the stream.
                isTunneling = true
                let rest = pendingInput.takeAll()
                for chunk in rest where chunk.count > 0 { decoder?.decodeData(chunk, endStream: false) }
                return .ok
            case .closed:
                pendingInput.removeAll()
                return .ok
            }
        }
        return .ok
    }

    fileprivate func requestHead(_ head: consuming HTTP1RequestHead) {
        let bodyless = head.framing == .none
        requestFraming = HTTPRequestFraming(version: head.version, expectsContinue: head.expectsContinue,
                                            isUpgrade: head.isUpgrade, isTunnel: head.framing == .tunnel,
                                            isConnect: head.method == .connect)
        isHeadRequest = head.method == .head
        if !head.keepAlive { closeAfterResponse = true }
        sawConnectionClose = !head.keepAlive
        var headers = HTTPHeaders()
        swap(&headers, &head.headers)
        translate(&headers, method: head.method, target: head.target, version: head.version)
        // After `translate`: the pseudo-header bytes take the second storage
        // slot, which the stream frees when it has read them (a copy of the
        // head then retains two storages, not three).
        shared.headerArena.lend(to: &headers)
        beginStream(requestComplete: bodyless, withHead: true)
        // Moved, not copied: the stream edits the fields in place.
        if let decoder { decoder.decodeHeaders(consume headers, endStream: bodyless) }
    }

    fileprivate func requestTrailers(_ trailers: HTTPHeaders) {
        guard hasStream, !requestEndDelivered else { return }
        requestComplete = true
        requestEndDelivered = true
        decoder?.decodeTrailers(trailers)
    }

    fileprivate func messageComplete() {
        guard hasStream, !requestEndDelivered else { return }
        requestComplete = true
        requestEndDelivered = true
        decoder?.decodeData(Self.empty, endStream: true)
    }

    private func beginStream(requestComplete complete: Bool, withHead: Bool) {
        hasStream = true
        requestComplete = complete
        requestEndDelivered = complete
        responseStarted = false
        responseChunked = false
        responseHeadOnly = false
        responseTunnel = false
        responseCloseDelimited = false
        openingWithHead = withHead
        decoder = callbacks.newStream(self)
    }

    /// A stream with no request head, for a reply the owner sends on its
    /// own (a head that did not arrive in time): the request counts as read.
    public func beginStreamWithoutHead() {
        precondition(!hasStream, "HTTP1ServerConnection: a stream is open")
        requestFraming = HTTPRequestFraming(version: .http1_1)
        isHeadRequest = false
        sawConnectionClose = false
        beginStream(requestComplete: true, withHead: false)
    }

    /// `headers_with_underscores_action` at work: fields dropped, or the
    /// request refused.
    private func countUnderscoreFields(_ error: HTTP1ParseError?) {
        if parser.droppedUnderscoreFields > 0 {
            options.stats?.add(.droppedHeadersWithUnderscores, Int64(parser.droppedUnderscoreFields))
            parser.droppedUnderscoreFields = 0
        }
        if error?.code == .underscoreInHeaderName { options.stats?.add(.requestsRejectedWithUnderscoresInHeaders) }
    }

    /// A malformed request: the stream answers with the error's status
    /// (a stream is opened for it if the head never arrived), or, if its
    /// response has started, is reset; the connection closes either way.
    private func codecError(_ error: HTTP1ParseError) -> HTTPCodecStatus {
        stopInput()
        closeAfterResponse = true
        if hasStream && responseStarted {
            let d = decoder
            aborted = true
            endStream()
            d?.onResetStream(.protocolError)
        } else {
            if !hasStream { beginStreamWithoutHead() }
            decoder?.sendCodecErrorReply(status: error.status, details: error.details)
        }
        return .protocolError(error.details)
    }

    /// Request line and `Host` → pseudo-headers, in place: names and common
    /// values reference the loop's `PseudoHeaderBytes`, the others the parsed
    /// bytes (only a joined Host, a default host or a custom method or
    /// scheme is copied, into the head's arena).
    private func translate(_ headers: inout HTTPHeaders, method: HTTPMethod, target: ByteSlice, version: HTTPVersion) {
        let p = pseudoBytes
        // The head's own storage (target and fields live there), and the loop's pseudo-header bytes.
        let head = headers.storageIndex(of: target.storage)
        let bytes = headers.storageIndex(of: p.buffer)
        var authority: (storage: UInt16, run: PseudoHeaderBytes.Run)?
        var joinedAuthority: String?
        if let first = headers.firstIndex(name: "host") {
            if headers.firstIndex(name: "host", from: first + 1) == nil {
                let e = headers.entries[first]
                authority = (e.valueStorage, (Int(e.valueOffset), Int(e.valueCount)))
                headers.remove(at: first)
            } else {
                // Repeated Host fields are joined, as Envoy does.
                joinedAuthority = headers.valueStrings(name: "host").joined(separator: ",")
                headers.remove(name: "host")
            }
        }
        var path: PseudoHeaderBytes.Run? = (target.offset, target.count)
        if target.count > 0, target.baseAddress.load(as: UInt8.self) != UInt8(ascii: "/"),
           let (host, rest) = Self.splitAbsoluteForm(target) {
            // RFC 9112 §3.2.2: an absolute-form target's authority replaces Host.
            authority = (head, (host.offset, host.count))
            joinedAuthority = nil
            path = rest.map { ($0.offset, $0.count) }
        }
        let before = headers.count
        if let m = p.method(method) {
            headers.appendReferencing(nameStorage: bytes, p.methodName, valueStorage: bytes, m)
        } else {
            headers.add(name: ":method", value: method.name)
        }
        if let s = schemeRun {
            headers.appendReferencing(nameStorage: bytes, p.schemeName, valueStorage: bytes, s)
        } else {
            headers.add(name: ":scheme", value: options.scheme)
        }
        if let authority {
            headers.appendReferencing(nameStorage: bytes, p.authorityName, valueStorage: authority.storage, authority.run)
        } else if let joinedAuthority {
            headers.add(name: ":authority", value: joinedAuthority)
        } else if version == .http1_0, let host = options.defaultHostForHTTP10 {
            headers.add(name: ":authority", value: host)
        }
        if let path {
            headers.appendReferencing(nameStorage: bytes, p.pathName, valueStorage: head, path)
        } else {
            headers.appendReferencing(nameStorage: bytes, p.pathName, valueStorage: bytes, p.slash)
        }
        headers.moveLastToFront(headers.count - before)
    }

    /// `scheme://authority[/path]` → the authority and the path (nil when
    /// the target has no path: "/").
    static func splitAbsoluteForm(_ target: ByteSlice) -> (ByteSlice, ByteSlice?)? {
        target.withUnsafeBytes { t -> (ByteSlice, ByteSlice?)? in
            guard let first = t.first, first != UInt8(ascii: "/"), t.count >= 3 else { return nil }
            var i = 0
            while i + 2 < t.count {
                if t[i] == UInt8(ascii: ":") && t[i + 1] == UInt8(ascii: "/") && t[i + 2] == UInt8(ascii: "/") { break }
                i += 1
            }
            guard i + 2 < t.count else { return nil }
            let hostStart = i + 3
            var slash = hostStart
            while slash < t.count && t[slash] != UInt8(ascii: "/") { slash += 1 }
            let host = ByteSlice(storage: target.storage, offset: target.offset + hostStart, count: slash - hostStart)
            let path = slash == t.count ? nil : ByteSlice(storage: target.storage, offset: target.offset + slash, count: t.count - slash)
            return (host, path)
        }
    }

    // MARK: - HTTPResponseEncoder

    public func encode1xxHeaders(_ headers: HTTPHeaders) {
        guard hasStream, !responseStarted else { return }
        let status = Self.status(of: headers)
        if status == 100 {
            emit(Self.continueHead)
        } else {
            emit(shared.encoder.encodeResponseHead(status: status, version: .http1_1, headers: headers, extras: []))
        }
    }

    public func encodeHeaders(_ headers: HTTPHeaders, endStream: Bool) {
        guard hasStream, !responseStarted else { return }
        responseStarted = true
        let status = Self.status(of: headers)
        let version: HTTPVersion = requestFraming.version == .http1_0 ? .http1_0 : .http1_1
        var extras: HTTP1Encoder.ResponseExtras = []
        if requestFraming.isUpgrade && status != 101 {
            // The upgrade was declined: the status and headers go back with
            // no body, and the connection closes (it was to be a tunnel).
            closeAfterResponse = true
            responseHeadOnly = true
            emit(shared.encoder.encodeResponseHead(status: status, version: .http1_1, headers: headers,
                                                            extras: [.connectionClose, .contentLengthZero]))
            if endStream { endResponse() }
            return
        }
        let informational = status < 200
        let bodyless = informational || status == 204 || status == 304
        responseHeadOnly = isHeadRequest || bodyless || endStream
        // A 2xx to a CONNECT opens the tunnel too, with no framing fields
        // (Envoy: `HTTP/1.1 200 OK`, date, server, nothing else).
        let opensTunnel = status == 101 || (requestFraming.isConnect && status >= 200 && status < 300)
        if opensTunnel {
            responseTunnel = true
            isTunneling = true
            responseHeadOnly = false
        } else if !bodyless && !headers.contains(name: "content-length") {
            // Envoy's codec: an empty answer says `content-length: 0`, except
            // to a HEAD; HTTP/1.0 gets the body until close; otherwise chunked
            // (a HEAD answer only says so).
            if endStream && !isHeadRequest {
                extras.insert(.contentLengthZero)
            } else if version == .http1_0 {
                if !isHeadRequest {
                    closeAfterResponse = true
                    responseCloseDelimited = true
                }
            } else {
                extras.insert(.chunked)
                responseChunked = !responseHeadOnly
            }
        }
        if !opensTunnel {
            if closeAfterResponse {
                extras.insert(.connectionClose)
            } else if version == .http1_0 {
                extras.insert(.connectionKeepAlive)
            }
        }
        emit(shared.encoder.encodeResponseHead(status: status, version: version, headers: headers, extras: extras))
        if endStream { endResponse() }
    }

    public func encodeData(_ chunk: ByteSlice, endStream: Bool) {
        guard hasStream, responseStarted else { return }
        if responseTunnel {
            if chunk.count > 0 { emit(chunk) }
            if endStream {
                closeAfterResponse = true
                endResponse()
            }
            return
        }
        if !responseHeadOnly && chunk.count > 0 {
            if responseChunked {
                emit(shared.encoder.chunkHeader(size: chunk.count))
                emit(chunk)
                emit(HTTP1Encoder.crlf)
            } else {
                emit(chunk)
            }
        }
        if endStream {
            if responseChunked { emit(HTTP1Encoder.lastChunk) }
            endResponse()
        }
    }

    public func encodeTrailers(_ trailers: HTTPHeaders) {
        guard hasStream, responseStarted else { return }
        if responseChunked {
            emit(shared.encoder.encodeLastChunk(trailers: options.enableTrailers ? trailers : nil))
        }
        endResponse()
    }

    /// A local reset: nothing more can follow on this connection.
    public func resetStream(_ reason: HTTPStreamResetReason) {
        guard hasStream else { return }
        let d = decoder
        aborted = true
        closeAfterResponse = true
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

    private func endResponse() {
        // The rest of the request will not be read: close after the response.
        if !requestComplete { closeAfterResponse = true }
        endStream()
    }

    private func endStream() {
        hasStream = false
        decoder = nil
        for _ in 0..<readHolds.releaseAll() { callbacks.onHTTP1ReadDisable(false) }
    }

    // MARK: - HTTPCodec

    public func flush() -> HTTPCodecStatus { .ok }

    /// HTTP/1 output is handed to the callbacks as it is made
    /// (`onHTTP1Output`): nothing waits here to be pulled.
    public var hasOutput: Bool { false }

    public func takeOutput(into slices: inout [ByteSlice]) {}

    @inline(__always)
    private func emit(_ slice: ByteSlice) {
        callbacks.onHTTP1Output(slice)
    }

    public func outputWritten() {}

    /// (While the parser runs, its state is its own: the parse loop looks
    /// once the parse call returns.)
    public var wantsClose: Bool { !hasStream && (closeAfterResponse || aborted || (!parsing && parser.isClosed)) }

    public var activeStreams: Int { hasStream ? 1 : 0 }

    /// Closing may skip the delayed close (Envoy's `FlushWrite` instead of
    /// `FlushWriteAndDelay`): the last request asked for the close and was
    /// read to its end (or its response ends with the close), so nothing
    /// the client still sends can turn the close into a reset.
    public var closesWithoutDelay: Bool {
        !aborted && sawConnectionClose && (requestComplete || responseCloseDelimited)
    }

    /// HTTP/1 has no PING, GOAWAY or SETTINGS: the owner closes instead.
    public func sendPing(_ opaqueData: UInt64) {}
    public func shutdownNotice() {}
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
        stopInput()
        guard hasStream else { return }
        let d = decoder
        endStream()
        d?.onResetStream(.connectionTermination)
    }

    // MARK: - Helpers

    /// `:status` wherever it is among the fields (200 if absent).
    static func status(of headers: HTTPHeaders) -> Int {
        for i in 0..<headers.count {
            let e = headers.entries[i]
            let n = headers.nameBytes(e)
            guard n.first == UInt8(ascii: ":"), ASCII.equalsLowercase(n, ":status") else { continue }
            let v = headers.valueBytes(e)
            guard v.count == 3 else { return 200 }
            var s = 0
            for c in v {
                guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return 200 }
                s = s * 10 + Int(c - UInt8(ascii: "0"))
            }
            return s >= 100 ? s : 200
        }
        return 200
    }

    static var empty: ByteSlice { HTTP1Encoder.crlf.dropFirst(2) }

    // Immutable after creation; its reference count is atomic, so sharing it
    // between loops is safe.
    nonisolated(unsafe) private static let continueBytes = PooledBuffer(copying: Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
    static var continueHead: ByteSlice { ByteSlice(storage: continueBytes, offset: 0, count: continueBytes.capacity) }
}

/// Forwards parser events to the codec (a concrete type, so the parser's
/// generic calls are direct).
private struct Sink: HTTP1ParserDelegate {
    /// Lives only inside `processInput`, whose `self` this is.
    unowned(unsafe) let codec: HTTP1ServerConnection

    mutating func onRequestHead(_ head: consuming HTTP1RequestHead) { codec.requestHead(head) }
    mutating func onBody(_ chunk: ByteSlice) { codec.decoder?.decodeData(chunk, endStream: false) }
    mutating func onTrailers(_ trailers: HTTPHeaders) { codec.requestTrailers(trailers) }
    mutating func onMessageComplete() { codec.messageComplete() }
}

/// Bytes read and not yet parsed, in order: one slice inline (the usual
/// case, a read parsed at once), an array only behind it (no allocation
/// per connection for a client that sends one request per read).
struct PendingSlices {
    private var first: ByteSlice?
    private var rest: [ByteSlice] = []

    var isEmpty: Bool { first == nil }

    mutating func append(_ slice: ByteSlice) {
        if first == nil { first = slice } else { rest.append(slice) }
    }

    mutating func prepend(_ slice: ByteSlice) {
        if let f = first { rest.insert(f, at: 0) }
        first = slice
    }

    /// The first slice; the queue must not be empty.
    mutating func removeFirst() -> ByteSlice {
        let f = first.unsafelyUnwrapped
        first = rest.isEmpty ? nil : rest.removeFirst()
        return f
    }

    mutating func removeAll() {
        first = nil
        rest.removeAll(keepingCapacity: true)
    }

    mutating func takeAll() -> [ByteSlice] {
        guard let f = first else { return [] }
        let all = [f] + rest
        removeAll()
        return all
    }
}
