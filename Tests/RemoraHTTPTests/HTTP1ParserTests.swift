import RemoraCore
import Testing
@testable import RemoraHTTP

@Suite("HTTP1Parser: requests")
struct HTTP1ParserTests {
    static let http10 = HTTP1Parser.Configuration(maxHeadBytes: 60 * 1024, acceptHTTP10: true)

    @Test func simpleGet() throws {
        let input = slice("GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept:  */* \t\r\nX-Empty:\r\n\r\n")
        var parser = HTTP1Parser(kind: .request)
        var r = Recorder()
        let result = try parser.parse(input, delegate: &r)
        #expect(result == HTTP1ParseResult(consumed: input.count, stop: .messageComplete))
        let head = try #require(r.requestHeads.first)
        #expect(head.method == .get)
        #expect(head.targetString == "/a?b=c")
        #expect(head.version == .http1_1)
        #expect(head.framing == .none)
        #expect(head.keepAlive)
        #expect(!head.expectsContinue && !head.isUpgrade)
        #expect(head.headers == ["Host": "example.com", "Accept": "*/*", "X-Empty": ""])
        #expect(r.events.last == .end)
        #expect(parser.isIdle)
    }

    @Test func headersWithUnderscores() throws {
        let text = "GET / HTTP/1.1\r\nHost: h\r\nmy_header: 1\r\nok-header: 2\r\nx_y: 3\r\n\r\n"
        var drop = HTTP1Parser.Configuration.request
        drop.headersWithUnderscores = .dropHeader
        var parser = HTTP1Parser(kind: .request, configuration: drop)
        var r = Recorder()
        _ = try parser.parse(slice(text), delegate: &r)
        #expect(try #require(r.requestHeads.first).headers == ["Host": "h", "ok-header": "2"])
        #expect(parser.droppedUnderscoreFields == 2)

        var reject = HTTP1Parser.Configuration.request
        reject.headersWithUnderscores = .rejectRequest
        parser = HTTP1Parser(kind: .request, configuration: reject)
        r = Recorder()
        #expect(throws: HTTP1ParseError.self) { try parser.parse(slice(text), delegate: &r) }
        #expect(r.requestHeads.isEmpty)
        #expect(parser.failure?.details == "http1.unexpected_underscore" && parser.failure?.status == 400)
        // Allowed by default.
        let allowed = try parseWholeHead(text)
        #expect(allowed?.headers.count == 4)
    }

    private func parseWholeHead(_ text: String) throws -> HTTP1RequestHead? {
        var parser = HTTP1Parser(kind: .request)
        var r = Recorder()
        _ = try parser.parse(slice(text), delegate: &r)
        return r.requestHeads.first
    }

    @Test func headInOneReadIsNotCopied() throws {
        let input = slice("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")
        var parser = HTTP1Parser(kind: .request)
        var r = Recorder()
        _ = try parser.parse(input, delegate: &r)
        let head = try #require(r.requestHeads.first)
        #expect(head.target.storage === input.storage)
        #expect(head.headers.name(at: 0).storage === input.storage)
        #expect(head.headers.value(at: 1).storage === input.storage)
        #expect(r.bodySlices.count == 1)
        #expect(r.bodySlices[0].storage === input.storage)
        #expect(r.bodySlices[0].offset == input.count - 5)
    }

    @Test func headAcrossReadsIsCopiedOnce() throws {
        var parser = HTTP1Parser(kind: .request)
        var r = Recorder()
        let a = slice("GET / HTTP/1.1\r\nHo")
        let b = slice("st: h\r\n\r\n")
        #expect(try parser.parse(a, delegate: &r) == HTTP1ParseResult(consumed: a.count, stop: .needMoreData))
        #expect(try parser.parse(b, delegate: &r) == HTTP1ParseResult(consumed: b.count, stop: .messageComplete))
        let head = try #require(r.requestHeads.first)
        #expect(head.headers.firstString(name: "host") == "h")
        #expect(head.target.storage !== a.storage && head.target.storage !== b.storage)
    }

    @Test func bodyByContentLength() {
        #expect(parseWhole("PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world").dropFirst() == [
            .body(Array("hello world".utf8)), .end,
        ])
        #expect(parseWhole("PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n").last == .end)
        #expect(parseWhole("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 005\r\n\r\nhello").dropFirst() == [
            .body(Array("hello".utf8)), .end,
        ])
    }

    @Test func truncatedBodyIsAnError() {
        #expect(parseWhole("PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello").last
            == .error(status: 400, details: "downstream_remote_disconnect"))
        #expect(parseWhole("GET / HTTP/1.1\r\nHost").last == .error(status: 400, details: "downstream_remote_disconnect"))
    }

    @Test func chunkedWithExtensionsAndTrailers() {
        let events = parseWhole(
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=value\r\nhello\r\n1 \r\n \r\n000a\r\n0123456789\r\n0\r\nX-Trailer: t\r\nX-Other: o\r\n\r\n")
        #expect(events.dropFirst() == [
            .body(Array("hello 0123456789".utf8)),
            .trailers("[X-Trailer: t, X-Other: o]"),
            .end,
        ])
    }

    @Test func chunkedBodySlicesAreNotCopied() throws {
        let input = slice("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        var parser = HTTP1Parser(kind: .request)
        var r = Recorder()
        #expect(try parser.parse(input, delegate: &r).stop == .messageComplete)
        #expect(r.bodySlices.map(\.count) == [3, 2])
        #expect(r.bodySlices.allSatisfy { $0.storage === input.storage })
    }

    @Test func chunkSizes() {
        let prefix = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        // 16 hex digits fit; Envoy accepts them. 17 do not.
        let huge = parseWhole(prefix + "ffffffffffffffff\r\nabc")
        #expect(huge.count == 3 && huge[1] == .body(Array("abc".utf8)))
        #expect(parseWhole(prefix + "fffffffffffffffff1\r\n").last == .error(status: 400, details: "http1.codec_error"))
        #expect(parseWhole(prefix + "00000000000000000005\r\nhello\r\n0\r\n\r\n").last == .end)
        for bad in ["zz\r\n", "-5\r\n", "0x5\r\n", " 5\r\n", "\r\n", "5\nhello", "5\rhello", "5 5\r\n", "5;a\nx", "5;a\rb\r\n"] {
            #expect(parseWhole(prefix + bad).last == .error(status: 400, details: "http1.codec_error"), "\(bad.debugDescription)")
        }
        // A lone LF after chunk data is accepted (as Envoy does); anything else is not.
        #expect(parseWhole(prefix + "5\r\nhello\n0\r\n\r\n").last == .end)
        #expect(parseWhole(prefix + "5\r\nhelloXX0\r\n\r\n").last == .error(status: 400, details: "http1.codec_error"))
        #expect(parseWhole(prefix + "5\r\nhello\rX").last == .error(status: 400, details: "http1.codec_error"))
        // The last chunk needs CRLF; the blank line after it may be a lone LF.
        #expect(parseWhole(prefix + "0\n\n").last == .error(status: 400, details: "http1.codec_error"))
        #expect(parseWhole(prefix + "0\r\n\n").last == .end)
    }

    @Test func trailersAreCheckedLikeHeaders() {
        let prefix = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        #expect(parseWhole(prefix + "X-T : 1\r\n\r\n").last == .error(status: 400, details: "http1.codec_error"))
        #expect(parseWhole(prefix + "XT\r\n\r\n").last == .error(status: 400, details: "http1.codec_error"))
        #expect(parseWhole(prefix + "X-T: 1\u{0}2\r\n\r\n").last == .error(status: 400, details: "http1.invalid_characters"))
        let many = (0...100).map { "t\($0): v\r\n" }.joined()
        #expect(parseWhole(prefix + many + "\r\n").last == .error(status: 431, details: "http1.too_many_headers"))
        #expect(parseWhole(prefix + "X-T: 1\n\r\n").dropFirst(1).first == .trailers("[X-T: 1]"))
    }

    @Test func pipelinedRequestsStopAtEachMessage() throws {
        let one = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
        let two = "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        let three = "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n"
        let input = slice(one + two + three)
        var parser = HTTP1Parser(kind: .request)
        var r = Recorder()
        var rest = input
        var consumed: [Int] = []
        while rest.count > 0 {
            let result = try parser.parse(rest, delegate: &r)
            #expect(result.stop == .messageComplete)
            consumed.append(result.consumed)
            rest = rest.dropFirst(result.consumed)
        }
        #expect(consumed == [one.utf8.count, two.utf8.count, three.utf8.count])
        #expect(r.requestHeads.map(\.targetString) == ["/1", "/2", "/3"])
        #expect(try parser.parse(slice(""), delegate: &r) == HTTP1ParseResult(consumed: 0, stop: .needMoreData))
    }

    @Test func nothingIsAcceptedAfterConnectionClose() throws {
        let input = slice("GET /1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
        var parser = HTTP1Parser(kind: .request)
        var r = Recorder()
        let first = try parser.parse(input, delegate: &r)
        #expect(first.stop == .messageComplete)
        #expect(r.requestHeads.first?.keepAlive == false)
        #expect(try parser.parse(input.dropFirst(first.consumed), delegate: &r) == HTTP1ParseResult(consumed: 0, stop: .closed))
        #expect(parser.isClosed)
        #expect(r.requestHeads.count == 1)
    }

    @Test func keepAliveRules() throws {
        func keepAlive(_ text: String) -> Bool? {
            var f = Feeder(kind: .request, configuration: Self.http10)
            _ = f.feed([slice(text)])
            return f.recorder.requestHeads.first?.keepAlive
        }
        #expect(keepAlive("GET / HTTP/1.1\r\nHost: h\r\n\r\n") == true)
        #expect(keepAlive("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n") == false)
        #expect(keepAlive("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n") == false)
        #expect(keepAlive("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n") == false)
        #expect(keepAlive("GET / HTTP/1.0\r\nHost: h\r\n\r\n") == false)
        #expect(keepAlive("GET / HTTP/1.0\r\nHost: h\r\nConnection: Keep-Alive\r\n\r\n") == true)
        #expect(keepAlive("GET / HTTP/1.0\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n") == false)
        // Envoy treats every version but 1.1 as 1.0.
        #expect(keepAlive("GET / HTTP/1.2\r\nHost: h\r\n\r\n") == false)
    }

    @Test func http10KeepAlivePipelining() {
        let events = parseWhole(
            "GET /1 HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\nHost: h\r\n\r\nGET /3 HTTP/1.0\r\nHost: h\r\n\r\n",
            configuration: Self.http10)
        #expect(events.filter { $0 == .end }.count == 2, "the second request closes the connection")
    }

    @Test func http10IsRefusedByDefault() {
        #expect(parseWhole("GET / HTTP/1.0\r\nHost: h\r\n\r\n").last == .error(status: 426, details: "low_version"))
        #expect(parseWhole("GET /\r\n\r\n").last == .error(status: 426, details: "low_version"))
        #expect(parseWhole("GET / HTTP/1.0\r\n\r\n", configuration: Self.http10).last
            == .error(status: 400, details: "missing_host_header"))
        var lenient = Self.http10
        lenient.allowMissingHostForHTTP10 = true
        #expect(parseWhole("GET / HTTP/1.0\r\n\r\n", configuration: lenient).last == .end)
        #expect(parseWhole("POST / HTTP/1.0\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                           configuration: Self.http10).dropFirst() == [.body(Array("abc".utf8)), .end])
    }

    @Test func expectContinue() {
        func expects(_ value: String) -> Bool? {
            var f = Feeder(kind: .request)
            _ = f.feed([slice("POST / HTTP/1.1\r\nHost: h\r\nExpect: \(value)\r\nContent-Length: 1\r\n\r\nx")])
            return f.recorder.requestHeads.first?.expectsContinue
        }
        #expect(expects("100-continue") == true)
        #expect(expects("100-Continue") == true)
        #expect(expects("foo") == false)
    }

    @Test func upgradeStopsAfterTheHead() throws {
        let input = slice("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 3\r\n\r\nabcTUNNEL")
        var parser = HTTP1Parser(kind: .request)
        var r = Recorder()
        let result = try parser.parse(input, delegate: &r)
        #expect(result.stop == .upgrade)
        #expect(input.dropFirst(result.consumed).bytes == Array("abcTUNNEL".utf8))
        let head = try #require(r.requestHeads.first)
        #expect(head.isUpgrade && head.framing == .tunnel)
        #expect(head.headers.firstString(name: "upgrade") == "websocket")
        #expect(try parser.parse(slice("more"), delegate: &r) == HTTP1ParseResult(consumed: 0, stop: .closed))
        #expect(r.events.count == 1, "no message end for a tunnel")
    }

    @Test func h2cUpgradeIsAPlainRequest() {
        let events = parseWhole("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAA\r\n\r\n")
        #expect(events.last == .end)
        #expect(parseWhole("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n").last == .end, "no Connection: upgrade")
    }

    @Test func connectOpensATunnel() throws {
        let events = parseWhole("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 0\r\n\r\n\u{16}\u{3}\u{1}")
        #expect(events.count == 2)
        #expect(events.last == .upgrade([0x16, 0x03, 0x01]))
        var f = Feeder(kind: .request)
        _ = f.feed([slice("CONNECT [::1]:8443 HTTP/1.1\r\n\r\n")])
        let head = try #require(f.recorder.requestHeads.first)
        #expect(head.method == .connect && head.framing == .tunnel)
        #expect(head.targetString == "[::1]:8443")
        var g = Feeder(kind: .request)
        _ = g.feed([slice("CONNECT h:443 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")])
        #expect(g.recorder.requestHeads.first?.headers == ["Host": "h"], "Envoy drops a zero Content-Length")
    }

    @Test func leadingEmptyLinesAreSkipped() {
        #expect(parseWhole("\r\n\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n").last == .end)
    }

    @Test func lenienciesEnvoyHas() {
        // Bare LF line ends, runs of whitespace in the request line, trailing whitespace.
        #expect(parseWhole("GET / HTTP/1.1\nHost: h\n\n").last == .end)
        #expect(parseWhole("GET / HTTP/1.1\r\nHost: h\nX-A: b\r\n\r\n").last == .end)
        #expect(parseWhole("GET  /\tHTTP/1.1 \r\nHost: h\r\n\r\n").last == .end)
        #expect(parseWhole("GET http://h/p HTTP/1.1\r\n\r\n").last == .end, "absolute-form stands in for Host")
        #expect(parseWhole("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").last == .end)
        #expect(parseWhole("GET / HTTP/1.1\r\nHost: h\r\nX_A: b\r\n\r\n").last == .end, "underscores are allowed")
        #expect(parseWhole("GET / HTTP/1.1\r\nHost:\r\n\r\n").last == .end, "empty Host")
        #expect(parseWhole("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{C3}\u{A9}\r\n\r\n").last == .end, "obs-text")
    }

    @Test func customMethods() {
        #expect(parseWhole("FOO / HTTP/1.1\r\nHost: h\r\n\r\n").last == .error(status: 400, details: "http1.codec_error"))
        var config = HTTP1Parser.Configuration.request
        config.allowCustomMethods = true
        var f = Feeder(kind: .request, configuration: config)
        _ = f.feed([slice("FOO / HTTP/1.1\r\nHost: h\r\n\r\n")])
        #expect(f.recorder.requestHeads.first?.method == HTTPMethod("FOO"))
        #expect(f.recorder.requestHeads.first?.method.isCustom == true)
        #expect(parseWhole("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", configuration: config).last
            == .error(status: 400, details: "http1.codec_error"))
    }

    @Test func allowChunkedLengthDropsContentLength() throws {
        var config = HTTP1Parser.Configuration.request
        config.allowChunkedLength = true
        var f = Feeder(kind: .request, configuration: config)
        let events = f.feed([slice("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n")])
        #expect(events.dropFirst() == [.body([0x61]), .end])
        let head = try #require(f.recorder.requestHeads.first)
        #expect(head.framing == .chunked)
        #expect(!head.headers.contains(name: "content-length"))
    }

    @Test func headSizeLimitCountsTheWholeHead() {
        // Envoy accepts a head of exactly 60 KiB including the blank line, and no more.
        func request(valueLength: Int) -> String {
            "GET / HTTP/1.1\r\nHost: x\r\nX-A: " + String(repeating: "a", count: valueLength) + "\r\n\r\n"
        }
        let fits = request(valueLength: 61406)
        #expect(fits.utf8.count == 61440)
        #expect(parseWhole(fits).last == .end)
        #expect(parseWhole(request(valueLength: 61407)).last == .error(status: 431, details: "http1.headers_too_large"))
        let longTarget = "GET /" + String(repeating: "a", count: 61414) + " HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(parseWhole(longTarget).last == .error(status: 431, details: "http1.headers_too_large"))
        // Configurable.
        let small = HTTP1Parser.Configuration(maxHeadBytes: 64)
        #expect(parseWhole(request(valueLength: 30), configuration: small).last == .end)
        #expect(parseWhole(request(valueLength: 31), configuration: small).last == .error(status: 431, details: "http1.headers_too_large"))
        // An endless head fails once past the limit, without waiting for its end.
        #expect(parseWhole("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 70_000)).last
            == .error(status: 431, details: "http1.headers_too_large"))
    }

    @Test func headerCountLimit() {
        func request(fields: Int) -> String {
            "GET / HTTP/1.1\r\nHost: x\r\n" + (0..<fields).map { "X-\($0): v\r\n" }.joined() + "\r\n"
        }
        #expect(parseWhole(request(fields: 99)).last == .end)
        #expect(parseWhole(request(fields: 100)).last == .error(status: 431, details: "http1.too_many_headers"))
        let ten = HTTP1Parser.Configuration(maxHeadBytes: 60 * 1024, maxHeaderCount: 10)
        #expect(parseWhole(request(fields: 9), configuration: ten).last == .end)
        #expect(parseWhole(request(fields: 10), configuration: ten).last == .error(status: 431, details: "http1.too_many_headers"))
    }

    @Test func errorsAreFinal() throws {
        var parser = HTTP1Parser(kind: .request)
        var r = Recorder()
        #expect(throws: HTTP1ParseError.invalidMethod) { try parser.parse(slice("get / HTTP/1.1\r\n\r\n"), delegate: &r) }
        #expect(throws: HTTP1ParseError.invalidMethod) { try parser.parse(slice("GET / HTTP/1.1\r\n\r\n"), delegate: &r) }
        #expect(throws: HTTP1ParseError.invalidMethod) { try parser.inputEnded() }
        #expect(parser.isClosed)
    }

    @Test func errorDescriptions() {
        let e = HTTP1ParseError.invalidTransferEncoding
        #expect(e.status == 501)
        #expect(e.details == "http1.invalid_transfer_encoding")
        #expect(e.description == "501 http1.invalid_transfer_encoding: Transfer-Encoding other than chunked")
        #expect(HTTP1ParseError.headersTooLarge.status == 431)
        #expect(HTTP1ParseError.unsupportedVersion.status == 426)
    }

    @Test func eventAPI() throws {
        let input = slice("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok")
        var parser = HTTP1Parser(kind: .request)
        var offset = 0
        guard case .requestHead(let head) = try parser.nextEvent(in: input, at: &offset) else {
            Issue.record("expected a head")
            return
        }
        #expect(head.framing == .contentLength(2))
        guard case .body(let body) = try parser.nextEvent(in: input, at: &offset) else {
            Issue.record("expected a body")
            return
        }
        #expect(body.bytes == Array("ok".utf8))
        guard case .messageComplete = try parser.nextEvent(in: input, at: &offset) else {
            Issue.record("expected the end")
            return
        }
        #expect(offset == input.count)
        guard case .needMoreData = try parser.nextEvent(in: input, at: &offset) else {
            Issue.record("expected needMoreData")
            return
        }
    }
}
