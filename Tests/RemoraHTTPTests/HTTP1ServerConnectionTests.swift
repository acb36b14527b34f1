import RemoraCore
import Testing
@testable import RemoraHTTP

/// The connection manager's side of an HTTP/1 codec: a recorder per stream,
/// and the read holds the codec asked for.
final class RecordingHTTP1Server: RecordingServer, HTTP1ServerConnectionCallbacks {
    var readDisables = 0
    var written: [ByteSlice] = []

    func onHTTP1ReadDisable(_ disable: Bool) { readDisables += disable ? 1 : -1 }
    func onHTTP1Output(_ slice: ByteSlice) { written.append(slice) }
}

/// An HTTP/1 server codec fed from strings, its output read back as text.
final class HTTP1ServerHarness {
    let events = RecordingHTTP1Server()
    let codec: HTTP1ServerConnection
    var statuses: [HTTPCodecStatus] = []

    init(_ options: HTTP1ServerConnection.Options = HTTP1ServerConnection.Options()) {
        codec = HTTP1ServerConnection(options: options, encoder: HTTP1SharedEncoder(HTTP1Encoder()), callbacks: events)
    }

    @discardableResult
    func feed(_ text: String) -> HTTPCodecStatus {
        let status = codec.dispatch(slice(text))
        statuses.append(status)
        return status
    }

    /// What the codec wrote since the last call.
    func output() -> String {
        defer { events.written.removeAll() }
        #expect(!codec.hasOutput)
        return events.written.map(\.string).joined()
    }

    var encoder: any HTTPResponseEncoder { codec }
}

@Suite("HTTP1ServerConnection")
struct HTTP1ServerConnectionTests {
    @Test func headTranslatedToPseudoHeaders() {
        let h = HTTP1ServerHarness()
        h.feed("GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n")
        let s = try! #require(h.events.streams.first)
        let head = try! #require(s.head)
        #expect(head.name(at: 0).string == ":method" && head.method?.string == "GET")
        #expect(head.scheme?.string == "http")
        #expect(head.authority?.string == "example.com")
        #expect(head.path?.string == "/a?b=1")
        #expect(!head.contains(name: "host"))
        #expect(head.first(name: "accept")?.string == "*/*")
        #expect(s.ended)
        #expect(h.codec.requestFraming == HTTPRequestFraming(version: .http1_1))
        #expect(h.codec.requestComplete && h.codec.hasStream)
    }

    @Test func translatedHeadCostsNoArena() {
        // Pseudo-headers reference the loop's bytes and the parsed head: no
        // copy; added fields go into the loop's shared header arena, lent
        // to the head (no arena of its own, no array of extra storages).
        let shared = HTTP1SharedEncoder(HTTP1Encoder())
        let events = RecordingHTTP1Server()
        let codec = HTTP1ServerConnection(options: HTTP1ServerConnection.Options(), encoder: shared, callbacks: events)
        _ = codec.dispatch(slice("POST /p HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\r\n"))
        var head = try! #require(events.streams.first?.head)
        #expect(head.arenaIndex == 2)
        let arena = head.storages[2]
        let pseudo = head.requestPseudoHeaders
        #expect(pseudo.count == 4 && pseudo.method == .post && pseudo.scheme == "http" && pseudo.path == "/p")
        head.removeLeadingPseudoHeaders(pseudo.count)
        #expect(head.storages.secondary == nil)
        head.add(name: "x-request-id", value: "abc")
        #expect(head.first(name: "x-request-id")!.storage === arena && head.storages.extra.isEmpty)
        #expect(head.description.contains("x-request-id: abc") && head.first(name: "content-length")?.string == "0")
        // The next request's head (on any of the loop's codecs) shares the block.
        events.streams.removeAll()
        codec.encodeHeaders([":status": "200", "content-length": "0"], endStream: true)
        _ = codec.dispatch(slice("GET /q HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        var next = try! #require(events.streams.first?.head)
        next.add(name: "x-request-id", value: "def")
        #expect(next.first(name: "x-request-id")!.storage === arena)
        #expect(head.firstString(name: "x-request-id") == "abc" && next.firstString(name: "x-request-id") == "def")
    }

    @Test func absoluteFormTargetGivesAuthorityAndPath() {
        let h = HTTP1ServerHarness(HTTP1ServerConnection.Options(scheme: "https"))
        h.feed("GET http://other.example:8080/x/y HTTP/1.1\r\nHost: example.com\r\n\r\n")
        let head = try! #require(h.events.streams.first?.head)
        #expect(head.authority?.string == "other.example:8080")
        #expect(head.path?.string == "/x/y")
        #expect(head.scheme?.string == "https")
        let h2 = HTTP1ServerHarness()
        h2.feed("GET http://bare.example HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(h2.events.streams.first?.head?.path?.string == "/")
        #expect(h2.events.streams.first?.head?.authority?.string == "bare.example")
    }

    @Test func repeatedHostJoinedAndHTTP10DefaultHost() {
        let h = HTTP1ServerHarness()
        h.feed("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        #expect(h.events.streams.first?.head?.authority?.string == "a,b")
        var parser = HTTP1Parser.Configuration.request
        parser.acceptHTTP10 = true
        parser.allowMissingHostForHTTP10 = true
        let old = HTTP1ServerHarness(HTTP1ServerConnection.Options(parser: parser, defaultHostForHTTP10: "default.local"))
        old.feed("GET / HTTP/1.0\r\n\r\n")
        #expect(old.events.streams.first?.head?.authority?.string == "default.local")
        #expect(old.codec.requestFraming.version == .http1_0)
        // HTTP/1.0 without keep-alive closes after the response.
        #expect(old.codec.closeAfterResponse)
    }

    @Test func bodyChunksThenEndAndChunkedResponse() {
        let h = HTTP1ServerHarness()
        h.feed("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello")
        let s = try! #require(h.events.streams.first)
        #expect(!s.ended && !h.codec.requestComplete)
        h.feed(" world")
        #expect(s.bodyString == "hello world" && s.ended && h.codec.requestComplete)
        h.encoder.encodeHeaders(status(200, [("x-a", "1")]), endStream: false)
        h.encoder.encodeData(slice("abc"), endStream: false)
        h.encoder.encodeData(slice("de"), endStream: true)
        #expect(h.output() == "HTTP/1.1 200 OK\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        #expect(!h.codec.hasStream && !h.codec.wantsClose)
    }

    @Test func chunkedRequestTrailersEndTheRequest() {
        let h = HTTP1ServerHarness()
        h.feed("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-t: v\r\n\r\n")
        let s = try! #require(h.events.streams.first)
        #expect(s.bodyString == "abc")
        #expect(s.trailers?.first(name: "x-t")?.string == "v")
        #expect(h.codec.requestComplete)
    }

    @Test func responseFraming() {
        // An empty answer says content-length: 0; a length is kept; 204 gets nothing.
        let cases: [(String, HTTPHeaders, Bool, String)] = [
            ("GET", status(200), true, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
            ("GET", status(200, [("content-length", "2")]), false, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
            ("GET", status(204), true, "HTTP/1.1 204 No Content\r\n\r\n"),
            ("HEAD", status(200), true, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"),
        ]
        for (method, head, endStream, expected) in cases {
            let h = HTTP1ServerHarness()
            h.feed("\(method) / HTTP/1.1\r\nHost: x\r\n\r\n")
            h.encoder.encodeHeaders(head, endStream: endStream)
            if !endStream { h.encoder.encodeData(slice("ok"), endStream: true) }
            #expect(h.output() == expected, "\(method) \(head)")
            #expect(!h.codec.hasStream)
        }
    }

    @Test func connectionCloseAndHTTP10KeepAlive() {
        let h = HTTP1ServerHarness()
        h.feed("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        h.encoder.encodeHeaders(status(200), endStream: true)
        #expect(h.output() == "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
        #expect(h.codec.wantsClose)

        var parser = HTTP1Parser.Configuration.request
        parser.acceptHTTP10 = true
        let old = HTTP1ServerHarness(HTTP1ServerConnection.Options(parser: parser))
        old.feed("GET / HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
        old.encoder.encodeHeaders(status(200, [("content-length", "0")]), endStream: true)
        #expect(old.output() == "HTTP/1.0 200 OK\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n")
        #expect(!old.codec.wantsClose)
        // A body of unknown length on HTTP/1.0 runs until close.
        old.feed("GET / HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
        old.encoder.encodeHeaders(status(200), endStream: false)
        old.encoder.encodeData(slice("x"), endStream: true)
        #expect(old.output() == "HTTP/1.0 200 OK\r\nconnection: close\r\n\r\nx")
        #expect(old.codec.wantsClose)
    }

    @Test func pipelinedRequestWaitsForTheResponse() {
        let h = HTTP1ServerHarness()
        h.feed("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(h.events.streams.count == 1)
        #expect(h.codec.hasPendingInput)
        h.encoder.encodeHeaders(status(200), endStream: true)
        // Not from inside the encoder call: the owner resumes.
        #expect(h.events.streams.count == 1)
        #expect(h.codec.resume() == .ok)
        #expect(h.events.streams.count == 2)
        #expect(h.events.streams[1].head?.path?.string == "/2")
        #expect(!h.codec.hasPendingInput)
    }

    @Test func noNewRequestWhileTheSocketIsFull() {
        let h = HTTP1ServerHarness()
        h.feed("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n")
        h.codec.onUnderlyingConnectionAboveWriteBufferHighWatermark()
        #expect(h.events.streams[0].aboveHigh == 1)
        h.encoder.encodeHeaders(status(200), endStream: true)
        h.feed("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(h.events.streams.count == 1)
        h.codec.onUnderlyingConnectionBelowWriteBufferLowWatermark()
        _ = h.codec.resume()
        #expect(h.events.streams.count == 2)
    }

    @Test func expectContinueAndUpgradeFacts() {
        let h = HTTP1ServerHarness()
        h.feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n")
        #expect(h.codec.requestFraming.expectsContinue)
        h.encoder.encode1xxHeaders(status(100))
        #expect(h.output() == "HTTP/1.1 100 Continue\r\n\r\n")

        let ws = HTTP1ServerHarness()
        ws.feed("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nearly")
        let s = try! #require(ws.events.streams.first)
        #expect(ws.codec.requestFraming.isUpgrade && ws.codec.requestFraming.isTunnel)
        #expect(ws.codec.isTunneling)
        // Bytes after the head are tunnel data for the stream.
        #expect(s.bodyString == "early")
        ws.encoder.encodeHeaders(status(101, [("connection", "upgrade"), ("upgrade", "websocket")]), endStream: false)
        #expect(ws.output() == "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n")
        ws.feed("more")
        #expect(s.bodyString == "earlymore")
        ws.encoder.encodeData(slice("raw"), endStream: false)
        #expect(ws.output() == "raw")
        ws.codec.tunnelInputEnded()
        #expect(s.ended)
        ws.encoder.encodeData(slice(""), endStream: true)
        #expect(ws.codec.wantsClose)
    }

    @Test func aSuccessfulAnswerToCONNECTOpensTheTunnel() {
        let h = HTTP1ServerHarness()
        h.feed("CONNECT upstream.example:443 HTTP/1.1\r\nHost: upstream.example:443\r\n\r\n")
        let s = try! #require(h.events.streams.first)
        #expect(h.codec.requestFraming.isConnect && h.codec.requestFraming.isTunnel && !h.codec.requestFraming.isUpgrade)
        // Envoy's answer: the status line, the fields given, no framing field.
        h.encoder.encodeHeaders(status(200, [("server", "envoy")]), endStream: false)
        #expect(h.output() == "HTTP/1.1 200 OK\r\nserver: envoy\r\n\r\n")
        h.feed("payload")
        #expect(s.bodyString == "payload")
        h.encoder.encodeData(slice("raw"), endStream: false)
        #expect(h.output() == "raw")

        let refused = HTTP1ServerHarness()
        refused.feed("CONNECT upstream.example:443 HTTP/1.1\r\nHost: upstream.example:443\r\n\r\n")
        refused.encoder.encodeHeaders(status(503, [("content-length", "0")]), endStream: true)
        let answer = refused.output()
        #expect(answer.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n") && answer.contains("content-length: 0\r\n"))
    }

    @Test func declinedUpgradeClosesWithoutBody() {
        let h = HTTP1ServerHarness()
        h.feed("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        h.encoder.encodeHeaders(status(403), endStream: false)
        h.encoder.encodeData(slice("dropped"), endStream: true)
        #expect(h.output() == "HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
        #expect(h.codec.wantsClose)
    }

    @Test func malformedHeadOpensAStreamForTheReply() {
        for (bytes, code) in [("GET / HTTP/1.1\r\n\r\n", 400), ("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501)] {
            let h = HTTP1ServerHarness()
            let status = h.feed(bytes)
            #expect(!status.isOK)
            let s = try! #require(h.events.streams.first)
            #expect(s.head == nil)
            #expect(s.codecError?.status == code, "\(bytes.debugDescription)")
            #expect(h.codec.closeAfterResponse)
            #expect(!h.codec.openingWithHead)
        }
        // Too large a head: 431.
        var parser = HTTP1Parser.Configuration.request
        parser.maxHeadBytes = 64
        let big = HTTP1ServerHarness(HTTP1ServerConnection.Options(parser: parser))
        big.feed("GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + String(repeating: "a", count: 100) + "\r\n\r\n")
        #expect(big.events.streams.first?.codecError?.status == 431)
    }

    @Test func brokenBodyAfterTheResponseStartedResetsTheStream() {
        let h = HTTP1ServerHarness()
        h.feed("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        h.encoder.encodeHeaders(status(200), endStream: false)
        let status = h.feed("zz\r\n")
        #expect(!status.isOK)
        #expect(h.events.streams[0].reset == .protocolError)
        #expect(h.codec.aborted && !h.codec.hasStream)
    }

    @Test func responseBeforeTheBodyEndsClosesTheConnection() {
        let h = HTTP1ServerHarness()
        h.feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        h.encoder.encodeHeaders(status(413), endStream: true)
        #expect(h.output().hasPrefix("HTTP/1.1 413 Payload Too Large\r\n"))
        // The rest of the request will not be read.
        #expect(h.codec.wantsClose)
        h.feed("defghij")
        #expect(h.events.streams.count == 1)
    }

    @Test func streamReadHoldsEndWithTheStream() {
        let h = HTTP1ServerHarness()
        h.feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n")
        h.encoder.readDisable(true)
        h.encoder.readDisable(true)
        h.encoder.readDisable(false)
        #expect(h.events.readDisables == 1)
        h.encoder.encodeHeaders(status(200), endStream: true)
        #expect(h.events.readDisables == 0)
    }

    @Test func resetAllStreamsEndsTheStream() {
        let h = HTTP1ServerHarness()
        h.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        h.codec.resetAllStreams()
        #expect(h.events.streams[0].reset == .connectionTermination)
        h.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(h.events.streams.count == 1)
    }

    @Test func localReplyFromInsideTheHeadCallback() {
        // A consumer that answers at once (a local reply from decodeHeaders):
        // the next pipelined request is parsed once the owner resumes.
        let h = HTTP1ServerHarness()
        h.events.onNew = { stream, encoder in
            stream.onEvent = { _ in
                encoder.encodeHeaders(status(404, [("content-length", "0")]), endStream: true)
            }
        }
        h.feed("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(h.events.streams.count == 2)
        #expect(h.output() == "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n" + "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
    }
}
