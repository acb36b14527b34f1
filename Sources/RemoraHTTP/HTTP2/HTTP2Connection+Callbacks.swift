internal import CNGHTTP2
import RemoraCore

// nghttp2's callbacks. Each is a C function pointer that captures nothing:
// the connection comes back through the session's user data, a stream
// through nghttp2's stream user data (or a data source's pointer). The
// connection is held `unowned(unsafe)` inside a callback (its owner keeps it
// through dispatch and flush: no retain per callback); a stream is held
// strongly, since a decoder may end the stream or all of them.

private let frameDATA = UInt8(NGHTTP2_DATA.rawValue)
private let frameHEADERS = UInt8(NGHTTP2_HEADERS.rawValue)
private let frameRST = UInt8(NGHTTP2_RST_STREAM.rawValue)
private let frameSETTINGS = UInt8(NGHTTP2_SETTINGS.rawValue)
private let framePING = UInt8(NGHTTP2_PING.rawValue)
private let frameGOAWAY = UInt8(NGHTTP2_GOAWAY.rawValue)
private let flagEndStream = UInt8(NGHTTP2_FLAG_END_STREAM.rawValue)
private let flagAck = UInt8(NGHTTP2_FLAG_ACK.rawValue)
private let callbackFailure = Int32(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
private let temporalFailure = Int32(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)

@inline(__always)
private func connection(_ user: UnsafeMutableRawPointer?) -> HTTP2Connection {
    Unmanaged<HTTP2Connection>.fromOpaque(user.unsafelyUnwrapped).takeUnretainedValue()
}

/// `body` with the connection, without a retain (the per-field and
/// per-frame callbacks: no decoder runs in them).
@inline(__always)
private func withConnection<R>(_ user: UnsafeMutableRawPointer?, _ body: (HTTP2Connection) -> R) -> R {
    Unmanaged<HTTP2Connection>.fromOpaque(user.unsafelyUnwrapped)._withUnsafeGuaranteedRef(body)
}

extension HTTP2Connection {
    @inline(__always)
    func stream(_ id: Int32) -> HTTP2Stream? {
        guard id > 0, let p = nghttp2_session_get_stream_user_data(session, id) else { return nil }
        return Unmanaged<HTTP2Stream>.fromOpaque(p).takeUnretainedValue()
    }

    static func installCallbacks(_ cbs: OpaquePointer?) {
        nghttp2_session_callbacks_set_send_callback(cbs, sendCallback)
        nghttp2_session_callbacks_set_send_data_callback(cbs, sendDataCallback)
        nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, onBeginFrame)
        nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, onBeginHeaders)
        nghttp2_session_callbacks_set_on_header_callback(cbs, onHeader)
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, onFrameRecv)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, onDataChunk)
        nghttp2_session_callbacks_set_on_stream_close_callback(cbs, onStreamClose)
        nghttp2_session_callbacks_set_on_frame_send_callback(cbs, onFrameSend)
        nghttp2_session_callbacks_set_on_frame_not_send_callback(cbs, onFrameNotSend)
        nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, onInvalidFrame)
    }

    // MARK: - Output

    private static let sendCallback: nghttp2_send_callback = { _, data, length, _, user in
        withConnection(user) { c in
            c.output.append(UnsafeRawPointer(data.unsafelyUnwrapped), count: length)
            return length
        }
    }

    /// A DATA frame with NO_COPY: its header is copied, its payload referenced.
    private static let sendDataCallback: nghttp2_send_data_callback = { _, frame, header, length, source, user in
        unowned(unsafe) let c = connection(user)
        let stream = Unmanaged<HTTP2Stream>.fromOpaque(source.unsafelyUnwrapped.pointee.ptr).takeUnretainedValue()
        c.output.append(UnsafeRawPointer(header.unsafelyUnwrapped), count: 9)
        var belowLow = false
        if length > 0 { belowLow = stream.dequeue(length, into: &c.output) }
        if belowLow { stream.decoder?.onBelowWriteBufferLowWatermark() }
        return 0
    }

    /// A stream's body for nghttp2: what is queued, without copying.
    static let readData: nghttp2_data_source_read_callback = { session, id, _, length, flags, source, _ in
        let stream = Unmanaged<HTTP2Stream>.fromOpaque(source.unsafelyUnwrapped.pointee.ptr).takeUnretainedValue()
        if stream.finished { return Int(temporalFailure) }
        let available = stream.queuedBytes
        if available == 0 && !stream.endAfterQueue {
            stream.dataDeferred = true
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        }
        let n = min(available, length)
        var f = UInt32(NGHTTP2_DATA_FLAG_NO_COPY.rawValue)
        if n == available && stream.endAfterQueue {
            f |= UInt32(NGHTTP2_DATA_FLAG_EOF.rawValue)
            stream.localEnd = true
            if let trailers = stream.pendingTrailers {
                stream.pendingTrailers = nil
                f |= UInt32(NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue)
                _ = stream.connection.withNameValues(trailers) { nva, count in
                    nghttp2_submit_trailer(session, id, nva, count)
                }
            }
        }
        flags.unsafelyUnwrapped.pointee = f
        return n
    }

    // MARK: - Input

    /// Counts an inbound frame against the flood limits; false past them.
    func trackInbound(type: UInt8, length: Int, flags: UInt8, padding: Int) -> Bool {
        guard let v = constraints.inboundFrame(type: type, length: length - padding, endStream: flags & flagEndStream != 0) else {
            return true
        }
        stats.add(v.stat)
        pendingStatus = v.status
        return false
    }

    /// As Envoy: every frame is counted here but HEADERS (counted when the
    /// header block begins) and DATA (when received, without its padding);
    /// PING ACKs are not counted.
    private static let onBeginFrame: nghttp2_on_begin_frame_callback = { _, hd, user in
        let h = hd.unsafelyUnwrapped.pointee
        if h.type == frameHEADERS || h.type == frameDATA || (h.type == framePING && h.flags & flagAck != 0) { return 0 }
        return withConnection(user) { c in
            c.trackInbound(type: h.type, length: h.length, flags: h.flags, padding: 0) ? 0 : callbackFailure
        }
    }

    private static let onBeginHeaders: nghttp2_on_begin_headers_callback = { session, frame, user in
        unowned(unsafe) let c = connection(user)
        let f = frame.unsafelyUnwrapped
        let hd = f.pointee.hd
        guard c.trackInbound(type: hd.type, length: hd.length, flags: hd.flags, padding: f.pointee.headers.padlen) else {
            return callbackFailure
        }
        if c.isServer && f.pointee.headers.cat == NGHTTP2_HCAT_REQUEST {
            let stream = HTTP2Stream(connection: c, highWatermark: c.options.streamBufferHighWatermark)
            stream.id = f.pointee.hd.stream_id
            nghttp2_session_set_stream_user_data(session, stream.id, Unmanaged.passUnretained(stream).toOpaque())
            c.list(stream)
            c.beginRequestStream(stream)
        }
        return 0
    }

    private static let onHeader: nghttp2_on_header_callback = { session, frame, name, nameLength, value, valueLength, _, user in
        withConnection(user) { c in
            let id = frame.unsafelyUnwrapped.pointee.hd.stream_id
            guard id > 0, let p = nghttp2_session_get_stream_user_data(session, id) else {
                c.stats.add(.headersCbNoStream)
                return 0
            }
            // No decoder runs in here, so nothing can end the stream: no retain.
            let verdict = Unmanaged<HTTP2Stream>.fromOpaque(p)._withUnsafeGuaranteedRef { stream in
                c.receiveHeader(stream, name: UnsafeRawBufferPointer(start: name, count: nameLength),
                                value: UnsafeRawBufferPointer(start: value, count: valueLength))
            }
            // Past a limit nghttp2 resets the stream (INTERNAL_ERROR), as Envoy's saveHeader does.
            switch verdict {
            case .ok: return 0
            case .listTooLarge: c.stats.add(.headerListSizeTooLarge)
            case .tooManyFields: c.stats.add(.headerOverflow)
            case .underscoreInName: c.stats.add(.requestsRejectedWithUnderscoresInHeaders)
            }
            return temporalFailure
        }
    }

    private static let onDataChunk: nghttp2_on_data_chunk_recv_callback = { session, _, id, data, length, user in
        unowned(unsafe) let c = connection(user)
        // The connection window reopens at once: each stream's own window
        // bounds what it can hold back.
        _ = nghttp2_session_consume_connection(session, length)
        guard let stream = c.stream(id), !stream.finished, length > 0 else { return 0 }
        let chunk: ByteSlice
        let p = UnsafeRawPointer(data.unsafelyUnwrapped)
        if let input = c.input, p >= input.baseAddress, p + length <= input.baseAddress + input.count {
            chunk = ByteSlice(storage: input.storage, offset: input.offset + (p - input.baseAddress), count: length)
        } else {
            chunk = ByteSlice(copying: UnsafeRawBufferPointer(start: p, count: length))
        }
        if let held = stream.pendingChunk {
            stream.pendingChunk = chunk
            stream.decoder?.decodeData(held, endStream: false)
        } else {
            stream.pendingChunk = chunk
        }
        return 0
    }

    private static let onFrameRecv: nghttp2_on_frame_recv_callback = { session, frame, user in
        unowned(unsafe) let c = connection(user)
        let f = frame.unsafelyUnwrapped
        let hd = f.pointee.hd
        switch hd.type {
        case frameDATA:
            guard c.trackInbound(type: hd.type, length: hd.length, flags: hd.flags, padding: f.pointee.data.padlen) else {
                return callbackFailure
            }
            guard let stream = c.stream(hd.stream_id), !stream.finished else { return 0 }
            let end = hd.flags & flagEndStream != 0
            if end { stream.remoteEnd = true }
            if let held = stream.pendingChunk {
                stream.pendingChunk = nil
                stream.decoder?.decodeData(held, endStream: end)
            } else if end {
                stream.decoder?.decodeData(c.emptyChunk, endStream: true)
            }
        case frameHEADERS:
            guard let stream = c.stream(hd.stream_id) else { return 0 }
            return c.headersReceived(stream, endStream: hd.flags & flagEndStream != 0)
        case frameRST:
            c.stats.add(.rxReset)
            c.streamsResetByPeer += 1
        case frameGOAWAY:
            let g = f.pointee.goaway
            c.goAwayReceived = (g.error_code, g.last_stream_id)
            c.baseCallbacks.onGoAway(errorCode: g.error_code, lastStreamID: g.last_stream_id)
        case frameSETTINGS where hd.flags & flagAck == 0:
            c.baseCallbacks.onSettings(maxConcurrentStreams:
                nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS))
        case framePING where hd.flags & flagAck != 0:
            let opaque = withUnsafeBytes(of: f.pointee.ping.opaque_data) { $0.loadUnaligned(as: UInt64.self) }
            c.baseCallbacks.onPingAck(opaque)
        default:
            break
        }
        return 0
    }

    /// A complete HEADERS block for `stream`: a head, an informational head
    /// or trailers.
    func headersReceived(_ stream: HTTP2Stream, endStream: Bool) -> Int32 {
        if endStream { stream.remoteEnd = true }
        if stream.finished {
            _ = takeReceived(stream)
            return 0
        }
        if !stream.receivedFinalHeaders {
            if !isServer, let status = stream.receiving.status, status >= 100 && status < 200 && status != 101 {
                stream.responseDecoder?.decode1xxHeaders(takeReceived(stream))
                return 0
            }
            stream.receivedFinalHeaders = true
            var head = takeReceived(stream)
            // The head moves to the decoder (it edits it in place, no copy).
            if let d = stream.requestDecoder {
                if let expect = head.first(name: "expect"), expect.withUnsafeBytes({ ASCII.equalsLowercase($0, "100-continue") }) {
                    stream.requestFraming.expectsContinue = true
                }
                // nghttp2 lets `:protocol` through only when we announced
                // SETTINGS_ENABLE_CONNECT_PROTOCOL (`allow_connect`).
                if options.allowConnect, let proto = head.upgradeFromExtendedConnect() {
                    stream.upgrade = proto
                    stream.requestFraming.isUpgrade = true
                    stream.requestFraming.isTunnel = true
                } else if let method = head.method, method.withUnsafeBytes({ ASCII.equalsLowercase($0, "connect") }) {
                    // A plain CONNECT (RFC 9113 §8.5): its DATA is the tunnel.
                    stream.requestFraming.isConnect = true
                    stream.requestFraming.isTunnel = true
                }
                d.decodeHeaders(consume head, endStream: endStream)
            } else {
                if let upgrade = stream.upgrade { head.upgradeResponseFromExtendedConnect(upgrade: upgrade) }
                stream.responseDecoder?.decodeHeaders(consume head, endStream: endStream)
            }
            return 0
        }
        guard endStream else {
            // nghttp2 refuses trailers without END_STREAM first; kept as Envoy's check.
            stats.add(.tooManyHeaderFrames)
            pendingStatus = .protocolError("Unexpected 'trailers' with no end stream.")
            return callbackFailure
        }
        stats.add(.trailers)
        if let held = stream.pendingChunk {
            stream.pendingChunk = nil
            stream.decoder?.decodeData(held, endStream: false)
        }
        stream.decoder?.decodeTrailers(takeReceived(stream))
        return 0
    }

    private static let onStreamClose: nghttp2_on_stream_close_callback = { _, id, errorCode, user in
        unowned(unsafe) let c = connection(user)
        guard !c.tearingDown, let stream = c.stream(id) else { return 0 }
        c.unlist(stream)
        if stream.remoteEnd && stream.localEnd && !stream.resetDueToMessagingError {
            c.finish(stream, nil)
        } else if stream.resetDueToMessagingError {
            c.finish(stream, .protocolError)
        } else if errorCode == UInt32(NGHTTP2_REFUSED_STREAM.rawValue) {
            c.finish(stream, .remoteRefusedStreamReset)
        } else if errorCode == UInt32(NGHTTP2_CONNECT_ERROR.rawValue) {
            c.finish(stream, .connectError)
        } else {
            c.finish(stream, .remoteReset)
        }
        return 0
    }

    private static let onInvalidFrame: nghttp2_on_invalid_frame_recv_callback = { _, frame, error, user in
        unowned(unsafe) let c = connection(user)
        switch error {
        case Int32(NGHTTP2_ERR_REFUSED_STREAM.rawValue):
            c.stats.add(.streamRefusedErrors)
            return 0
        case Int32(NGHTTP2_ERR_HTTP_HEADER.rawValue), Int32(NGHTTP2_ERR_HTTP_MESSAGING.rawValue):
            c.stats.add(.rxMessagingError)
            if c.options.streamErrorOnInvalidHTTPMessaging {
                // nghttp2 resets just this stream (PROTOCOL_ERROR).
                c.stream(frame.unsafelyUnwrapped.pointee.hd.stream_id)?.resetDueToMessagingError = true
                return 0
            }
        default:
            break
        }
        // Envoy's default: any other invalid frame, or invalid messaging, ends
        // the connection (`onInvalidFrame` → codec protocol error).
        c.pendingStatus = .protocolError(String(cString: nghttp2_strerror(error)))
        return callbackFailure
    }

    // MARK: - Frames sent

    private static let onFrameSend: nghttp2_on_frame_send_callback = { _, frame, user in
        unowned(unsafe) let c = connection(user)
        let hd = frame.unsafelyUnwrapped.pointee.hd
        let isControl = ((hd.type == framePING || hd.type == frameSETTINGS) && hd.flags & flagAck != 0) || hd.type == frameRST
        if let v = c.constraints.outboundFrame(isControl: isControl, isData: hd.type == frameDATA) {
            c.stats.add(v.stat)
            c.pendingStatus = v.status
            return callbackFailure
        }
        c.stats.add(.outboundFramesActive)
        if isControl { c.stats.add(.outboundControlFramesActive) }
        switch hd.type {
        case frameGOAWAY where frame.unsafelyUnwrapped.pointee.goaway.error_code != 0:
            // nghttp2 found the peer broke the protocol (it does not always
            // say so through the invalid-frame callback, but it always sends
            // GOAWAY with an error): end the connection, as Envoy's onFrameSend.
            if c.pendingStatus == .ok { c.pendingStatus = .protocolError("GOAWAY sent with an error") }
            return callbackFailure
        case frameHEADERS, frameDATA:
            guard hd.flags & flagEndStream != 0, let stream = c.stream(hd.stream_id) else { break }
            stream.localEndSent = true
            if stream.resetAfterEnd && !stream.remoteEnd {
                _ = nghttp2_submit_rst_stream(c.session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id,
                                              UInt32(NGHTTP2_NO_ERROR.rawValue))
            }
        case frameRST:
            c.stats.add(.txReset)
            // nghttp2 reset a stream nobody asked to reset: the peer broke a
            // rule (content-length, header list, messaging).
            if let stream = c.stream(hd.stream_id), !stream.finished { stream.resetDueToMessagingError = true }
        default: break
        }
        return 0
    }

    /// A client's request HEADERS that will never go (the stream was reset
    /// first, or the session is going away): the stream leaves the list.
    private static let onFrameNotSend: nghttp2_on_frame_not_send_callback = { _, frame, _, user in
        unowned(unsafe) let c = connection(user)
        let hd = frame.unsafelyUnwrapped.pointee.hd
        guard !c.tearingDown, hd.type == frameHEADERS, !c.isServer else { return 0 }
        var s = c.firstStream
        while let stream = s {
            if stream.id == hd.stream_id {
                c.unlist(stream)
                c.finish(stream, .localRefusedStreamReset)
                break
            }
            s = stream.next
        }
        return 0
    }
}
