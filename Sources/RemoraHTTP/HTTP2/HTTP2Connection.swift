internal import CNGHTTP2
internal import CRemoraShims
import RemoraCore

/// One HTTP/2 connection's codec over an nghttp2 session, without a socket:
/// `dispatch` takes the bytes read, the stream decoders get the events, and
/// the frames to send collect in an output the connection takes
/// (`HTTP2ServerConnection` and `HTTP2ClientConnection` add each side's
/// entry points).
///
/// nghttp2 is set up as Envoy sets it up (`codec_impl.cc`): no automatic
/// WINDOW_UPDATE (a stream's window reopens only as its consumer calls
/// `consumed`; the connection window reopens on receipt, so one stalled
/// stream cannot stall the others), HTTP messaging checks on, Envoy's
/// SETTINGS, flood limits counted here (`HTTP2ProtocolConstraints`), header
/// list limits in the header callback, nghttp2's reset rate limit and
/// CONTINUATION limit.
///
/// Output: `flush()` runs `nghttp2_session_send` once per batch; control
/// frames and frame headers are copied into pooled blocks, DATA payloads are
/// referenced from the streams' queues (nghttp2's NO_COPY), so a body is
/// never copied by the codec.
///
/// Belongs to one event loop; nghttp2 calls back into it only from inside
/// `dispatch`, `flush` and the submit calls.
public class HTTP2Connection {
    let session: OpaquePointer
    let options: HTTP2Options
    let stats: Stats<HTTP2CodecStat>
    let isServer: Bool
    unowned(unsafe) let baseCallbacks: any HTTPConnectionCallbacks
    var output: HTTP2Output
    var constraints: HTTP2ProtocolConstraints
    /// A failure found inside an nghttp2 callback, returned by dispatch/flush.
    var pendingStatus: HTTPCodecStatus = .ok
    var fatal = false
    var tearingDown = false
    /// The connection's write buffer is above its high watermark.
    var connectionAboveHighWatermark = false
    /// The slice being dispatched: DATA payloads inside it are handed out as
    /// sub-slices.
    var input: ByteSlice?
    /// Block that received header bytes are copied into (append-only).
    var headerArena: PooledBuffer?
    /// Scratch for building nghttp2's name/value arrays.
    var nvScratch: UnsafeMutablePointer<nghttp2_nv>
    var nvCapacity = 32
    var nameScratch: UnsafeMutableRawPointer
    var nameScratchCapacity = 1024
    let emptyChunk: ByteSlice

    /// Intrusive list of the streams nghttp2 knows.
    var firstStream: HTTP2Stream?
    public private(set) var activeStreams = 0
    /// Streams the peer reset (RST_STREAM received), for the connection
    /// manager's premature-reset accounting (Envoy's overload rule is
    /// HCM-level).
    public internal(set) var streamsResetByPeer = 0
    public private(set) var streamsOpened = 0
    public internal(set) var goAwayReceived: (errorCode: UInt32, lastStreamID: Int32)?

    init(isServer: Bool, options: HTTP2Options, pool: BufferPool, stats: Stats<HTTP2CodecStat>,
         callbacks: any HTTPConnectionCallbacks) {
        self.isServer = isServer
        self.options = options
        self.stats = stats
        self.baseCallbacks = callbacks
        self.output = HTTP2Output(pool: pool)
        self.constraints = HTTP2ProtocolConstraints(options)
        nvScratch = .allocate(capacity: nvCapacity)
        nameScratch = .allocate(byteCount: nameScratchCapacity, alignment: 8)
        let empty = PooledBuffer(capacity: 0)
        emptyChunk = ByteSlice(storage: empty, offset: 0, count: 0)

        var cbs: OpaquePointer?
        precondition(nghttp2_session_callbacks_new(&cbs) == 0, "nghttp2: out of memory")
        defer { nghttp2_session_callbacks_del(cbs) }
        HTTP2Connection.installCallbacks(cbs)

        var opt: OpaquePointer?
        precondition(nghttp2_option_new(&opt) == 0, "nghttp2: out of memory")
        defer { nghttp2_option_del(opt) }
        nghttp2_option_set_no_auto_window_update(opt, 1)
        nghttp2_option_set_no_closed_streams(opt, 1)
        // RFC 9113 refuses leading/trailing whitespace in values; Envoy turns
        // that check off so as not to break existing deployments.
        nghttp2_option_set_no_rfc9113_leading_and_trailing_ws_validation(opt, 1)
        // Header lists are limited in the header callback, not by nghttp2.
        nghttp2_option_set_max_send_header_block_length(opt, 0x2000000)
        if options.hpackTableSize != 4096 {
            nghttp2_option_set_max_deflate_dynamic_table_size(opt, Int(options.hpackTableSize))
        }
        // Envoy counts floods itself and puts nghttp2's own ACK limit back at 10K.
        nghttp2_option_set_max_outbound_ack(opt, 10_000)
        if !isServer {
            // As Envoy: no limit on streams before the server's SETTINGS arrive.
            nghttp2_option_set_peer_max_concurrent_streams(opt, 2_147_483_647)
        }
        nghttp2_option_set_stream_reset_rate_limit(opt, options.streamResetBurst, options.streamResetRatePerSecond)
        nghttp2_option_set_max_continuations(opt, options.maxContinuations)

        var s: OpaquePointer?
        // nghttp2's own allocations (about a dozen per request) come from the
        // loop thread's block cache (`remora_block_cache.h`).
        var mem = nghttp2_mem(mem_user_data: nil, malloc: remora_block_malloc, free: remora_block_free,
                              calloc: remora_block_calloc, realloc: remora_block_realloc)
        // `self` is not complete yet: the user data is set right after.
        let rv = isServer
            ? nghttp2_session_server_new3(&s, cbs, nil, opt, &mem)
            : nghttp2_session_client_new3(&s, cbs, nil, opt, &mem)
        precondition(rv == 0 && s != nil, "nghttp2: out of memory")
        session = s!
        nghttp2_session_set_user_data(session, Unmanaged.passUnretained(self).toOpaque())
        submitInitialSettings()
    }

    deinit {
        // nghttp2 may report its streams closing while it goes: callbacks
        // stand down first, then the streams still open go.
        tearingDown = true
        nghttp2_session_del(session)
        var s = firstStream
        firstStream = nil
        while let stream = s {
            s = stream.next
            stream.next = nil
            stream.requestDecoder = nil
            stream.responseDecoder = nil
            stream.dropQueue()
            stats.add(.streamsActive, -1)
        }
        // The gauges are shared by the worker's connections: give back ours.
        stats.add(.outboundFramesActive, -Int64(constraints.outboundFrames))
        stats.add(.outboundControlFramesActive, -Int64(constraints.outboundControlFrames))
        nvScratch.deallocate()
        nameScratch.deallocate()
    }

    private func submitInitialSettings() {
        var iv: [nghttp2_settings_entry] = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_HEADER_TABLE_SIZE.rawValue), value: options.hpackTableSize),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: options.maxConcurrentStreams),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: options.initialStreamWindowSize),
        ]
        // Envoy sends SETTINGS_ENABLE_CONNECT_PROTOCOL either way (RFC 8441).
        iv.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL.rawValue),
                                         value: options.allowConnect ? 1 : 0))
        if !isServer {
            iv.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0))
        }
        let rv = nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), iv, iv.count)
        precondition(rv == 0, "nghttp2_submit_settings: \(rv)")
        if options.initialConnectionWindowSize != 65_535 {
            let w = nghttp2_session_set_local_window_size(
                session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, Int32(clamping: options.initialConnectionWindowSize))
            precondition(w == 0, "nghttp2_session_set_local_window_size: \(w)")
        }
    }

    // MARK: - Bytes in, bytes out

    public func dispatch(_ data: ByteSlice) -> HTTPCodecStatus {
        guard !fatal else { return pendingStatus == .ok ? .protocolError("connection closed") : pendingStatus }
        input = data
        let rv = data.withUnsafeBytes { b in
            nghttp2_session_mem_recv(session, b.baseAddress!.assumingMemoryBound(to: UInt8.self), b.count)
        }
        input = nil
        if pendingStatus != .ok {
            // As Envoy: a codec error found in a callback ends the connection
            // without a GOAWAY of ours (Envoy 1.40 closes after its delayed-
            // close wait, having sent nothing more).
            fatal = true
            return pendingStatus
        }
        if rv < 0 {
            fatal = true
            if rv == Int(NGHTTP2_ERR_FLOODED.rawValue) {
                // nghttp2's own ACK queue limit (the peer sent more PINGs or
                // SETTINGS in one read than the control-frame limit).
                stats.add(.outboundControlFlood)
                pendingStatus = .bufferFlood("Too many control frames in the outbound queue.")
            } else {
                pendingStatus = .protocolError(String(cString: nghttp2_strerror(Int32(rv))))
            }
            return pendingStatus
        }
        return flush()
    }

    public func flush() -> HTTPCodecStatus {
        if fatal { return pendingStatus }
        let rv = nghttp2_session_send(session)
        if pendingStatus != .ok {
            fatal = true
            return pendingStatus
        }
        if rv != 0 {
            fatal = true
            pendingStatus = .protocolError(String(cString: nghttp2_strerror(rv)))
        }
        return pendingStatus
    }

    public var hasOutput: Bool { !output.isEmpty }

    public func takeOutput(into slices: inout [ByteSlice]) {
        output.take(into: &slices)
        constraints.outputTaken()
    }

    public func outputWritten() {
        let frames = constraints.outboundFrames, control = constraints.outboundControlFrames
        constraints.outputWritten()
        stats.add(.outboundFramesActive, Int64(constraints.outboundFrames - frames))
        stats.add(.outboundControlFramesActive, Int64(constraints.outboundControlFrames - control))
    }

    public var wantsClose: Bool {
        fatal || (nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0)
    }

    /// Server side: a request stream begins. Overridden by the server codec.
    func beginRequestStream(_ stream: HTTP2Stream) {
        preconditionFailure("HTTP2Connection: request stream on a client codec")
    }

    // MARK: - Connection control

    public func sendPing(_ opaqueData: UInt64) {
        withUnsafeBytes(of: opaqueData) { b in
            _ = nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), b.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }

    public func shutdownNotice() {
        if isServer {
            _ = nghttp2_submit_shutdown_notice(session)
        } else {
            goAway()
        }
    }

    public func goAway() {
        _ = nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue),
                                  nghttp2_session_get_last_proc_stream_id(session),
                                  UInt32(NGHTTP2_NO_ERROR.rawValue), nil, 0)
        // Envoy counts the final GOAWAY, not the shutdown notice.
        stats.add(.goawaySent)
    }

    public func onUnderlyingConnectionAboveWriteBufferHighWatermark() {
        guard !connectionAboveHighWatermark else { return }
        connectionAboveHighWatermark = true
        forEachOpenDecoder { $0.onAboveWriteBufferHighWatermark() }
    }

    public func onUnderlyingConnectionBelowWriteBufferLowWatermark() {
        guard connectionAboveHighWatermark else { return }
        connectionAboveHighWatermark = false
        forEachOpenDecoder { $0.onBelowWriteBufferLowWatermark() }
    }

    private func forEachOpenDecoder(_ body: (any HTTPStreamDecoder) -> Void) {
        var s = firstStream
        while let stream = s {
            s = stream.next
            if !stream.finished, let d = stream.decoder { body(d) }
        }
    }

    /// Ends every open stream with `.connectionTermination` (the connection
    /// closed under them). Call once before dropping the codec.
    public func resetAllStreams() {
        // nghttp2 still points at these streams: it must not call back again.
        fatal = true
        if pendingStatus == .ok { pendingStatus = .protocolError("connection closed") }
        while let stream = firstStream {
            unlist(stream)
            finish(stream, .connectionTermination)
        }
    }

    // MARK: - Streams

    func list(_ stream: HTTP2Stream) {
        precondition(!stream.isListed)
        stream.isListed = true
        stream.next = firstStream
        firstStream?.previous = stream
        stream.previous = nil
        firstStream = stream
        activeStreams += 1
        streamsOpened += 1
        constraints.streamOpened()
        stats.add(.streamsActive)
    }

    func unlist(_ stream: HTTP2Stream) {
        guard stream.isListed else { return }
        stream.isListed = false
        if let p = stream.previous { p.next = stream.next } else { firstStream = stream.next }
        stream.next?.previous = stream.previous
        stream.next = nil
        stream.previous = nil
        activeStreams -= 1
        stats.add(.streamsActive, -1)
    }

    /// Reports the stream's end to its decoder (once) and drops it.
    func finish(_ stream: HTTP2Stream, _ reason: HTTPStreamResetReason?) {
        guard !stream.finished else { return }
        stream.finished = true
        stream.pendingChunk = nil
        stream.dropQueue()
        let decoder = stream.decoder
        stream.requestDecoder = nil
        stream.responseDecoder = nil
        if let reason { decoder?.onResetStream(reason) }
    }

    func pendingSendBytesChanged(_ delta: Int) {
        stats.add(.pendingSendBytes, Int64(delta))
    }

    func consumeStream(_ stream: HTTP2Stream, _ count: Int) {
        guard stream.id > 0, !stream.finished else { return }
        _ = nghttp2_session_consume_stream(session, stream.id, count)
    }

    func resumeData(_ stream: HTTP2Stream) {
        if stream.dataDeferred && stream.id > 0 {
            stream.dataDeferred = false
            _ = nghttp2_session_resume_data(session, stream.id)
        }
    }

    func resetStream(_ stream: HTTP2Stream, _ reason: HTTPStreamResetReason) {
        guard !stream.finished else { return }
        if isServer && reason == .localReset && !stream.localEndSent && (stream.localEnd || stream.endAfterQueue) {
            // The response is ended but not all out yet: RST_STREAM (NO_ERROR)
            // follows its last frame (`onFrameSend`); the consumer is done.
            stream.resetAfterEnd = true
            return
        }
        // Envoy's reasonToReset: refused → REFUSED_STREAM, CONNECT → CONNECT_ERROR, else NO_ERROR.
        let code: UInt32 = switch reason {
        case .localRefusedStreamReset: UInt32(NGHTTP2_REFUSED_STREAM.rawValue)
        case .connectError: UInt32(NGHTTP2_CONNECT_ERROR.rawValue)
        default: UInt32(NGHTTP2_NO_ERROR.rawValue)
        }
        // A server stream is known to nghttp2 from its first HEADERS; a
        // client stream once its request is submitted.
        if stream.id > 0 && (isServer || stream.headersSubmitted) {
            _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, code)
        } else {
            // A client stream whose request never went: nghttp2 never knew it.
            unlist(stream)
        }
        finish(stream, reason)
    }

    /// Submits a head: a server's response (final) or a client's request.
    func submitHeaders(_ stream: HTTP2Stream, _ headers: HTTPHeaders, endStream: Bool) {
        precondition(!stream.headersSubmitted || isServer, "HTTP2Stream: request headers encoded twice")
        guard !stream.finished else { return }
        if !isServer && !requestAllowed {
            // GOAWAY received or the session is ending: the stream never starts.
            unlist(stream)
            finish(stream, .localRefusedStreamReset)
            return
        }
        var headers = headers
        if isServer {
            // The connection manager's 101 carries no upgrade fields (they are
            // an HTTP/1 codec's to add): the status says it.
            if stream.upgrade != nil && headers.isSwitchingProtocols { headers.extendedConnectResponseFromUpgrade() }
        } else if headers.contains(name: "upgrade"), let upgrade = headers.extendedConnectFromUpgrade() {
            stream.upgrade = upgrade
        }
        stream.headersSubmitted = true
        if endStream { stream.localEnd = true } else { stream.hasDataProvider = true }
        var provider = nghttp2_data_provider(
            source: nghttp2_data_source(ptr: Unmanaged.passUnretained(stream).toOpaque()),
            read_callback: HTTP2Connection.readData)
        let rv: Int32 = withNameValues(headers) { nva, count in
            if isServer {
                return endStream
                    ? nghttp2_submit_response(session, stream.id, nva, count, nil)
                    : nghttp2_submit_response(session, stream.id, nva, count, &provider)
            }
            return endStream
                ? nghttp2_submit_request(session, nil, nva, count, nil, Unmanaged.passUnretained(stream).toOpaque())
                : nghttp2_submit_request(session, nil, nva, count, &provider, Unmanaged.passUnretained(stream).toOpaque())
        }
        if isServer {
            if rv != 0 { resetStream(stream, .localReset) }
            return
        }
        guard rv > 0 else {
            // No stream id left, or the session is going away.
            unlist(stream)
            finish(stream, .localRefusedStreamReset)
            return
        }
        stream.id = rv
    }

    /// A stream that begins while the connection is above its high
    /// watermark starts out told so (Envoy's newStream does the same).
    func announceWatermark(_ stream: HTTP2Stream) {
        if connectionAboveHighWatermark { stream.decoder?.onAboveWriteBufferHighWatermark() }
    }

    func submitInformational(_ stream: HTTP2Stream, _ headers: HTTPHeaders) {
        guard isServer, !stream.finished, !stream.headersSubmitted else { return }
        _ = withNameValues(headers) { nva, count in
            nghttp2_submit_headers(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, nil, nva, count, nil)
        }
    }
}

extension HTTP2Connection {
    var remoteMaxConcurrentStreams: UInt32 {
        nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)
    }

    var requestAllowed: Bool { nghttp2_session_check_request_allowed(session) != 0 }
}
