import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP

/// One request/response exchange on a downstream connection: the filter
/// chain, its iteration state, and the response, sent through the codec's
/// `HTTPResponseEncoder` for this stream (HTTP/1 or HTTP/2 alike; the
/// decoder side is `ActiveStream+Codec.swift`).
/// Owned by its `HTTPConnectionManager`, on the same loop.
final class ActiveStream: HTTPDecoderFilterCallbacks, HTTPEncoderFilterCallbacks {
    var downstreamConnection: Connection? { manager.connection }
    /// Strong (the manager drops its stream when it finishes, which ends the
    /// cycle); `unowned` would cost a checked retain on every access.
    let manager: HTTPConnectionManager
    let streamInfo: StreamInfo
    private(set) var request: HTTPRequestMessage
    /// What the stream needs of the request head once its fields moved to
    /// `request` (plain values: nothing to retain); nil for a stream made
    /// without a parsed head (codec errors, timeouts).
    private(set) var requestHead: HeadFacts?
    /// The codec's half of this stream: the response goes through it, and
    /// reads are held through it (HTTP/2: per stream; HTTP/1: the connection).
    let encoder: any HTTPResponseEncoder

    struct HeadFacts {
        /// The head ended the request (no body, no trailers).
        var bodyless: Bool
        var version: HTTPVersion
        var expectsContinue: Bool
        var isUpgrade: Bool
        /// What follows the head is tunnel bytes (upgrade, CONNECT).
        var isTunnel: Bool
        /// A CONNECT: a 2xx answer opens the tunnel.
        var isConnect: Bool
    }
    private var decoders = FilterList<HTTPDecoderFilter>()
    private var encoders = FilterList<HTTPEncoderFilter>()
    /// Index of the decoder filter that stopped iteration, if one did.
    private var decodeStoppedAt: Int?
    private var bufferedBody: [ByteSlice] = []
    private var bufferedTrailers: HTTPHeaders?
    private var bufferedEnd = false
    private(set) var requestComplete = false
    var responseStarted = false
    private var finished = false
    var isFinished: Bool { finished }
    private var idleTimer: Timer?
    private var requestTimer: Timer?
    private var lastActivity: UInt64
    var isHeadRequest = false
    /// `stream_idle_timeout`, or the route's `idle_timeout` once a route set it (0 = off).
    private var streamIdleTimeout: UInt64 = 0
    var requestID: ByteSlice?
    /// The response head and trailers as sent, kept only for access logs that print them.
    var loggedResponseHeaders: HTTPHeaders?
    private var loggedResponseTrailers: HTTPHeaders?
    private var decodingHeaders = false
    private var accessLogPending = false
    /// How many sources say the downstream can take no more response bytes
    /// (the connection's write buffer; on HTTP/2 also the stream's queue).
    private var downstreamFullCount = 0
    /// The filter fed by an upstream (the router), registered through the callbacks.
    private var watermarkCallbacks: HTTPDownstreamWatermarkCallbacks?
    private var upgradeSink: HTTPUpgradeDataSink?
    /// Links in the manager's `ActiveStreamList`.
    var listNext: ActiveStream?
    unowned(unsafe) var listPrevious: ActiveStream?
    var isListed = false
    /// The request's upgrade type (lowercase), for the router's verdict.
    private(set) var upgradeType: String?
    /// Read off the codec, not `request`: filters hold `request` inout
    /// while they run, and may end the stream from there.
    private var isHTTP2: Bool { encoder.requestFraming.version == .http2 }
    /// Envoy's `is_grpc_request_`, fixed when the head arrives: local replies are gRPC replies.
    private(set) var isGRPCRequest = false
    /// `max_stream_duration` (the connection manager's or the route's); see `ActiveStream+StreamDuration`.
    var durationTimer: Timer?

    /// A stream the codec opened; its head comes with `decodeHeaders`.
    init(manager: HTTPConnectionManager, encoder: any HTTPResponseEncoder) {
        self.manager = manager
        self.encoder = encoder
        self.requestHead = nil
        streamInfo = Self.streamInfo(for: manager)
        lastActivity = streamInfo.startMilliseconds
        let version = encoder.requestFraming.version
        request = HTTPRequestMessage(method: .get, path: "", authority: nil, scheme: "http", version: version, headers: HTTPHeaders())
        if manager.accessLogs != nil {
            streamInfo.markWallStart()
            streamInfo.protocolName = Self.protocolName(version)
        }
    }

    /// The head arrived: its fields become the request, then the stream
    /// starts its filters.
    func beginRequest(_ head: consuming HTTPHeaders, endStream: Bool) {
        let framing = encoder.requestFraming
        isHeadRequest = Self.fillFromPseudoHeaders(&request, consume head, version: framing.version)
        requestHead = HeadFacts(bodyless: endStream, version: framing.version, expectsContinue: framing.expectsContinue,
                                isUpgrade: framing.isUpgrade, isTunnel: framing.isTunnel, isConnect: framing.isConnect)
        start()
    }

    private var startedWithoutHead = false

    /// Envoy's `downstream_rq_response_before_rq_complete`: the response
    /// head goes out before the request was decoded to its end (an early
    /// reply, or a reply to a request the codec refused or that timed out).
    private func countResponseBeforeRequestEnded() {
        if !requestComplete || startedWithoutHead { manager.stats.add(.downstreamRqResponseBeforeRqComplete) }
    }

    /// A stream that carries only a reply to a request without a head (the
    /// codec refused the bytes, or the head did not arrive in time): counted
    /// as a request, complete as it is.
    func beginWithoutHead() {
        guard requestHead == nil, !startedWithoutHead else { return }
        startedWithoutHead = true
        request.path = "/"
        requestComplete = true
        manager.stats.add(.downstreamRqTotal)
        manager.stats.add(request.version == .http2 ? .downstreamRqHttp2Total : .downstreamRqHttp1Total)
        manager.stats.add(.downstreamRqActive)
    }

    static func protocolName(_ version: HTTPVersion) -> String {
        if version == .http2 { return "HTTP/2" }
        return version == .http1_0 ? "HTTP/1.0" : "HTTP/1.1"
    }

    /// A new stream's info: now, the connection's addresses and SNI.
    private static func streamInfo(for manager: HTTPConnectionManager) -> StreamInfo {
        let info = StreamInfo(startMilliseconds: manager.loop.nowMilliseconds,
                              downstreamRemoteAddress: manager.connection.remoteAddress,
                              downstreamLocalAddress: manager.connection.localAddress,
                              downstreamLocalAddressRestored: manager.connection.isLocalAddressRestored)
        if let sni = manager.requestedServerName { info.requestedServerName = sni }
        if manager.accessLogs != nil {
            info.recordsSecurity = true
            info.downstreamSecurity = manager.securityInfo
            if info.downstreamSecurity != nil { info.downstreamConnection = manager.connection }
        }
        return info
    }

    // MARK: - Start

    func start() {
        isGRPCRequest = GRPCRequest.isGRPC(request.headers)
        let stats = manager.stats
        stats.add(.downstreamRqTotal)
        stats.add(request.version == .http2 ? .downstreamRqHttp2Total : .downstreamRqHttp1Total)
        stats.add(.downstreamRqActive)
        armTimers()
        for filter in manager.config.httpFilters {
            switch filter {
            case .router(let routerConfig):
                let router = Router(config: routerConfig, routeTable: manager.routes.current, context: manager.context,
                                    httpStats: manager.stats, downstreamTrailers: manager.config.http1.enableTrailers)
                decoders.append(router)
            case .healthCheck(let config):
                let filter = HealthCheckFilter(config: config, context: manager.context, stats: manager.stats)
                decoders.append(filter)
                encoders.append(filter)
            }
        }
        for filter in decoders { filter.setDecoderCallbacks(self) }
        for filter in encoders { filter.setEncoderCallbacks(self) }

        guard let head = requestHead else { return }
        // A request without a body is complete with its head (endStream).
        if head.bodyless {
            requestComplete = true
            streamInfo.lastDownstreamRxMilliseconds = manager.loop.nowMilliseconds
        }
        // Envoy answers a bare `Expect: 100-continue` itself and drops the header.
        if head.expectsContinue {
            _ = request.headers.remove(name: "expect")
            encode100Continue()
        }
        // Whether the upgrade is allowed is the router's call, once the
        // route (whose `upgrade_configs` override these) is known.
        if head.isUpgrade { upgradeType = request.headers.firstString(name: "upgrade")?.lowercased() }
        // Envoy treats CONNECT as an upgrade of its own type.
        if head.isConnect { upgradeType = "connect" }
        if request.authority == nil || request.authority?.isEmpty == true {
            sendLocalReply(LocalReply(status: 400, details: "missing_host_header", closeConnection: true))
            return
        }
        RequestHeaderPolicy.mutate(&request, manager: manager, requestID: &requestID)
        runDecodeHeaders(from: 0, endStream: head.bodyless)
    }

    // MARK: - Decode path

    private func runDecodeHeaders(from start: Int, endStream: Bool) {
        var i = start
        defer { if accessLogPending { writeAccessLog() } }
        while i < decoders.count, !finished {
            decodingHeaders = true
            let status = decoders[i].decodeHeaders(&request, endStream: endStream)
            decodingHeaders = false
            switch status {
            case .continue:
                i += 1
            case .stopIteration:
                if i < decoders.count - 1 { decodeStoppedAt = i }
                return
            }
        }
    }

    func decodeData(_ data: ByteSlice, endStream: Bool) {
        if requestHead?.isTunnel == true {
            // After an upgrade or CONNECT head: tunnel bytes for the upstream
            // (HTTP/2: the stream's window reopens as they are passed on,
            // unless the router holds reads).
            if data.count > 0 {
                upgradedDataFromDownstream(data)
                encoder.consumed(data.count)
            }
            if endStream {
                requestComplete = true
                upgradedDownstreamEnded()
            }
            return
        }
        touch()
        streamInfo.bytesReceived += UInt64(data.count)
        // The bytes are handed on below, so the peer's window for them
        // reopens (HTTP/2; unless a filter holds reads, which the codec counts).
        if endStream { markRequestComplete() }
        if data.count > 0 { encoder.consumed(data.count) }
        guard !finished else { return }
        passData(data, endStream: endStream, from: 0)
    }

    func decodeTrailers(_ trailers: HTTPHeaders) {
        markRequestComplete()
        guard !finished else { return }
        passTrailers(trailers, from: 0)
    }

    private func markRequestComplete() {
        requestComplete = true
        streamInfo.lastDownstreamRxMilliseconds = manager.loop.nowMilliseconds
        manager.context.recycle(requestTimer)
        requestTimer = nil
    }

    // Past a filter that stopped at the headers, the body, trailers and end
    // wait for `continueDecoding`; that filter and those before it see them
    // at once (Envoy's StopIteration holds back only the filters after it).

    private func passData(_ data: ByteSlice, endStream: Bool, from start: Int) {
        for i in start..<decoders.count {
            if let stopped = decodeStoppedAt, i > stopped {
                if data.count > 0 || !endStream { bufferedBody.append(data) }
                if endStream { bufferedEnd = true }
                return
            }
            switch decoders[i].decodeData(data, endStream: endStream) {
            case .continue: if finished { return }
            case .stopIterationAndBuffer, .stopIterationNoBuffer: return
            }
        }
    }

    private func passTrailers(_ trailers: HTTPHeaders, from start: Int) {
        var t = trailers
        for i in start..<decoders.count {
            if let stopped = decodeStoppedAt, i > stopped {
                bufferedTrailers = t
                return
            }
            if decoders[i].decodeTrailers(&t) == .stopIteration || finished { return }
        }
    }

    func continueDecoding() {
        guard let stopped = decodeStoppedAt, !finished else { return }
        decodeStoppedAt = nil
        let body = bufferedBody
        let trailers = bufferedTrailers
        let ended = bufferedEnd
        bufferedBody.removeAll()
        bufferedTrailers = nil
        bufferedEnd = false
        let next = stopped + 1
        runDecodeHeaders(from: next, endStream: requestHead?.bodyless == true)
        for (i, chunk) in body.enumerated() where !finished {
            passData(chunk, endStream: ended && trailers == nil && i == body.count - 1, from: next)
        }
        if let trailers, !finished { passTrailers(trailers, from: next) }
        if ended && body.isEmpty && trailers == nil && !finished { passData(emptySlice, endStream: true, from: next) }
    }

    // MARK: - Upgrade tunnel

    func upgradedDataFromDownstream(_ data: ByteSlice) {
        touch()
        upgradeSink?.upgradedDataFromDownstream(data)
    }

    func upgradedDownstreamEnded() {
        upgradeSink?.upgradedDownstreamEnded()
    }

    func addDownstreamWatermarkCallbacks(_ callbacks: HTTPDownstreamWatermarkCallbacks) {
        watermarkCallbacks = callbacks
        if downstreamFullCount > 0 { callbacks.onAboveWriteBufferHighWatermark() }
    }

    func connectionManagerEnablesUpgrade(_ type: String) -> Bool? {
        manager.config.upgradeEnabled(type)
    }

    func setUpgradeDataSink(_ sink: HTTPUpgradeDataSink) {
        upgradeSink = sink
    }

    func sendUpgradedData(_ data: ByteSlice) {
        touch()
        encoder.encodeData(data, endStream: false)
        manager.flushCodec()
    }

    func endUpgradedData(upstreamClosed: Bool) {
        if isHTTP2 && upstreamClosed {
            // Envoy's doEndStream: an upgrade over HTTP/2 whose upstream
            // connection went away ends with RST_STREAM CONNECT_ERROR (RFC
            // 9113 §8.5), not END_STREAM; the connection stays.
            resetStream(.connectError, flag: .upstreamConnectionTermination)
            return
        }
        // HTTP/1: nothing can follow a tunnel on the connection. HTTP/2: the
        // stream ends (END_STREAM), the connection stays.
        if !isHTTP2 { manager.closeAfterResponse = true }
        encoder.encodeData(emptySlice, endStream: true)
        finish()
        manager.flushCodec()
    }

    // MARK: - Encode path

    func encode100Continue() {
        encoder.encode1xxHeaders(HTTPHeaders([(":status", "100")]))
        manager.flushCodec()
    }

    func encodeHeaders(_ response: consuming HTTPResponseMessage, endStream: Bool) {
        guard !finished, !responseStarted else { return }
        touch()
        for filter in encoders.reversed() {
            if filter.encodeHeaders(&response, endStream: endStream) == .stopIteration { break }
        }
        responseStarted = true
        streamInfo.responseCode = response.status
        encodeResponseHead(&response, endStream: endStream)
        if endStream { finish() }
        manager.flushCodec()
    }

    /// The response head for the codec: the upstream's fields without the
    /// hop-by-hop ones, `:status`, and the connection manager's own fields;
    /// framing and keep-alive fields are the codec's to add.
    private func encodeResponseHead(_ response: inout HTTPResponseMessage, endStream: Bool) {
        let manager = self.manager
        var headers = HTTPHeaders()
        swap(&headers, &response.headers)
        // Hop-by-hop fields are the codec's business, not the peer's (an
        // accepted upgrade keeps its `connection: upgrade` where it was).
        let upgrade = response.status == 101
        let opensTunnel = upgrade || (requestHead?.isConnect == true && response.status >= 200 && response.status < 300)
        headers.removeFields { name in
            switch name.count {
            case 7: return !upgrade && HTTPHeaders.name(name, is: "upgrade")
            case 10: return (!upgrade && HTTPHeaders.name(name, is: "connection")) || HTTPHeaders.name(name, is: "keep-alive")
            case 16: return HTTPHeaders.name(name, is: "proxy-connection")
            case 17: return HTTPHeaders.name(name, is: "transfer-encoding")
            default: return false
            }
        }
        if requestHead?.isUpgrade == true && !upgrade {
            // The upstream declined the upgrade: Envoy keeps the status and
            // headers (not `x-envoy-upstream-service-time`). HTTP/1 drops the
            // body and closes (nothing can follow on a connection that was
            // to be a tunnel; the codec says so); HTTP/2 sends the response
            // as it came, on its stream.
            if !isHTTP2 {
                _ = headers.remove(name: "content-length")
                _ = headers.remove(name: "content-type")
            }
            _ = headers.remove(name: "x-envoy-upstream-service-time")
        }
        addManagerResponseHeaders(&headers)
        // The codec writes pseudo-headers first (HTTP/2) or as the status line (HTTP/1).
        headers.add(name: ":status", value: Self.statusText(response.status))
        if opensTunnel {
            manager.stats.add(.downstreamCxUpgradesTotal)
            manager.stats.add(.downstreamCxUpgradesActive)
            upgraded = true
        }
        // `/healthcheck/fail`: Envoy's drain decision closes every connection
        // of a `drain_type: DEFAULT` listener after its response (the
        // health_check filter, when configured, has added
        // `x-envoy-immediate-health-check-fail`).
        if manager.drainsForHealthCheck && !opensTunnel { manager.closeAfterResponse = true }
        if manager.gradualDrain != nil && !opensTunnel { manager.responseMayCloseForDrain() }
        if manager.accessLogs?.needsResponseHeaders == true { loggedResponseHeaders = headers }
        countResponseBeforeRequestEnded()
        encoder.encodeHeaders(headers, endStream: endStream)
        // HTTP/1: the connection is a tunnel now; reads are not held for pipelining.
        if opensTunnel { manager.updateReadHolds() }
        // Envoy's `chargeStats` (a response head sent completes the request)
        // leaves health checks out of the response stats.
        if !streamInfo.isHealthCheck { manager.countDownstreamResponse(status: response.status) }
    }

    /// What the connection manager adds to every proxied response, HTTP/1
    /// or HTTP/2: `date`, `server` (per `server_header_transformation`),
    /// `via`, and `x-request-id` when asked to.
    func addManagerResponseHeaders(_ headers: inout HTTPHeaders) {
        // The fields are read from the manager one by one: a local copy of
        // its whole config would retain (and release) every reference in it.
        let manager = self.manager
        if !headers.contains(name: "date") { headers.add(name: "date", value: manager.context.date.current()) }
        switch manager.config.serverHeaderTransformation {
        case .overwrite: headers.set(name: "server", value: manager.config.serverName)
        case .appendIfAbsent:
            if !headers.contains(name: "server") { headers.add(name: "server", value: manager.config.serverName) }
        case .passThrough: break
        }
        if let via = manager.config.via { Self.appendVia(&headers, via) }
        if manager.config.alwaysSetRequestIdInResponse, let requestID, !headers.contains(name: "x-request-id") {
            headers.add(name: "x-request-id", value: requestID)
        }
    }

    static func appendVia(_ headers: inout HTTPHeaders, _ via: String) {
        if let existing = headers.firstString(name: "via") {
            headers.set(name: "via", value: existing + ", " + via)
        } else {
            headers.add(name: "via", value: via)
        }
    }

    func encodeData(_ data: ByteSlice, endStream: Bool) {
        guard !finished, responseStarted else { return }
        touch()
        streamInfo.bytesSent += UInt64(data.count)
        encoder.encodeData(data, endStream: endStream)
        if endStream { finish() }
        manager.flushCodec()
    }

    func encodeTrailers(_ trailers: HTTPHeaders) {
        guard !finished, responseStarted else { return }
        if manager.accessLogs?.needsResponseHeaders == true { loggedResponseTrailers = trailers }
        encoder.encodeTrailers(trailers)
        finish()
        manager.flushCodec()
    }

    func continueEncoding() {}

    // MARK: - Local replies

    /// Envoy's local reply: `content-length, content-type: text/plain, date,
    /// server[, connection: close]` with a body; `date, server[, connection:
    /// close], content-length: 0` without one.
    func sendLocalReply(_ reply: LocalReply) {
        sendLocalReply(reply, extraHeaders: nil, bodyBytes: nil)
    }

    /// Direct responses and redirects are local replies too, with the
    /// route's headers first.
    func sendResponse(status: Int, headers: HTTPHeaders, body: [UInt8], details: String) {
        sendLocalReply(LocalReply(status: status, details: details), extraHeaders: headers, bodyBytes: body)
    }

    private func sendLocalReply(_ reply: LocalReply, extraHeaders: HTTPHeaders?, bodyBytes: [UInt8]?) {
        guard !finished else { return }
        if let flag = reply.flag { streamInfo.responseFlags.insert(flag) }
        streamInfo.responseCodeDetails = reply.details
        if responseStarted {
            // Too late for a reply: the client sees the response cut short.
            resetStream()
            return
        }
        if reply.closeConnection || !requestComplete { manager.closeAfterResponse = true }
        if reply.closeConnection && upgradeType != nil && isHTTP2 {
            // Envoy's refused upgrade sets `saw_connection_close_`, which on
            // HTTP/2 starts the drain: the graceful GOAWAY precedes the reply.
            manager.drainHTTP2(counted: false)
        }
        if manager.drainsForHealthCheck { manager.closeAfterResponse = true }
        if manager.gradualDrain != nil { manager.responseMayCloseForDrain() }
        responseStarted = true
        // A gRPC request gets a trailers-only reply (HTTP/2: one HEADERS frame with END_STREAM).
        let status = isGRPCRequest ? GRPCLocalReply.httpStatus : reply.status
        streamInfo.responseCode = status
        let manager = self.manager
        var headers = extraHeaders ?? HTTPHeaders()
        for (name, value) in reply.headers { headers.add(name: name, value: value) }
        var body = bodyBytes ?? Array(reply.body.utf8)
        if isGRPCRequest {
            GRPCLocalReply.rewrite(&headers, httpStatus: reply.status, grpcStatus: reply.grpcStatus, body: body, isHeadRequest: isHeadRequest)
            body = []
        }
        if !body.isEmpty {
            headers.add(name: "content-length", value: String(body.count))
            headers.add(name: "content-type", value: "text/plain")
        }
        let sendBody = !body.isEmpty && !isHeadRequest
        encodeLocalReplyHeaders(&headers, status: status, endStream: !sendBody)
        headers.add(name: "date", value: manager.context.date.current())
        headers.add(name: "server", value: manager.config.serverName)
        headers.add(name: ":status", value: Self.statusText(status))
        if manager.accessLogs?.needsResponseHeaders == true { loggedResponseHeaders = headers }
        countResponseBeforeRequestEnded()
        // The codec adds its framing: HTTP/1's `content-length: 0` (none for
        // 1xx/204/304, `transfer-encoding: chunked` for a HEAD) and
        // `connection: close`, as Envoy's codec does (checked against Envoy 1.40).
        encoder.encodeHeaders(headers, endStream: !sendBody)
        if sendBody {
            streamInfo.bytesSent += UInt64(body.count)
            encoder.encodeData(ByteSlice(copying: body), endStream: true)
        }
        if !streamInfo.isHealthCheck { manager.countDownstreamResponse(status: status) }
        finish()
        manager.flushCodec()
    }

    /// A local reply goes through the encoder filters too, before the
    /// connection manager adds its own headers (as in Envoy).
    func encodeLocalReplyHeaders(_ headers: inout HTTPHeaders, status: Int, endStream: Bool) {
        guard !encoders.isEmpty else { return }
        var response = HTTPResponseMessage(status: status, headers: HTTPHeaders())
        swap(&response.headers, &headers)
        for filter in encoders.reversed() {
            if filter.encodeHeaders(&response, endStream: endStream) == .stopIteration { break }
        }
        swap(&response.headers, &headers)
    }

    func resetStream() {
        resetStream(.localReset, flag: .localReset)
    }

    private func resetStream(_ reason: HTTPStreamResetReason, flag: ResponseFlag) {
        guard !finished else { return }
        // Envoy counts the reset twice: `tx_reset` for the filter's reset, and
        // `rx_reset` when its stream hears the codec reset it causes.
        manager.stats.add(.downstreamRqTxReset)
        manager.stats.add(.downstreamRqRxReset)
        streamInfo.responseFlags.insert(flag)
        // HTTP/2: the stream ends (RST_STREAM), the connection stays;
        // HTTP/1: the connection closes (nothing else can end the response).
        finish(reset: true)
        encoder.resetStream(reason)
        manager.flushCodec()
    }

    func onDecoderFilterAboveWriteBufferHighWatermark() {
        guard !finished else { return }
        readDisableHolds += 1
        manager.stats.add(.downstreamFlowControlPausedReadingTotal)
        encoder.readDisable(true)
    }

    func onDecoderFilterBelowWriteBufferLowWatermark() {
        guard readDisableHolds > 0 else { return }
        readDisableHolds -= 1
        manager.stats.add(.downstreamFlowControlResumedReadingTotal)
        encoder.readDisable(false)
        manager.flushCodec()
    }

    /// Read-disable counts the filters hold on the downstream connection.
    private var readDisableHolds = 0

    /// The downstream went away (or broke the protocol) mid-stream.
    func downstreamReset(flag: ResponseFlag) {
        guard !finished else { return }
        streamInfo.responseFlags.insert(flag)
        manager.stats.add(.downstreamRqRxReset)
        finish(reset: true)
    }

    func downstreamWriteBufferAboveHigh() {
        downstreamFullCount += 1
        guard downstreamFullCount == 1 else { return }
        watermarkCallbacks?.onAboveWriteBufferHighWatermark()
    }

    func downstreamWriteBufferBelowLow() {
        guard downstreamFullCount > 0 else { return }
        downstreamFullCount -= 1
        guard downstreamFullCount == 0 else { return }
        watermarkCallbacks?.onBelowWriteBufferLowWatermark()
    }

    // MARK: - Timeouts

    private func armTimers() {
        armStreamDuration()
        streamIdleTimeout = manager.config.streamIdleTimeoutMilliseconds
        if streamIdleTimeout > 0 {
            let timer = manager.context.timer()
            idleTimer = timer
            armIdle(after: streamIdleTimeout)
        }
        if manager.config.requestTimeoutMilliseconds > 0 {
            let timer = manager.context.timer()
            requestTimer = timer
            timer.start(afterMilliseconds: manager.config.requestTimeoutMilliseconds) { [self] in
                guard !self.requestComplete else { return }
                self.manager.stats.add(.downstreamRqTimeout)
                self.sendLocalReply(LocalReply(status: 408, body: "request timeout", details: "request_overall_timeout",
                                               closeConnection: true))
            }
        }
    }

    /// A route's `idle_timeout` replaces the connection manager's
    /// `stream_idle_timeout` for this stream (0 disables it).
    func overrideIdleTimeout(_ milliseconds: UInt64) {
        guard !finished else { return }
        streamIdleTimeout = milliseconds
        if milliseconds == 0 {
            manager.context.recycle(idleTimer)
            idleTimer = nil
            return
        }
        if idleTimer == nil { idleTimer = manager.context.timer() }
        touch()
        armIdle(after: milliseconds)
    }

    private func touch() {
        lastActivity = manager.loop.nowMilliseconds
    }

    private func armIdle(after ms: UInt64) {
        idleTimer?.start(afterMilliseconds: ms) { [self] in
            guard !self.finished else { return }
            let timeout = self.streamIdleTimeout
            let idle = self.manager.loop.nowMilliseconds - self.lastActivity
            if idle < timeout {
                self.armIdle(after: timeout - idle)
                return
            }
            self.manager.stats.add(.downstreamRqIdleTimeout)
            self.streamInfo.responseFlags.insert(.streamIdleTimeout)
            // Envoy: 408 while the request is incomplete (and close), 504 once
            // it was sent on (the connection stays).
            if self.requestComplete {
                self.sendLocalReply(LocalReply(status: 504, body: "stream timeout", details: "stream_idle_timeout"))
            } else {
                self.sendLocalReply(LocalReply(status: 408, body: "stream timeout", details: "stream_idle_timeout",
                                               closeConnection: true))
            }
        }
    }

    // MARK: - End

    private func writeAccessLog() {
        accessLogPending = false
        manager.accessLogs?.log(AccessLogInput(info: streamInfo, request: request, responseHeaders: loggedResponseHeaders,
                                               responseTrailers: loggedResponseTrailers,
                                               endMilliseconds: streamInfo.endMilliseconds ?? manager.loop.nowMilliseconds))
    }

    private var upgraded = false

    func finish(reset: Bool = false) {
        guard !finished else { return }
        finished = true
        if upgraded { manager.stats.add(.downstreamCxUpgradesActive, -1) }
        manager.context.recycle(idleTimer)
        idleTimer = nil
        manager.context.recycle(requestTimer)
        requestTimer = nil
        manager.context.recycle(durationTimer)
        durationTimer = nil
        let stats = manager.stats
        stats.add(.downstreamRqActive, -1)
        stats.record(.downstreamRqTime, milliseconds: manager.loop.nowMilliseconds - streamInfo.startMilliseconds)
        for filter in decoders { filter.onStreamDestroyed() }
        if manager.accessLogs != nil {
            let now = manager.loop.nowMilliseconds
            streamInfo.endMilliseconds = now
            if responseStarted { streamInfo.lastDownstreamTxMilliseconds = now }
            // A filter ending the stream from `decodeHeaders` still holds
            // the request (inout): the line is written once it returns.
            if decodingHeaders { accessLogPending = true } else { writeAccessLog() }
        }
        for filter in encoders { filter.onStreamDestroyed() }
        decoders.removeAll()
        encoders.removeAll()
        watermarkCallbacks = nil
        upgradeSink = nil
        // What the filters still hold ends with the stream, in the codec.
        readDisableHolds = 0
        if !reset && (!requestComplete && requestHead != nil || startedWithoutHead) {
            // Envoy's doEndStream: a response that ends before its request
            // did (or answers one the codec refused) resets the stream
            // (HTTP/2: NO_ERROR, after the response; HTTP/1: the connection
            // closes). Envoy's stream hears its own codec reset and counts
            // it as `downstream_rq_rx_reset`.
            manager.stats.add(.downstreamRqRxReset)
            if isHTTP2 { encoder.resetStream(.localReset) }
        }
        manager.streamFinished(self)
    }
}
