import RemoraCore
import Testing
@testable import RemoraHTTP

@Suite("HTTP1Encoder")
struct HTTP1EncoderTests {
    func text(_ s: ByteSlice) -> String { String(decoding: s.bytes, as: UTF8.self) }
    func text(_ slices: [ByteSlice]) -> String { slices.map(text).joined() }

    @Test func requestHeadLowercasesNamesLikeEnvoy() {
        var e = HTTP1Encoder()
        let headers: HTTPHeaders = ["Host": "example.com", "User-Agent": "curl/8", "X-Mixed_Case": "V"]
        #expect(text(e.encodeRequestHead(method: .get, target: "/p?q", headers: headers))
            == "GET /p?q HTTP/1.1\r\nhost: example.com\r\nuser-agent: curl/8\r\nx-mixed_case: V\r\n\r\n")
    }

    @Test func headerNameCases() {
        let headers: HTTPHeaders = ["content-TYPE": "a", "x-foo$b#$are": "b"]
        var preserve = HTTP1Encoder(headerNameCase: .preserve)
        #expect(text(preserve.encodeResponseHead(status: 200, headers: headers))
            == "HTTP/1.1 200 OK\r\ncontent-TYPE: a\r\nx-foo$b#$are: b\r\n\r\n")
        var proper = HTTP1Encoder(headerNameCase: .properCase)
        #expect(text(proper.encodeResponseHead(status: 200, headers: headers))
            == "HTTP/1.1 200 OK\r\nContent-Type: a\r\nX-Foo$B#$Are: b\r\n\r\n")
    }

    @Test func responseHeadsUseEnvoysReasonPhrases() {
        var e = HTTP1Encoder()
        #expect(text(e.encodeResponseHead(status: 100, headers: [:])) == "HTTP/1.1 100 Continue\r\n\r\n")
        #expect(text(e.encodeResponseHead(status: 431, headers: ["content-length": "0"]))
            == "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n")
        #expect(text(e.encodeResponseHead(status: 418, headers: [:])) == "HTTP/1.1 418 Unknown\r\n\r\n")
        #expect(text(e.encodeResponseHead(status: 599, headers: [:])) == "HTTP/1.1 599 Last Unassigned Server Error Code\r\n\r\n")
        #expect(text(e.encodeResponseHead(status: 200, version: .http1_0, headers: ["connection": "keep-alive"]))
            == "HTTP/1.0 200 OK\r\nconnection: keep-alive\r\n\r\n")
        #expect(text(e.encodeResponseHead(status: 299, reason: "Fine", headers: [:])) == "HTTP/1.1 299 Fine\r\n\r\n")
        #expect(HTTP1Encoder.reasonPhrase(for: 103) == "Unknown")
    }

    @Test func chunkedFramingDoesNotCopyTheBody() {
        var e = HTTP1Encoder()
        let body = slice("0123456789abcdefXYZ")
        var out: [ByteSlice] = []
        e.encodeChunk(body, into: &out)
        e.encodeChunk(slice(""), into: &out)
        #expect(out.count == 3)
        #expect(out[1].storage === body.storage)
        #expect(text(out) == "13\r\n0123456789abcdefXYZ\r\n")
        out.append(e.encodeLastChunk())
        #expect(text(out).hasSuffix("\r\n0\r\n\r\n"))
        #expect(text(e.encodeLastChunk(trailers: ["Grpc-Status": "0"])) == "0\r\ngrpc-status: 0\r\n\r\n")
        #expect(text(e.chunkHeader(size: 0x10000)) == "10000\r\n")
        #expect(text(e.chunkHeader(size: 1)) == "1\r\n")
        var plain: [ByteSlice] = []
        e.encodeBody(body, into: &plain)
        #expect(plain.count == 1 && plain[0].storage === body.storage)
    }

    @Test func smallOutputsShareABlock() {
        var e = HTTP1Encoder()
        let a = e.chunkHeader(size: 5)
        let b = e.chunkHeader(size: 6)
        let c = e.encodeResponseHead(status: 204, headers: [:])
        #expect(a.storage === b.storage && b.storage === c.storage)
        #expect(b.offset == a.offset + a.count)
        let huge = e.encodeResponseHead(status: 200, headers: ["x": String(repeating: "v", count: 10_000)])
        #expect(huge.count > 10_000)
        #expect(text(a) == "5\r\n" && text(b) == "6\r\n")
    }

    @Test func pooledBlocks() {
        let pool = BufferPool(blockSize: 1024, maxCached: 2)
        do {
            var e = HTTP1Encoder(pool: pool)
            let head = e.encodeRequestHead(method: .post, target: "/", headers: ["host": "h"])
            #expect(pool.outstanding == 1)
            #expect(text(head) == "POST / HTTP/1.1\r\nhost: h\r\n\r\n")
            let big = e.encodeRequestHead(method: .post, target: "/", headers: ["x": String(repeating: "v", count: 2000)])
            #expect(big.count > 2000)
        }
        #expect(pool.outstanding == 0)
    }

    @Test func roundTripRequest() throws {
        var e = HTTP1Encoder(headerNameCase: .preserve)
        let headers: HTTPHeaders = ["Host": "h", "Transfer-Encoding": "chunked", "X-A": "1", "x-a": "2"]
        var wire: [ByteSlice] = [e.encodeRequestHead(method: .put, target: "/up", headers: headers)]
        for piece in ["hello ", "chunked ", "world"] { e.encodeChunk(slice(piece), into: &wire) }
        wire.append(e.encodeLastChunk(trailers: ["X-Checksum": "abc"]))
        var f = Feeder(kind: .request)
        let events = f.feed(wire)
        let head = try #require(f.recorder.requestHeads.first)
        #expect(head.method == .put && head.targetString == "/up")
        #expect(head.headers == headers)
        #expect(events.dropFirst() == [.body(Array("hello chunked world".utf8)), .trailers("[X-Checksum: abc]"), .end])
    }

    @Test func roundTripResponse() throws {
        var e = HTTP1Encoder()
        let headers: HTTPHeaders = ["Content-Length": "4", "Set-Cookie": "a=1", "Set-Cookie": "b=2"]
        let wire = [e.encodeResponseHead(status: 404, headers: headers), slice("nope")]
        var f = Feeder(kind: .response, requestMethods: [.get])
        let events = f.feed(wire)
        let head = try #require(f.recorder.responseHeads.first)
        #expect(head.status == 404 && head.reason.bytes == Array("Not Found".utf8))
        #expect(head.headers == headers)
        #expect(events.suffix(2) == [.body(Array("nope".utf8)), .end])
    }

    @Test func roundTripOfParsedHeadIsByteExact() throws {
        let original = "GET /x HTTP/1.1\r\nhost: h\r\naccept: */*\r\nx-dup: 1\r\nx-dup: 2\r\n\r\n"
        var f = Feeder(kind: .request)
        _ = f.feed([slice(original)])
        let head = try #require(f.recorder.requestHeads.first)
        var e = HTTP1Encoder()
        #expect(text(e.encodeRequestHead(method: head.method, target: head.target, version: head.version, headers: head.headers)) == original)
    }
}
