import RemoraCore
import Testing
@testable import RemoraHTTP

@Suite("HTTP1Parser: responses")
struct HTTP1ParserResponseTests {
    func response(_ text: String, to methods: [HTTPMethod] = [.get]) -> [ParsedEvent] {
        parseWhole(text, kind: .response, requestMethods: methods)
    }

    @Test func simpleResponse() throws {
        var f = Feeder(kind: .response, requestMethods: [.get])
        let events = f.feed([slice("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\nok")])
        #expect(events.dropFirst() == [.body(Array("ok".utf8)), .end])
        let head = try #require(f.recorder.responseHeads.first)
        #expect(head.status == 200)
        #expect(head.reason.bytes == Array("OK".utf8))
        #expect(head.keepAlive && head.framing == .contentLength(2))
        #expect(head.headers == ["Content-Length": "2", "X-A": "b"])
    }

    @Test func statusLineVariants() throws {
        #expect(response("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").last == .end)
        #expect(response("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").last == .end)
        #expect(response("HTTP/1.1 599 Whatever You Like\r\nContent-Length: 0\r\n\r\n").last == .end)
        #expect(response("HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n").last == .end)
        for bad in ["HTTP/1.1 20 OK", "HTTP/1.1 abc OK", "HTTP/1.1 099 OK", "HTTP/1.x 200 OK", "http/1.1 200 OK",
                    "garbage", "HTTP/1.1 2000 OK"] {
            #expect(response(bad + "\r\nContent-Length: 0\r\n\r\n").last == .error(status: 502, details: "http1.codec_error"), "\(bad)")
        }
        #expect(response("HTTP/1.1 200 O\u{1}K\r\n\r\n").last == .error(status: 502, details: "http1.invalid_characters"))
    }

    @Test func responsesWithoutBodies() {
        #expect(response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", to: [.head]).last == .end)
        #expect(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", to: [.head]).last == .end)
        #expect(response("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n").last == .end)
        #expect(response("HTTP/1.1 204 No Content\r\n\r\n").last == .end)
        #expect(response("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n").count == 2)
        #expect(response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").count == 2)
    }

    @Test func strict1xxAnd204() throws {
        #expect(response("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n").last
            == .error(status: 502, details: "http1.content_length_not_allowed"))
        #expect(response("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n").last
            == .error(status: 502, details: "http1.transfer_encoding_not_allowed"))
        #expect(response("HTTP/1.1 100 Continue\r\nContent-Length: 1\r\n\r\n").last
            == .error(status: 502, details: "http1.content_length_not_allowed"))
        var f = Feeder(kind: .response, requestMethods: [.get])
        _ = f.feed([slice("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nX: y\r\n\r\n")])
        #expect(f.recorder.responseHeads.first?.headers == ["X": "y"], "Envoy drops a zero Content-Length from a 204")
    }

    @Test func informationalThenFinal() throws {
        var f = Feeder(kind: .response, requestMethods: [.post])
        let events = f.feed([slice(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")])
        #expect(events.count == 5)
        #expect(f.recorder.responseHeads.map(\.status) == [100, 103, 200])
        #expect(f.recorder.responseHeads.map(\.isInformational) == [true, true, false])
        #expect(events.suffix(2) == [.body(Array("ok".utf8)), .end])
    }

    @Test func switchingProtocolsIsATunnel() {
        let bytes = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".utf8) + [0x81, 0x00]
        let events = parseWhole(bytes, kind: .response, requestMethods: [.get])
        #expect(events.count == 2)
        #expect(events.last == .upgrade([0x81, 0x00]))
    }

    @Test func connectSuccessIsATunnel() {
        #expect(response("HTTP/1.1 200 Connection established\r\n\r\ntunnel", to: [.connect]).last == .upgrade(Array("tunnel".utf8)))
        #expect(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", to: [.connect]).last
            == .error(status: 502, details: "http1.invalid_transfer_encoding"))
        // A refused CONNECT is an ordinary response.
        #expect(response("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno", to: [.connect]).suffix(2)
            == [.body(Array("no".utf8)), .end])
    }

    /// Requests and responses share one Transfer-Encoding / Content-Length
    /// reconciliation; these pin its response side and the tunnel rule.
    @Test func framingRulesAreTheRequestsRules() throws {
        let both = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
        #expect(response(both).last == .error(status: 502, details: "http1.content_length_and_chunked_not_allowed"))
        #expect(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").last
            == .error(status: 502, details: "http1.invalid_transfer_encoding"))
        #expect(response("HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\n").last
            == .error(status: 502, details: "http1.codec_error"))

        var config = HTTP1Parser.Configuration.response
        config.allowChunkedLength = true
        var f = Feeder(kind: .response, configuration: config, requestMethods: [.get])
        #expect(f.feed([slice(both)]).dropFirst() == [.body(Array("ok".utf8)), .end])
        let head = try #require(f.recorder.responseHeads.first)
        #expect(head.framing == .chunked)
        #expect(!head.headers.contains(name: "content-length"))

        // A tunnel never takes Transfer-Encoding, allow_chunked_length or not:
        // neither a CONNECT nor its 2xx.
        var tunnel = Feeder(kind: .response, configuration: config, requestMethods: [.connect])
        #expect(tunnel.feed([slice(both)]).last == .error(status: 502, details: "http1.invalid_transfer_encoding"))
        var requestConfig = HTTP1Parser.Configuration.request
        requestConfig.allowChunkedLength = true
        #expect(parseWhole("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nTransfer-Encoding: chunked\r\n\r\n",
                           configuration: requestConfig).last == .error(status: 501, details: "http1.invalid_transfer_encoding"))
    }

    @Test func readUntilClose() throws {
        var f = Feeder(kind: .response, requestMethods: [.get])
        let events = f.feed([slice("HTTP/1.0 200 OK\r\n\r\nhello "), slice("world")])
        #expect(events.dropFirst() == [.body(Array("hello world".utf8)), .end])
        #expect(f.recorder.responseHeads.first?.framing == .untilClose)
        #expect(f.recorder.responseHeads.first?.keepAlive == false)
        #expect(response("HTTP/1.1 200 OK\r\n\r\nbody").suffix(2) == [.body(Array("body".utf8)), .end])
    }

    @Test func prematureCloseIs503() {
        #expect(response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").last
            == .error(status: 503, details: "upstream_reset_before_response_started{connection_termination}"))
        #expect(response("HTTP/1.1 200 O").last
            == .error(status: 503, details: "upstream_reset_before_response_started{connection_termination}"))
        #expect(response("").isEmpty, "a close between responses is clean")
    }

    @Test func chunkedResponseWithTrailers() {
        #expect(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nGrpc-Status: 0\r\n\r\n").dropFirst() == [
            .body(Array("ok".utf8)), .trailers("[Grpc-Status: 0]"), .end,
        ])
        #expect(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").last == .error(status: 502, details: "http1.codec_error"))
    }

    @Test func framingErrorsAre502() {
        let cases: [(String, String)] = [
            ("Content-Length: 2\r\nTransfer-Encoding: chunked", "http1.content_length_and_chunked_not_allowed"),
            ("Transfer-Encoding: gzip", "http1.invalid_transfer_encoding"),
            ("Transfer-Encoding: gzip, chunked", "http1.invalid_transfer_encoding"),
            ("Content-Length: 2\r\nContent-Length: 2", "http1.codec_error"),
            ("Content-Length: 2\r\nContent-Length: 3", "http1.codec_error"),
            ("Content-Length: x2", "http1.codec_error"),
            ("X-A: a\u{0}b", "http1.invalid_characters"),
            ("X-A : b", "http1.codec_error"),
            ("X-A: a\r\n b", "http1.codec_error"),
            ("X-A: a\rb", "http1.invalid_characters"),
        ]
        for (fields, details) in cases {
            #expect(response("HTTP/1.1 200 OK\r\n\(fields)\r\n\r\nok").last == .error(status: 502, details: details), "\(fields)")
        }
    }

    @Test func responseLimits() {
        let many = "HTTP/1.1 200 OK\r\n" + (0..<100).map { "X-\($0): v\r\n" }.joined() + "Content-Length: 0\r\n\r\n"
        #expect(response(many).last == .error(status: 502, details: "http1.too_many_headers"))
        let hundred = "HTTP/1.1 200 OK\r\n" + (0..<99).map { "X-\($0): v\r\n" }.joined() + "Content-Length: 0\r\n\r\n"
        #expect(response(hundred).last == .end)
        // 80 KiB for responses.
        func big(_ n: Int) -> String { "HTTP/1.1 200 OK\r\nX-A: " + String(repeating: "a", count: n) + "\r\nContent-Length: 0\r\n\r\n" }
        #expect(big(81875).utf8.count == 81920)
        #expect(response(big(81875)).last == .end)
        #expect(response(big(81876)).last == .error(status: 502, details: "http1.headers_too_large"))
    }

    @Test func keepAlive() throws {
        func keepAlive(_ text: String) -> Bool? {
            var f = Feeder(kind: .response, requestMethods: [.get])
            _ = f.feed([slice(text)])
            return f.recorder.responseHeads.last?.keepAlive
        }
        #expect(keepAlive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") == true)
        #expect(keepAlive("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n") == false)
        #expect(keepAlive("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n") == false)
        #expect(keepAlive("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n") == true)
    }

    @Test func pipelinedResponsesFollowTheirRequests() {
        let events = parseWhole(
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
            kind: .response, requestMethods: [.head, .get])
        #expect(events.filter { $0 == .end }.count == 2)
        #expect(events[3] == .body([0x78]))
    }

    @Test func firstByteMustStartAResponse() throws {
        var parser = HTTP1Parser(kind: .response)
        var r = Recorder()
        #expect(throws: HTTP1ParseError.invalidStartLine) { try parser.parse(slice("X"), delegate: &r) }
    }
}
