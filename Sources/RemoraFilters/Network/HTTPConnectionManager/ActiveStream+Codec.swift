import RemoraConfig
import RemoraCore
import RemoraHTTP

/// The codec's side of `ActiveStream` (HTTP/1 or HTTP/2 alike): the
/// request's events in; the head in the pseudo-header model becomes the
/// `HTTPRequestMessage` the filters and the router see.
extension ActiveStream: HTTPRequestDecoder {
    func decodeHeaders(_ headers: consuming HTTPHeaders, endStream: Bool) {
        beginRequest(consume headers, endStream: endStream)
    }

    /// The codec refused the request's bytes: its status (with the reason
    /// phrase as the body, as Envoy answers codec errors, except a missing
    /// Host, which gets an empty body), and the connection closes.
    func sendCodecErrorReply(status: Int, details: String) {
        if requestHead == nil { beginWithoutHead() }
        if status == 431 { manager.stats.add(.downstreamRqTooLarge) }
        let body = details.contains("missing_host") ? "" : HTTP1Encoder.reasonPhrase(for: status)
        sendLocalReply(LocalReply(status: status, body: body, flag: .downstreamProtocolError, details: details,
                                  closeConnection: true))
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
        case .localReset, .localRefusedStreamReset: return
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
    static func fillFromPseudoHeaders(_ message: inout HTTPRequestMessage, _ head: consuming HTTPHeaders,
                                      version: HTTPVersion) -> Bool {
        // The fields move to the message (one owner: edited in place, no copy).
        swap(&message.headers, &head)
        let pseudo = message.headers.requestPseudoHeaders
        if let method = pseudo.method { message.method = method }
        message.path = pseudo.path ?? ""
        message.scheme = pseudo.scheme ?? "http"
        message.authority = pseudo.authority
        message.headers.removeLeadingPseudoHeaders(pseudo.count)
        if version == .http2 {
            // The HTTP/1 codec made `:authority` of Host already.
            if message.authority == nil, let host = message.headers.firstString(name: "host") { message.authority = host }
            _ = message.headers.remove(name: "host")
        }
        message.version = version
        return message.method == .head
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
