import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
import RemoraUpstream

/// Where an HTTP/2 connection is in Envoy's drain sequence.
enum HTTP2DrainState {
    case none
    /// The graceful GOAWAY (last stream 2^31-1) went out; the final one
    /// follows after `drain_timeout`.
    case noticed
    /// The final GOAWAY went out: the connection closes when its streams end.
    case closing
}

/// The HTTP/2 side of the connection manager: one `HTTP2ServerConnection`
/// fed from the socket, a stream per request (`ActiveStream` with the
/// codec's encoder), output pulled from the codec once per batch.
extension HTTPConnectionManager: HTTP1ServerConnectionCallbacks {
    func startHTTP2(with input: [ByteSlice]) {
        codecKind = .http2
        connection.reportsWritesDrained = true
        stats.add(.downstreamCxHttp2Total)
        stats.add(.downstreamCxHttp2Active)
        var options = HTTP2Options(
            config.http2, maxHeaderListBytes: Int(config.maxRequestHeadersKB) * 1024,
            maxHeadersCount: Int(config.common.maxHeadersCount),
            streamErrorOnInvalidHTTPMessaging: config.streamErrorOnInvalidHTTPMessage,
            streamBufferLimit: connection.highWatermark)
        options.headersWithUnderscores = config.common.headersWithUnderscoresAction.codecAction
        // 16 KiB blocks: the codec copies only frame headers, control frames
        // and header fields into them (bodies are referenced), so 64 KiB
        // blocks would mostly pin memory.
        h2 = HTTP2ServerConnection(options: options, pool: loop.smallBufferPool, stats: context.downstreamHTTP2Stats(),
                                   callbacks: self)
        armKeepalive()
        // The server preface (SETTINGS) goes out at once, as Envoy's does.
        h2Flush()
        if drainOnNextRequest {
            // Drained before its first bytes told HTTP/2 apart (counted then).
            drainOnNextRequest = false
            drainHTTP2(counted: false)
        }
        for data in input where !closed && !delayedClosing { h2Read(data) }
    }

    func h2Read(_ data: ByteSlice) {
        guard let h2, !closed else { return }
        noteH2OutputWritten()
        h2Dispatching = true
        let status = h2.dispatch(data)
        h2Dispatching = false
        // The dispatch framed whatever was queued.
        h2FramingScheduled = false
        afterHTTP2(status)
    }

    /// Frames what the streams queued and writes it (not while the codec is
    /// dispatching: its dispatch flushes at the end).
    func h2Flush() {
        guard !h2Dispatching, let h2, !closed else { return }
        h2FramingScheduled = false
        noteH2OutputWritten()
        afterHTTP2(h2.flush())
    }

    /// `h2Flush` at the end of this loop iteration: the streams answered
    /// while one batch of events is handled (an upstream read carries many
    /// responses) are framed in one pass of the codec.
    func scheduleH2Flush() {
        guard !h2Dispatching, !h2FramingScheduled, h2 != nil, !closed else { return }
        h2FramingScheduled = true
        loop.scheduleFraming(self)
    }

    public func frameDeferredOutput() {
        guard h2FramingScheduled else { return }
        h2Flush()
    }

    private func afterHTTP2(_ status: HTTPCodecStatus) {
        guard let h2 else { return }
        switch status {
        case .ok:
            writeHTTP2Output(h2)
            if h2.wantsClose || (h2DrainState == .closing && streams.isEmpty) { closeAfterFlush() }
        case .protocolError:
            stats.add(.downstreamCxProtocolError)
            writeHTTP2Output(h2)
            noteStreamsCutOff()
            h2.resetAllStreams()
            closeAfterFlush()
        case .bufferFlood, .inboundFramesWithEmptyPayload:
            // Envoy closes at once, without flushing to a peer that floods or does not read.
            stats.add(.downstreamCxProtocolError)
            noteStreamsCutOff()
            h2.resetAllStreams()
            closeNow()
        }
    }

    private func writeHTTP2Output(_ h2: HTTP2ServerConnection) {
        guard h2.hasOutput else { return }
        h2.takeOutput(into: &h2Slices)
        for slice in h2Slices { write(slice) }
        h2Slices.removeAll(keepingCapacity: true)
        h2OutputUnwritten = true
    }

    public func connectionWritesDrained(_ connection: Connection) {
        noteH2OutputWritten()
    }

    /// The codec counts frames framed and not yet written (its flood
    /// limits): once the socket took everything, they are written.
    func noteH2OutputWritten() {
        guard h2OutputUnwritten, connection.writeBufferedBytes == 0 else { return }
        h2OutputUnwritten = false
        h2?.outputWritten()
    }

    // MARK: - HTTPServerConnectionCallbacks

    public func newStream(_ encoder: any HTTPResponseEncoder) -> any HTTPRequestDecoder {
        if let h1 { return newHTTP1Stream(h1) }
        idleTimer?.disarm()
        requestsStarted += 1
        let stream = ActiveStream(manager: self, encoder: encoder)
        streams.insert(stream)
        let maxRequests = Int(config.common.maxRequestsPerConnection)
        if maxRequests > 0 && requestsStarted == maxRequests {
            // Envoy drains the connection once it has carried its last request.
            stats.add(.downstreamCxMaxRequestsReached)
            if h2DrainState == .none { h2DrainState = .closing; h2?.goAway() }
        }
        return stream
    }

    public func onGoAway(errorCode: UInt32, lastStreamID: Int32) {}

    public func onSettings(maxConcurrentStreams: UInt32) {}

    public func onPingAck(_ opaqueData: UInt64) {
        h2Keepalive?.pingAcknowledged()
        armKeepalive()
    }

    /// A stream finished on our side (response sent or stream reset).
    /// Envoy's premature-reset defaults (`overload.premature_reset_total_stream_count`,
    /// `overload.premature_reset_min_stream_lifetime_seconds`).
    static let prematureResetTotalStreamCount = 500
    static let prematureResetLifetimeMilliseconds: UInt64 = 1000

    func h2StreamFinished(_ stream: ActiveStream) {
        guard streams.remove(stream) else { return }
        h2ClosedStreams += 1
        guard !h2Aborting else { return }
        if tooManyPrematureResets() {
            // Envoy aborts the connection (no GOAWAY, no flush).
            h2Aborting = true
            stats.add(.downstreamRqTooManyPrematureResets)
            noteStreamsCutOff()
            h2?.resetAllStreams()
            closeNow()
            return
        }
        if streams.isEmpty {
            if h2DrainState == .closing {
                h2Flush()
                closeAfterFlush()
                return
            }
            armIdleTimer()
        }
    }

    /// Envoy's rule: with fewer than 500 streams closed, 250 premature
    /// resets end the connection; from 500 on, premature resets being at
    /// least half of the closed streams do.
    private func tooManyPrematureResets() -> Bool {
        let limit = Self.prematureResetTotalStreamCount
        guard h2PrematureResets > 0 else { return false }
        if h2ClosedStreams < limit { return h2PrematureResets >= limit / 2 }
        return h2PrematureResets * 2 >= h2ClosedStreams
    }

    func http2ConnectionClosed() {
        stats.add(.downstreamCxHttp2Active, -1)
        h2Timer?.close()
        h2Timer = nil
        h2Keepalive?.close()
        h2Keepalive = nil
        h2?.resetAllStreams()
        streams.removeAll()
    }

    // MARK: - Drain, idle, keepalive

    /// Envoy's drain sequence: the graceful GOAWAY now, the final one after
    /// `drain_timeout`; streams in flight finish, then the connection closes.
    func drainHTTP2(counted: Bool = true) {
        guard h2DrainState == .none, let h2 else { return }
        if counted { stats.add(.downstreamCxDrainClose) }
        h2DrainState = .noticed
        h2.shutdownNotice()
        h2Flush()
        let timer = h2Timer ?? Timer(loop: loop)
        h2Timer = timer
        timer.start(afterMilliseconds: config.drainTimeoutMilliseconds) { [self] in self.sendFinalGoAway() }
    }

    func sendFinalGoAway() {
        guard !closed, h2DrainState != .closing, let h2 else { return }
        h2DrainState = .closing
        h2.goAway()
        h2Flush()
        if streams.isEmpty { closeAfterFlush() }
    }

    /// No stream for `idle_timeout`: GOAWAY, then close.
    func http2IdleTimeout() {
        guard let h2 else { return }
        h2DrainState = .closing
        h2.goAway()
        h2Flush()
        closeAfterFlush()
    }

    /// `http2_protocol_options.connection_keepalive`: a PING every interval
    /// (jittered); no ACK within the timeout closes the connection.
    private func armKeepalive() {
        guard !closed else { return }
        if h2Keepalive == nil { h2Keepalive = HTTP2Keepalive(config.http2.keepalive, loop: loop) }
        h2Keepalive?.arm(jitter: context.randomValue(), sendPing: { [self] in
            guard let h2 = self.h2, !self.closed else { return }
            h2.sendPing(self.loop.nowMilliseconds)
            self.h2Flush()
        }, timedOut: { [self] in
            guard !self.closed else { return }
            self.context.downstreamHTTP2Stats().add(.keepaliveTimeout)
            self.noteStreamsCutOff()
            self.h2?.resetAllStreams()
            self.closeNow()
        })
    }
}

extension HTTPProtocolOptions.HeadersWithUnderscoresAction {
    /// The codecs' form of the setting.
    var codecAction: HeadersWithUnderscoresAction {
        switch self {
        case .allow: .allow
        case .rejectRequest: .rejectRequest
        case .dropHeader: .dropHeader
        }
    }
}
