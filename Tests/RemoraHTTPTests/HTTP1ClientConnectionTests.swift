import RemoraCore
import Testing
@testable import RemoraHTTP

/// The pool's side of an HTTP/1 client codec: what it wrote and the read
/// holds it asked for.
final class RecordingHTTP1Client: HTTP1ClientConnectionCallbacks {
    var readDisables = 0
    var written: [ByteSlice] = []
    var tunnelOutputEnded = false

    func onHTTP1ReadDisable(_ disable: Bool) { readDisables += disable ? 1 : -1 }
    func onHTTP1Output(_ slice: ByteSlice) { written.append(slice) }
    func onHTTP1TunnelOutputEnded() { tunnelOutputEnded = true }
}

/// An HTTP/1 client codec fed from strings (bytes in → events out).
final class HTTP1ClientHarness {
    let events = RecordingHTTP1Client()
    let codec: HTTP1ClientConnection
    var stream = RecordingStream()

    init(_ configuration: HTTP1Parser.Configuration = .response) {
        codec = HTTP1ClientConnection(parser: configuration, encoder: HTTP1SharedEncoder(HTTP1Encoder()), callbacks: events)
    }

    /// Opens a stream and sends `head` (pseudo-headers first).
    @discardableResult
    func request(_ fields: [(String, String)], endStream: Bool = true) -> any HTTPRequestEncoder {
        stream = RecordingStream()
        let encoder = codec.newStream(stream)
        stream.encoder = encoder
        encoder.encodeHeaders(HTTPHeaders(fields), endStream: endStream)
        return encoder
    }

    @discardableResult
    func feed(_ text: String) -> HTTPCodecStatus { codec.dispatch(slice(text)) }

    func output() -> String {
        defer { events.written.removeAll() }
        return events.written.map(\.string).joined()
    }
}

private let get: [(String, String)] = [(":method", "GET"), (":scheme", "http"), (":authority", "up.example"), (":path", "/a")]

@Suite("HTTP1ClientConnection")
struct HTTP1ClientConnectionTests {
    @Test func requestHeadFromPseudoHeaders() {
        let h = HTTP1ClientHarness()
        h.request(get + [("accept", "*/*")])
        #expect(h.output() == "GET /a HTTP/1.1\r\nhost: up.example\r\naccept: */*\r\n\r\n")
        #expect(h.codec.requestComplete && h.codec.activeStreams == 1 && !h.codec.canOpenStream)
    }

    @Test func requestFramingAsEnvoysCodec() {
        // An empty POST says `content-length: 0`; an empty GET says nothing;
        // a body of unknown length is chunked, trailers after the last chunk.
        let h = HTTP1ClientHarness()
        h.request([(":method", "POST"), (":authority", "u"), (":path", "/")])
        #expect(h.output() == "POST / HTTP/1.1\r\nhost: u\r\ncontent-length: 0\r\n\r\n")
        h.feed("HTTP/1.1 204 No Content\r\n\r\n")
        #expect(h.stream.ended)

        let e = h.request([(":method", "PUT"), (":authority", "u"), (":path", "/p")], endStream: false)
        e.encodeData(slice("hello"), endStream: false)
        var trailers = HTTPHeaders()
        trailers.add(name: "x-t", value: "1")
        e.encodeTrailers(trailers)
        #expect(h.output() == "PUT /p HTTP/1.1\r\nhost: u\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-t: 1\r\n\r\n")
        h.feed("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        #expect(h.stream.ended && h.codec.isReusable)

        // A length given is kept, and the body goes as it is.
        let l = h.request([(":method", "POST"), (":authority", "u"), (":path", "/"), ("content-length", "3")], endStream: false)
        l.encodeData(slice("abc"), endStream: true)
        #expect(h.output() == "POST / HTTP/1.1\r\nhost: u\r\ncontent-length: 3\r\n\r\nabc")
    }

    /// Opens a stream and sends a head in parts (the router's fast path).
    private func send(_ h: HTTP1ClientHarness, _ head: HTTPRequestHead, endStream: Bool) -> any HTTPRequestEncoder {
        h.stream = RecordingStream()
        let encoder = h.codec.newStream(h.stream)
        h.stream.encoder = encoder
        encoder.encodeHeaders(head, endStream: endStream)
        return encoder
    }

    @Test func headInPartsIsWrittenAsItsPseudoHeaderForm() {
        // The same bytes as from the pseudo-header head, with no header map
        // built; the framing comes from the head's flags, not a field scan.
        let h = HTTP1ClientHarness()
        let head = HTTPRequestHead(method: .get, scheme: "http", authority: "up.example", path: "/a",
                                   fields: HTTPHeaders([("accept", "*/*")]))
        _ = send(h, head, endStream: true)
        #expect(h.output() == "GET /a HTTP/1.1\r\nhost: up.example\r\naccept: */*\r\n\r\n")
        #expect(h.codec.requestComplete)
        h.feed("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        #expect(h.stream.ended && h.codec.isReusable)

        let put = HTTPRequestHead(method: .put, scheme: "http", authority: "u", path: "/p",
                                  fields: HTTPHeaders([("transfer-encoding", "chunked")]), framing: .chunked)
        let e = send(h, put, endStream: false)
        e.encodeData(slice("hello"), endStream: true)
        #expect(h.output() == "PUT /p HTTP/1.1\r\nhost: u\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        h.feed("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")

        // A chunked body that ended before the head was sent: the last chunk follows the head.
        _ = send(h, put, endStream: true)
        #expect(h.output() == "PUT /p HTTP/1.1\r\nhost: u\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n")
        #expect(h.codec.requestComplete)
    }

    @Test func headInPartsForATunnel() {
        // A CONNECT's target is its authority; tunnel bytes go as they are,
        // and a 2xx opens the tunnel.
        let h = HTTP1ClientHarness()
        let connect = HTTPRequestHead(method: .connect, scheme: "http", authority: "dest.example:443", path: "",
                                      fields: HTTPHeaders(), framing: .tunnel)
        let e = send(h, connect, endStream: false)
        #expect(h.output() == "CONNECT dest.example:443 HTTP/1.1\r\nhost: dest.example:443\r\n\r\n")
        h.feed("HTTP/1.1 200 OK\r\n\r\nraw")
        #expect(h.codec.isTunneling && h.stream.bodyString == "raw")
        e.encodeData(slice("up"), endStream: false)
        #expect(h.output() == "up")
    }

    @Test func responseHeadGetsStatusFirstWithoutCopy() {
        let h = HTTP1ClientHarness()
        h.request(get)
        h.feed("HTTP/1.1 201 Created\r\nServer: s\r\nContent-Length: 2\r\n\r\nok")
        let head = try! #require(h.stream.head)
        #expect(head.name(at: 0).string == ":status" && head.status == 201)
        #expect(head.first(name: "server")?.string == "s")
        // `:status` references the shared constant (no copy), and what the
        // proxy adds goes into the loop's arena, lent: no arena was made.
        #expect(head.name(at: 0).storage === StatusPseudoHeaderBytes.buffer)
        #expect(head.arenaIndex == 1 && head.storages.extra.isEmpty)
        #expect(h.stream.bodyString == "ok" && h.stream.ended && h.stream.reset == nil)
        #expect(h.codec.activeStreams == 0 && h.codec.canOpenStream && !h.codec.wantsClose)
    }

    @Test func informationalHeadsThenFinal() {
        let h = HTTP1ClientHarness()
        h.request(get)
        h.feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </s>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")
        #expect(h.stream.informational.map(\.status) == [100, 103])
        #expect(h.stream.head?.status == 200 && h.stream.bodyString == "x" && h.stream.ended)
    }

    @Test func chunkedResponseWithTrailersInPieces() {
        let h = HTTP1ClientHarness()
        h.request(get)
        for piece in ["HTTP/1.1 200 OK\r\nTransfer-Enc", "oding: chunked\r\n\r\n3\r\nabc\r", "\n0\r\nx-checksum: 9\r\n", "\r\n"] {
            #expect(h.feed(piece) == .ok)
        }
        #expect(h.stream.bodyString == "abc")
        #expect(h.stream.trailers?.first(name: "x-checksum")?.string == "9")
        #expect(h.stream.ended && h.codec.isReusable)
    }

    @Test func bodilessAnswers() {
        // HEAD, 204 and 304 end with their head, whatever length they state.
        let h = HTTP1ClientHarness()
        h.request([(":method", "HEAD"), (":authority", "u"), (":path", "/")])
        h.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
        #expect(h.stream.head?.status == 200 && h.stream.ended && h.stream.dataCalls == 0)
        #expect(h.codec.isReusable)
        h.request(get)
        h.feed("HTTP/1.1 304 Not Modified\r\n\r\n")
        #expect(h.stream.head?.status == 304 && h.stream.ended)
    }

    @Test func bodyUntilCloseEndsWithInput() {
        let h = HTTP1ClientHarness()
        h.request(get)
        h.feed("HTTP/1.1 200 OK\r\n\r\npart")
        #expect(!h.stream.ended && h.stream.bodyString == "part")
        h.codec.onInputEnded()
        #expect(h.stream.ended && h.stream.reset == nil)
        #expect(!h.codec.isReusable && h.codec.wantsClose)
    }

    @Test func responseCutShortIsConnectionTermination() {
        let h = HTTP1ClientHarness()
        h.request(get)
        h.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        h.codec.onInputEnded()
        #expect(h.stream.reset == .connectionTermination && !h.stream.ended)
        #expect(h.codec.wantsClose)
    }

    @Test func connectionCloseAndHTTP10EndKeepAlive() {
        let h = HTTP1ClientHarness()
        h.request(get)
        h.feed("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        #expect(h.stream.ended && !h.codec.isReusable && h.codec.wantsClose)

        let old = HTTP1ClientHarness()
        old.request(get)
        old.feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(old.stream.ended && !old.codec.isReusable)

        // The request's own `connection: close` counts too.
        let asked = HTTP1ClientHarness()
        asked.request(get + [("connection", "close")])
        asked.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(asked.stream.ended && !asked.codec.isReusable)
    }

    @Test func malformedResponseResetsWithProtocolError() {
        for bad in ["XTTP/1.1 200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
                    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"] {
            let h = HTTP1ClientHarness()
            h.request(get)
            let status = h.feed(bad)
            #expect(!status.isOK, "\(bad.debugDescription)")
            #expect(h.stream.reset == .protocolError, "\(bad.debugDescription)")
            #expect(h.codec.wantsClose && !h.codec.canOpenStream)
            // Nothing more is taken.
            #expect(h.feed("HTTP/1.1 200 OK\r\n\r\n") == .ok)
        }
    }

    @Test func oversizedHeadIsProtocolError() {
        var configuration = HTTP1Parser.Configuration.response
        configuration.maxHeadBytes = 64
        let h = HTTP1ClientHarness(configuration)
        h.request(get)
        let status = h.feed("HTTP/1.1 200 OK\r\nx-big: " + String(repeating: "a", count: 100) + "\r\n\r\n")
        #expect(status == .protocolError("http1.headers_too_large"))
        #expect(h.stream.reset == .protocolError && h.stream.head == nil)

        var few = HTTP1Parser.Configuration.response
        few.maxHeaderCount = 2
        let f = HTTP1ClientHarness(few)
        f.request(get)
        #expect(!f.feed("HTTP/1.1 200 OK\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n").isOK)
        #expect(f.stream.reset == .protocolError)
    }

    @Test func garbageAfterWholeResponseEndsReuse() {
        // The response is whole (the stream ends normally), but bytes no
        // request asked for mean the framing is in doubt: no reuse.
        let h = HTTP1ClientHarness()
        h.request(get)
        #expect(h.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n") == .ok)
        #expect(h.stream.bodyString == "ok" && h.stream.ended && h.stream.reset == nil)
        #expect(!h.codec.isReusable && h.codec.wantsClose)

        // Bytes arriving later, with no stream open, likewise.
        let later = HTTP1ClientHarness()
        later.request(get)
        later.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(later.codec.isReusable)
        later.feed("junk")
        #expect(!later.codec.isReusable && later.codec.wantsClose)
    }

    @Test func upgradeHandsOffTunnelBytes() {
        let h = HTTP1ClientHarness()
        let e = h.request(get + [("connection", "upgrade"), ("upgrade", "websocket")], endStream: false)
        #expect(h.output() == "GET /a HTTP/1.1\r\nhost: up.example\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n")
        h.feed("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nframe1")
        #expect(h.stream.head?.status == 101 && !h.stream.ended)
        #expect(h.codec.isTunneling && h.stream.bodyString == "frame1")
        e.encodeData(slice("up"), endStream: false)
        #expect(h.output() == "up")
        h.feed("frame2")
        #expect(h.stream.bodyString == "frame1frame2")
        // The request's end half-closes; the upstream's close ends the
        // tunnel as a connection termination (Envoy's codec client).
        e.encodeData(slice(""), endStream: true)
        #expect(h.events.tunnelOutputEnded && h.output() == "")
        h.codec.onInputEnded()
        #expect(!h.stream.ended && h.stream.reset == .connectionTermination && h.codec.wantsClose)
    }

    @Test func connectTargetIsTheAuthority() {
        let h = HTTP1ClientHarness()
        h.request([(":method", "CONNECT"), (":authority", "dest.example:443")], endStream: false)
        #expect(h.output() == "CONNECT dest.example:443 HTTP/1.1\r\nhost: dest.example:443\r\n\r\n")
        h.feed("HTTP/1.1 200 OK\r\n\r\nraw")
        #expect(h.stream.head?.status == 200 && h.codec.isTunneling && h.stream.bodyString == "raw")
    }

    @Test func streamEndsBeforeItsLastEventSoTheNextMayBegin() {
        // The decoder hands the connection back inside its last event and a
        // next request starts at once (a pool waiter).
        let h = HTTP1ClientHarness()
        h.request(get)
        var second: RecordingStream?
        h.stream.onEvent = { s in
            guard s.ended, second == nil else { return }
            let next = RecordingStream()
            second = next
            h.codec.newStream(next).encodeHeaders(HTTPHeaders(get), endStream: true)
        }
        h.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")
        #expect(second != nil && h.codec.activeStreams == 1)
        h.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\ny")
        #expect(second?.bodyString == "y" && second?.ended == true)
    }

    @Test func readHoldsAreReleasedWhenTheStreamEnds() {
        let h = HTTP1ClientHarness()
        let e = h.request(get)
        e.readDisable(true)
        e.readDisable(true)
        #expect(h.events.readDisables == 2)
        h.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(h.events.readDisables == 0)
    }

    @Test func localResetAndConnectionLoss() {
        let h = HTTP1ClientHarness()
        let e = h.request(get)
        e.resetStream(.localReset)
        #expect(h.stream.reset == .localReset && h.codec.wantsClose)

        let lost = HTTP1ClientHarness()
        lost.request(get)
        lost.feed("HTTP/1.1 200 OK\r\n")
        lost.codec.resetAllStreams()
        #expect(lost.stream.reset == .connectionTermination)
    }

    @Test func watermarksReachTheStream() {
        let h = HTTP1ClientHarness()
        h.codec.onUnderlyingConnectionAboveWriteBufferHighWatermark()
        h.request(get)
        #expect(h.stream.aboveHigh == 1)
        h.codec.onUnderlyingConnectionBelowWriteBufferLowWatermark()
        #expect(h.stream.belowLow == 1)
    }
}
