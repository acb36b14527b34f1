import RemoraConfig
import RemoraCore
import RemoraHTTP

/// An HTTP/2 stream's side of `ActiveStream`: the codec's events in, the
/// response out through the stream's `HTTPResponseEncoder`. The filters and
/// the router see the same `HTTPRequestMessage` as on HTTP/1.
extension ActiveStream: HTTPRequestDecoder {
    func decodeHeaders(_ headers: consuming HTTPHeaders, endStream: Bool) {
        beginHTTP2Request(headers, endStream: endStream)
    }

    /// The peer reset the stream, or the connection went with it.
    func onResetStream(_ reason: HTTPStreamResetReason) {
        // A peer reset within a second of the stream's start, before its
        // response ended, is premature (Envoy's rapid-reset rule, CVE-2023-44487).
        if reason == .remoteReset && !isFinished
            && manager.loop.nowMilliseconds - streamInfo.startMilliseconds < HTTPConnectionManager.prematureResetLifetimeMilliseconds {
            manager.h2PrematureResets += 1
        }
        switch reason {
        case .connectionTermination: downstreamReset(flag: .downstreamConnectionTermination)
        case .protocolError: downstreamReset(flag: .downstreamProtocolError)
        default: downstreamReset(flag: .downstreamRemoteReset)
        }
    }

    /// The stream's queue of response bytes (or the connection under it)
    /// is full: the upstream stops being read.
    func onAboveWriteBufferHighWatermark() { downstreamWriteBufferAboveHigh() }
    func onBelowWriteBufferLowWatermark() { downstreamWriteBufferBelowLow() }

    /// `:method :scheme :authority :path` and the fields → `message`, in
    /// place (pseudo-headers leave the field list). `:authority` falls back
    /// to `host`, as Envoy's codec does. Returns whether it is a HEAD.
    static func fillFromPseudoHeaders(_ message: inout HTTPRequestMessage, _ head: consuming HTTPHeaders) -> Bool {
        var headers = head
        var pseudoCount = 0
        while pseudoCount < headers.count, headers.name(at: pseudoCount).withUnsafeBytes({ $0.first }) == UInt8(ascii: ":") { pseudoCount += 1 }
        if let method = headers.method { message.method = HTTPMethod(bytes: method) }
        message.path = headers.path?.string ?? ""
        message.scheme = headers.scheme?.string ?? "http"
        message.authority = headers.authority?.string
        headers.removeFirst(pseudoCount)
        if message.authority == nil, let host = headers.firstString(name: "host") { message.authority = host }
        _ = headers.remove(name: "host")
        message.version = .http2
        message.headers = headers
        return message.method == .head
    }

    /// The response head as HTTP/2 sends it: `:status` first, then the
    /// fields with the connection manager's own (`date`, `server`, `via`,
    /// `x-request-id`); connection-specific fields are the codec's to drop.
    func encodeHTTP2Head(_ response: inout HTTPResponseMessage, endStream: Bool) {
        let manager = self.manager
        // Edited in place; `:status` goes at the end, the codec sends
        // pseudo-headers first whatever their place.
        var headers = HTTPHeaders()
        swap(&headers, &response.headers)
        headers.add(name: ":status", value: Self.statusText(response.status))
        addManagerResponseHeaders(&headers)
        if manager.accessLogs?.needsResponseHeaders == true { loggedResponseHeaders = headers }
        h2Encoder?.encodeHeaders(headers, endStream: endStream)
        // Envoy's `chargeStats` leaves health checks out of the response stats.
        if !streamInfo.isHealthCheck { manager.stats.countDownstreamResponse(status: response.status) }
        manager.h2Flush()
    }

    /// A local reply on HTTP/2: Envoy's headers, then the body in one DATA frame.
    func sendHTTP2LocalReply(_ reply: LocalReply, extraHeaders: HTTPHeaders?, bodyBytes: [UInt8]?) {
        responseStarted = true
        // A gRPC request gets a trailers-only reply: one HEADERS frame with END_STREAM.
        let status = isGRPCRequest ? GRPCLocalReply.httpStatus : reply.status
        streamInfo.responseCode = status
        let manager = self.manager
        var headers = HTTPHeaders()
        headers.add(name: ":status", value: Self.statusText(status))
        if let extraHeaders {
            for i in 0..<extraHeaders.count { headers.add(name: extraHeaders.name(at: i), value: extraHeaders.value(at: i)) }
        }
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
        if manager.accessLogs?.needsResponseHeaders == true { loggedResponseHeaders = headers }
        h2Encoder?.encodeHeaders(headers, endStream: !sendBody)
        if sendBody {
            streamInfo.bytesSent += UInt64(body.count)
            h2Encoder?.encodeData(ByteSlice(copying: body), endStream: true)
        }
        if !streamInfo.isHealthCheck { manager.stats.countDownstreamResponse(status: status) }
        finish()
        manager.h2Flush()
    }

    /// The stream is done on this side: the connection manager forgets it.
    func finishHTTP2(reset: Bool) {
        manager.h2StreamFinished(self)
    }

    static func statusText(_ status: Int) -> String {
        switch status {
        case 200: "200"
        case 404: "404"
        case 503: "503"
        default: String(status)
        }
    }
}
