import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
import RemoraUpstream

/// `envoy.filters.network.http_connection_manager` for one downstream
/// connection: parses requests, runs each through the HTTP filter chain
/// (the router last), and writes responses. The codec is chosen on the
/// first bytes, as Envoy creates it: `codec_type` HTTP1 or HTTP2, or AUTO by
/// the HTTP/2 connection preface. Both are server codecs behind
/// `HTTPServerConnectionCallbacks`: HTTP/1 (`HTTP1ServerConnection`, driven
/// here) with one stream at a time, HTTP/2 (`HTTP2ServerConnection`,
/// `HTTPConnectionManager+HTTP2.swift`) with any number. Each stream is an
/// `ActiveStream` that answers through its codec's `HTTPResponseEncoder`.
///
/// Owned by the worker loop that accepted the connection. On HTTP/1 bytes of
/// a pipelined next request wait in the codec until the current response is
/// done, and reading stops meanwhile, as Envoy does.
///
/// Flow control: reads are disabled through the connection's counter
/// (`Connection.readDisable`), one count per reason: bytes of a pipelined
/// request waiting while the one before it is answered; a write buffer
/// above its high watermark (no new request is parsed while responses pile
/// up for a client that does not read); and whatever the stream's filters
/// hold (the router, while the upstream's write buffer is full).
public final class HTTPConnectionManager: ConnectionDelegate, DeferredFraming {
    public typealias Completion = (HTTPConnectionManager) -> Void

    let loop: EventLoop
    let connection: Connection
    /// The chain's config, shared by all its connections.
    private let sharedConfig: SharedHttpConnectionManagerConfig
    /// Borrowed from the shared copy: reading a field copies nothing.
    var config: HttpConnectionManagerConfig {
        _read { yield sharedConfig.config }
    }
    let context: HTTPWorkerContext
    let stats: Stats<HTTPStat>
    /// `listener.<address>.http.<stat_prefix>.*` of the listener the connection came in on.
    let listenerStats: Stats<ListenerHTTPStat>?
    /// Where each stream takes its route table when it starts.
    let routes: ConnectionRoutes
    /// The listener's `drain_type` is DEFAULT: while the server is
    /// health-check failed, each response closes the connection.
    public var drainsOnHealthCheckFail = true
    var drainsForHealthCheck: Bool { drainsOnHealthCheckFail && context.health.isFailed }
    /// Envoy's requested server name for the connection's streams: the SNI
    /// the TLS inspector read. (As in Envoy, a handshake without the
    /// inspector does not set it.)
    public var requestedServerName: String?
    /// The TLS facts for access logs, read once per connection.
    lazy var securityInfo: SecurityInfo? = connection.securityInfo
    /// This manager's `access_log` entries on this worker (nil: none).
    let accessLogs: AccessLogSet?
    /// The HTTP/1 codec (HTTP/1 only).
    private(set) var h1: HTTP1ServerConnection?
    /// The open streams, either codec's (HTTP/1: at most one).
    var streams = ActiveStreamList()
    /// HTTP/1's stream (the only one).
    var stream: ActiveStream? { streams.first }
    var requestsStarted = 0
    /// Asked before the codec exists (drain while undecided).
    private var closeRequested = false
    /// No further request will be read: the connection closes after the
    /// current response (HTTP/1: the codec's keep-alive decision).
    var closeAfterResponse: Bool {
        get { h1?.closeAfterResponse ?? closeRequested }
        set {
            if let h1 { h1.closeAfterResponse = newValue } else { closeRequested = newValue }
        }
    }
    var idleTimer: Timer?
    private var openedAt: UInt64
    private var onComplete: Completion?
    private(set) var closed = false
    /// This manager's own read-disable counts (see the type's comment).
    private var holdsPipelinedInput = false
    private var holdsWriteBufferFull = false
    /// The write buffer is above its high watermark.
    private(set) var writeBufferAboveHigh = false
    /// Closes a connection whose responses stopped moving (see `armStallTimer`).
    private var stallTimer: Timer?

    /// Which codec serves the connection, decided on its first bytes.
    enum CodecKind { case undecided, http1, http2 }
    var codecKind = CodecKind.undecided
    /// First bytes held while AUTO cannot yet tell the HTTP/2 preface from HTTP/1.
    var sniffed: [ByteSlice] = []
    /// The HTTP/2 codec and its open streams (HTTP/2 only).
    var h2: HTTP2ServerConnection?
    var h2Dispatching = false
    /// An `h2Flush` is queued for the end of this loop iteration.
    var h2FramingScheduled = false
    var h2OutputUnwritten = false
    var h2Slices: [ByteSlice] = []
    var h2DrainState = HTTP2DrainState.none
    var h2Timer: Timer?
    var h2Keepalive: HTTP2Keepalive?
    var h2PrematureResets = 0
    var h2ClosedStreams = 0
    var h2Aborting = false
    /// `common_http_protocol_options.max_connection_duration`.
    private var durationTimer: Timer?

    public init(loop: EventLoop, connection: Connection, config: SharedHttpConnectionManagerConfig,
                context: HTTPWorkerContext, stats: Stats<HTTPStat>, listenerStats: Stats<ListenerHTTPStat>? = nil,
                onComplete: @escaping Completion) {
        self.loop = loop
        self.connection = connection
        sharedConfig = config
        self.context = context
        self.stats = stats
        self.listenerStats = listenerStats
        self.onComplete = onComplete
        self.accessLogs = context.accessLogs.set(for: config.config.accessLogs)
        switch config.config.routes {
        case .inline(let table): routes = .inline(table)
        case .rds(let reference): routes = .rds(context.routeSlot(for: reference))
        }
        openedAt = loop.nowMilliseconds
    }

    /// Takes over the connection. `received` are bytes a listener filter
    /// already read from it (the HTTP inspector's); they are parsed first,
    /// as if just read.
    public func start(replaying received: [ByteSlice] = []) {
        connection.delegate = self
        connection.bufferGauges = stats.bufferGauges(rx: .downstreamCxRxBytesBuffered, tx: .downstreamCxTxBytesBuffered)
        stats.add(.downstreamCxTotal)
        stats.add(.downstreamCxActive)
        if connection.transport != nil {
            stats.add(.downstreamCxSslTotal)
            stats.add(.downstreamCxSslActive)
        }
        armIdleTimer()
        armConnectionDuration()
        connection.startReading()
        for slice in received { self.connection(connection, didRead: slice) }
    }

    // MARK: - Reading

    public func connection(_ connection: Connection, didRead data: ByteSlice) {
        stats.add(.downstreamCxRxBytesTotal, Int64(data.count))
        if delayedClosing { return }  // the answer is out; what the peer still sends is dropped
        switch codecKind {
        case .http1: break
        case .http2: h2Read(data); return
        case .undecided: chooseCodec(data); return
        }
        http1Read(data)
    }

    /// Envoy creates the codec on the first bytes: HTTP/2 for `HTTP2`, or for
    /// `AUTO` when they start with the connection preface's "PRI * HTTP/2"
    /// (a first read shorter than that which matches so far waits for more,
    /// where Envoy would take HTTP/1).
    private func chooseCodec(_ data: ByteSlice) {
        switch config.codec {
        case .http1:
            startHTTP1(with: [data])
        case .http2:
            startHTTP2(with: [data])
        case .auto:
            sniffed.append(data)
            switch Self.prefaceVerdict(sniffed) {
            case .undecided: return
            case .http2: let input = sniffed; sniffed = []; startHTTP2(with: input)
            case .http1: let input = sniffed; sniffed = []; startHTTP1(with: input)
            }
        }
    }

    private func startHTTP1(with input: [ByteSlice]) {
        codecKind = .http1
        stats.add(.downstreamCxHttp1Total)
        stats.add(.downstreamCxHttp1Active)
        var parser = HTTP1Parser.Configuration.request
        parser.maxHeadBytes = Int(config.maxRequestHeadersKB) * 1024
        parser.maxHeaderCount = Int(config.common.maxHeadersCount)
        parser.acceptHTTP10 = config.http1.acceptHTTP10
        parser.allowMissingHostForHTTP10 = config.http1.acceptHTTP10
        parser.allowChunkedLength = config.http1.allowChunkedLength
        parser.headersWithUnderscores = config.common.headersWithUnderscoresAction.codecAction
        var options = HTTP1ServerConnection.Options(
            parser: parser, scheme: connection.transport == nil ? "http" : "https",
            defaultHostForHTTP10: config.http1.defaultHostForHTTP10, enableTrailers: config.http1.enableTrailers)
        options.stats = context.downstreamHTTP1Stats
        let codec = HTTP1ServerConnection(options: options, encoder: context.sharedEncoder, callbacks: self)
        codec.closeAfterResponse = closeRequested
        h1 = codec
        for data in input where !closed && !delayedClosing { http1Read(data) }
    }

    private func http1Read(_ data: ByteSlice) {
        guard let h1 else { return }
        afterHTTP1(h1.dispatch(data))
    }

    /// Parses what the codec holds once the stream before it is done.
    func processInput() {
        guard let h1, !closed, !delayedClosing else { return }
        afterHTTP1(h1.resume())
    }

    /// After the HTTP/1 codec ran (its output is written as it comes): the
    /// connection's fate (closed on a broken request or when the codec is
    /// done with it), the read holds and the partial-head timer.
    private func afterHTTP1(_ status: HTTPCodecStatus) {
        guard let h1 else { return }
        if case .ok = status {} else {
            stats.add(.downstreamCxProtocolError)
            if h1.aborted { closeNow() } else { closeAfterFlush() }
            return
        }
        if closeIfCodecDone(h1) { return }
        updateReadHolds()
        if h1.hasPartialHead { armPartialHeadTimer() }
    }

    public func onHTTP1Output(_ slice: ByteSlice) {
        guard !closed else { return }
        write(slice)
    }

    /// Closes the connection if the HTTP/1 codec is done with it: at once
    /// after a reset, once written otherwise.
    private func closeIfCodecDone(_ h1: HTTP1ServerConnection) -> Bool {
        if h1.aborted {
            closeNow()
            return true
        }
        if h1.wantsClose {
            closeAfterFlush(delayed: !h1.closesWithoutDelay)
            return true
        }
        return false
    }

    /// After a stream's encoder calls: HTTP/2 frames what they queued (once
    /// per batch); HTTP/1 wrote as it went, and closes after a reset.
    func flushCodec() {
        if let h1 {
            if h1.aborted { closeNow() }
            return
        }
        scheduleH2Flush()
    }

    /// Takes or releases this manager's read-disable counts to match its state.
    func updateReadHolds() {
        // HTTP/2 holds reads per stream, in the codec.
        guard !closed, let h1 else { return }
        // Reads go on while a request waits for its response (no read_stop
        // and read_start per request); only once bytes of a next request
        // are waiting, reading stops (input bounded by one read).
        let tunneling = h1.isTunneling
        let waiting = !delayedClosing && !tunneling && h1.hasStream && h1.requestComplete && h1.hasPendingInput
        if waiting != holdsPipelinedInput {
            holdsPipelinedInput = waiting
            connection.readDisable(waiting)
        }
        let full = !delayedClosing && !tunneling && writeBufferAboveHigh && (!h1.hasStream || h1.requestComplete)
        if full != holdsWriteBufferFull {
            holdsWriteBufferFull = full
            connection.readDisable(full)
            if full { armStallTimer(writtenBefore: connection.bytesWritten) } else { stallTimer?.disarm() }
        }
    }

    /// Responses piled up past the write buffer's high watermark and new
    /// requests wait unparsed: a client that reads nothing for
    /// `delayed_close_timeout` (1 s when that is off) is not reading at all,
    /// and the connection is closed, as Envoy's HTTP/1 response-flood
    /// protection closes it (counted as Envoy counts it, `http1.response_flood`,
    /// when requests wait behind the responses). (Envoy closes once two
    /// responses are queued unsent, which also cuts off fast pipelining
    /// clients that do read; Remora waits for the buffer limit and a period
    /// without progress: `test_pipelined_burst_of_10000_requests_in_one_write`.)
    private func armStallTimer(writtenBefore: UInt64) {
        let period = config.delayedCloseTimeoutMilliseconds > 0 ? config.delayedCloseTimeoutMilliseconds : 1000
        let timer = stallTimer ?? Timer(loop: loop)
        stallTimer = timer
        timer.start(afterMilliseconds: period) { [self] in
            guard self.holdsWriteBufferFull, !self.closed else { return }
            let written = self.connection.bytesWritten
            if written != writtenBefore {
                self.armStallTimer(writtenBefore: written)
                return
            }
            if self.h1?.hasPendingInput == true {
                self.context.downstreamHTTP1Stats?.add(.responseFlood)
            } else {
                self.stats.add(.downstreamCxProtocolError)
            }
            self.h1?.stopInput()
            self.resetAllStreams()
            self.closeNow()
        }
    }

    private var partialHeadTimer: Timer?

    /// A request whose head is still arriving is already a stream to Envoy:
    /// `stream_idle_timeout` (and `request_headers_timeout`) apply to it.
    private func armPartialHeadTimer() {
        guard partialHeadTimer == nil, !closed else { return }
        let idle = config.streamIdleTimeoutMilliseconds
        let headers: UInt64 = config.requestHeadersTimeoutMilliseconds
        let timeout: UInt64
        if idle > 0 && headers > 0 { timeout = min(idle, headers) } else { timeout = max(idle, headers) }
        guard timeout > 0 else { return }
        let timer = Timer(loop: loop)
        partialHeadTimer = timer
        timer.start(afterMilliseconds: timeout) { [self] in
            guard self.stream == nil, !self.closed, !self.delayedClosing else { return }
            self.partialHeadTimer = nil
            let byHeaders = headers > 0 && headers == timeout
            if byHeaders { self.stats.add(.downstreamRqHeaderTimeout) } else { self.stats.add(.downstreamRqIdleTimeout) }
            self.closeAfterResponse = true
            guard let h1 = self.h1 else { return }
            h1.beginStreamWithoutHead()
            guard let stream = self.stream else { return }
            stream.beginWithoutHead()
            stream.sendLocalReply(LocalReply(
                status: 408, body: byHeaders ? "request header timeout" : "stream timeout",
                flag: .streamIdleTimeout, details: byHeaders ? "request_header_timeout" : "stream_idle_timeout",
                closeConnection: true))
        }
    }

    public func connectionDidReadEOF(_ connection: Connection) {
        peerClosed = true
        if delayedClosing {
            connection.shutdownWrite { [weak self] in self?.closeNow() }
            return
        }
        // An HTTP/2 client that half-closes is gone (Envoy closes).
        if codecKind != .http1 {
            closeNow()
            return
        }
        guard let h1 else { return }
        if h1.isTunneling {
            h1.tunnelInputEnded()
            flushCodec()
            return
        }
        // A half-close ends the request in flight, complete or not: Envoy
        // does not keep half-closed HTTP/1 connections and resets the stream
        // (and its upstream request) at once, without answering.
        if h1.hasStream {
            noteStreamsCutOff()
            stream?.downstreamReset(flag: .downstreamConnectionTermination)
        }
        closeNow()
    }

    public func connection(_ connection: Connection, didFailWith error: EventLoopError) {
        peerClosed = true
        resetAllStreams()
        closeNow()
    }

    /// The connection went (or is going) under every stream.
    func resetAllStreams() {
        noteStreamsCutOff()
        streams.forEach { $0.downstreamReset(flag: .downstreamConnectionTermination) }
    }

    public func connectionWriteBufferAboveHighWatermark(_ connection: Connection) {
        writeBufferAboveHigh = true
        if let h2 {
            h2.onUnderlyingConnectionAboveWriteBufferHighWatermark()
            return
        }
        h1?.onUnderlyingConnectionAboveWriteBufferHighWatermark()
        updateReadHolds()
    }

    public func connectionWriteBufferBelowLowWatermark(_ connection: Connection) {
        writeBufferAboveHigh = false
        if let h2 {
            noteH2OutputWritten()
            h2.onUnderlyingConnectionBelowWriteBufferLowWatermark()
            h2Flush()
            return
        }
        h1?.onUnderlyingConnectionBelowWriteBufferLowWatermark()
        updateReadHolds()
        if stream == nil && !delayedClosing { processInput() }
    }

    public func connectionDidClose(_ connection: Connection) {
        closed = true
        stallTimer?.close()
        stallTimer = nil
        durationTimer?.close()
        durationTimer = nil
        idleTimer?.close()
        idleTimer = nil
        partialHeadTimer?.close()
        partialHeadTimer = nil
        noteStreamsCutOff()
        // The codec ends its stream (`onResetStream(.connectionTermination)`).
        h1?.resetAllStreams()
        if h1 != nil { resetAllStreams() }
        stats.add(.downstreamCxActive, -1)
        if connection.transport != nil { stats.add(.downstreamCxSslActive, -1) }
        switch codecKind {
        case .http1: stats.add(.downstreamCxHttp1Active, -1)
        case .http2: http2ConnectionClosed()
        case .undecided: break
        }
        stats.add(.downstreamCxDestroy)
        stats.add(peerClosed ? .downstreamCxDestroyRemote : .downstreamCxDestroyLocal)
        stats.record(.downstreamCxLengthMs, milliseconds: loop.nowMilliseconds - openedAt)
        onComplete?(self)
        onComplete = nil
    }

    // MARK: - HTTP/1 streams

    /// The HTTP/1 codec opens a stream: a request head arrived (or a reply
    /// goes out without one).
    func newHTTP1Stream(_ encoder: HTTP1ServerConnection) -> ActiveStream {
        idleTimer?.disarm()
        partialHeadTimer?.close()
        partialHeadTimer = nil
        if encoder.openingWithHead {
            requestsStarted += 1
            let maxRequests = Int(config.common.maxRequestsPerConnection)
            if maxRequests > 0 && requestsStarted >= maxRequests {
                stats.add(.downstreamCxMaxRequestsReached)
                encoder.closeAfterResponse = true
                encoder.sawConnectionClose = true
            }
            // A listener drain reached the connection between requests: this one is its last.
            if drainOnNextRequest { encoder.closeAfterResponse = true }
        }
        let stream = ActiveStream(manager: self, encoder: encoder)
        streams.insert(stream)
        return stream
    }

    public func onHTTP1ReadDisable(_ disable: Bool) {
        guard !connection.isClosed else { return }
        connection.readDisable(disable)
    }

    enum PrefaceVerdict { case http1, http2, undecided }

    /// Whether `input` opens with "PRI * HTTP/2" (Envoy's `CLIENT_MAGIC_PREFIX`).
    static func prefaceVerdict(_ input: [ByteSlice]) -> PrefaceVerdict {
        let magic: StaticString = "PRI * HTTP/2"
        var matched = 0
        for slice in input {
            let ok = slice.withUnsafeBytes { bytes -> Bool in
                for byte in bytes {
                    guard matched < magic.utf8CodeUnitCount else { return true }
                    guard byte == magic.utf8Start[matched] else { return false }
                    matched += 1
                }
                return true
            }
            if !ok { return .http1 }
            if matched == magic.utf8CodeUnitCount { return .http2 }
        }
        return .undecided
    }

    // MARK: - Stream lifecycle

    /// The active stream finished its response.
    func streamFinished(_ finished: ActiveStream) {
        guard let h1 else {
            h2StreamFinished(finished)
            return
        }
        guard streams.remove(finished) else { return }
        guard !closed else { return }
        // A stream that ends before its response did (a reset, a tunnel
        // that never opened) leaves nothing sensible on the connection.
        if h1.hasStream { h1.resetStream(.localReset) }
        if closeIfCodecDone(h1) { return }
        armIdleTimer()
        // Inside a parser callback the codec is busy: its parse loop picks up from here.
        processInput()
    }

    // MARK: - Writing

    func write(_ slice: ByteSlice) {
        stats.add(.downstreamCxTxBytesTotal, Int64(slice.count))
        connection.write(slice)
    }

    /// Envoy's delayed close (FlushWriteAndDelay): the response is written,
    /// then the socket stays open until the peer closes it or
    /// `delayed_close_timeout` passes, so that a client still sending does
    /// not turn our close into a reset that destroys the response. Not
    /// `delayed`: closes once the response is written (the request was
    /// read to its end and asked for the close).
    func closeAfterFlush(delayed: Bool = true) {
        // Frames the streams queued go before the close.
        if h2FramingScheduled { h2Flush() }
        guard !closed, !delayedClosing else { return }
        delayedClosing = true
        h1?.stopInput()
        updateReadHolds()
        connection.startReading()
        let delay = config.delayedCloseTimeoutMilliseconds
        if !delayed || delay == 0 {
            connection.shutdownWrite { [weak self] in self?.closeNow() }
        }
        guard delay > 0 else { return }
        // Without the delay the timer still bounds a flush that makes no
        // progress (a peer that never reads), as Envoy's does for FlushWrite.
        let timer = Timer(loop: loop)
        idleTimer?.close()
        idleTimer = timer
        armDelayedClose(timer, delay)
    }

    /// As Envoy's `delayed_close_timeout`, the delay restarts only while
    /// the response is still being written out: a period with no write
    /// progress closes the connection, so a peer that never reads cannot
    /// keep it (and its buffered response) forever.
    private func armDelayedClose(_ timer: Timer, _ delay: UInt64) {
        let writtenAtArm = connection.bytesWritten
        timer.start(afterMilliseconds: delay) { [self] in
            if self.connection.writeBufferedBytes > 0 && self.connection.bytesWritten != writtenAtArm {
                self.armDelayedClose(timer, delay)
            } else {
                self.stats.add(.downstreamCxDelayedCloseTimeout)
                self.closeNow()
            }
        }
    }

    private(set) var delayedClosing = false
    /// The peer ended the connection (EOF or a socket error) rather than
    /// the proxy: Envoy's `RemoteClose` event.
    private var peerClosed = false
    private var countedStreamsCutOff = false

    /// Envoy's `downstream_cx_destroy{,_local,_remote}_active_rq`: the
    /// connection goes with streams still open. Counted once, before they
    /// are reset.
    func noteStreamsCutOff() {
        guard !streams.isEmpty, !countedStreamsCutOff else { return }
        countedStreamsCutOff = true
        stats.add(.downstreamCxDestroyActiveRq)
        stats.add(peerClosed ? .downstreamCxDestroyRemoteActiveRq : .downstreamCxDestroyLocalActiveRq)
    }

    func closeNow() {
        guard !closed else { return }
        connection.close()
    }

    // MARK: - Drain

    /// The server drains (SIGTERM): the response in flight carries
    /// `Connection: close` (or, if its head is out, the connection closes
    /// after it), and an idle keep-alive connection closes now, as Envoy's
    /// drain manager does for HTTP/1.
    ///
    /// A listener update drains with `closingIdleNow` false: a connection
    /// with no request in flight is not closed under a request the client
    /// may be sending; its next response carries `Connection: close`, and
    /// the worker closes what is still idle at the end of the drain time
    /// (`closeForDrainEnd`).
    public func startDraining(closingIdleNow: Bool = true) {
        guard !closed, !delayedClosing else { return }
        gradualDrain = nil
        if codecKind == .http2 {
            drainHTTP2()
            return
        }
        stats.add(.downstreamCxDrainClose)
        if stream == nil && !closingIdleNow {
            // The next request (its bytes may be on the way) is served, once.
            drainOnNextRequest = true
            return
        }
        closeAfterResponse = true
        if stream == nil {
            if requestsStarted == 0 && (h1?.isIdle ?? true) {
                closeNow()
            } else if h1?.hasPartialHead != true {
                closeAfterFlush()
            }
            // A head still arriving becomes a request answered with `Connection: close`.
        }
    }

    /// A listener drain reached this connection between requests (or
    /// before its codec was chosen: HTTP/2 then starts with GOAWAY).
    var drainOnNextRequest = false

    /// A gradual drain reached this connection and has not closed it yet:
    /// each response asks it (`responseMayCloseForDrain`). Nil otherwise, so
    /// a connection that is not draining pays one nil check per response.
    private(set) var gradualDrain: DrainSchedule?

    /// A listener drain (an LDS change or removal, `/drain_listeners`)
    /// reached this connection. `immediate`: `startDraining(closingIdleNow:
    /// false)` now. `gradual`: each response from now on closes the
    /// connection (HTTP/1 `connection: close`, HTTP/2 GOAWAY first) with the
    /// schedule's rising probability, as Envoy's HCM asks its drain
    /// decision on each response (`ConnectionManagerImpl::ActiveStream::encodeHeaders`).
    /// Idle connections are left alone: the end of the drain closes them.
    public func beginDrain(_ schedule: DrainSchedule) {
        guard !closed, !delayedClosing else { return }
        if schedule.strategy == .immediate {
            startDraining(closingIdleNow: false)
        } else if gradualDrain == nil && !drainOnNextRequest && h2DrainState == .none {
            gradualDrain = schedule
        }
    }

    /// A response head is about to go out while a gradual drain runs: the
    /// schedule decides whether it is the connection's last (HTTP/1) or is
    /// preceded by GOAWAY (HTTP/2).
    func responseMayCloseForDrain() {
        guard let drain = gradualDrain,
              drain.closesConnection(atMilliseconds: loop.nowMilliseconds, random: context.randomValue()) else { return }
        startDraining(closingIdleNow: false)
    }

    /// The end of a listener's drain time (its connections were drained by
    /// an LDS change or removal). Envoy removes the draining listener's (or
    /// filter chains') connections then, cutting what is in flight; Remora
    /// closes an idle or upgraded (WebSocket, CONNECT) connection now, as
    /// Envoy does, but lets a request in flight finish: HTTP/1 closes after
    /// its response, HTTP/2 sends its final GOAWAY and closes when its
    /// streams end. What is still open `drain_timeout` later is closed
    /// (an HTTP/2 connection carrying a WebSocket too: closing it now would
    /// cut its other streams).
    public func closeForDrainEnd() {
        guard !closed else { return }
        if streams.isEmpty || h1?.isTunneling == true {
            closeNow()
            return
        }
        if codecKind == .http2 {
            sendFinalGoAway()
        } else {
            closeAfterResponse = true
        }
        let timer = Timer(loop: loop)
        timer.start(afterMilliseconds: config.drainTimeoutMilliseconds) { [weak self] in
            timer.close()
            self?.closeNow()
        }
    }

    // MARK: - Connection duration

    /// Envoy's `onConnectionDurationTimeout`: HTTP/2 starts the drain
    /// sequence (GOAWAY); HTTP/1 closes now without a request in flight, or
    /// after the response in flight (with `connection: close`).
    private func armConnectionDuration() {
        guard let duration = config.common.maxConnectionDurationMilliseconds, duration > 0 else { return }
        let timer = Timer(loop: loop)
        durationTimer = timer
        timer.start(afterMilliseconds: duration) { [self] in
            guard !self.closed, !self.delayedClosing else { return }
            self.stats.add(.downstreamCxMaxDurationReached)
            switch self.codecKind {
            case .http2:
                self.drainHTTP2(counted: false)
            case .http1 where self.stream != nil:
                self.closeAfterResponse = true
            default:
                self.closeNow()
            }
        }
    }

    // MARK: - Idle timeout

    func armIdleTimer() {
        guard let idle = config.common.idleTimeoutMilliseconds, idle > 0, !closed else { return }
        if idleTimer == nil { idleTimer = Timer(loop: loop) }
        idleTimer?.start(afterMilliseconds: idle) { [self] in
            guard self.streams.isEmpty else { return }
            if self.codecKind == .http2 {
                self.stats.add(.downstreamCxIdleTimeout)
                self.http2IdleTimeout()
                return
            }
            self.stats.add(.downstreamCxIdleTimeout)
            self.closeAfterResponse = true
            // Envoy closes a connection that never carried a request at once;
            // otherwise it drains (drain_timeout), then closes with the delay.
            if self.requestsStarted == 0 {
                self.closeNow()
                return
            }
            let drain = self.config.drainTimeoutMilliseconds
            self.idleTimer?.start(afterMilliseconds: drain) { [self] in self.closeAfterFlush() }
        }
    }
}
