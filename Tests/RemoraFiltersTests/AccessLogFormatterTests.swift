import Testing
import RemoraConfig
import RemoraCore
import RemoraHTTP
@testable import RemoraFilters

/// Rendering without sockets: text and JSON lines from a made-up stream.
@Suite struct AccessLogFormatterTests {
    func info() -> StreamInfo {
        let info = StreamInfo(startMilliseconds: 1000, downstreamRemoteAddress: SocketAddress.ip("10.0.0.1", port: 5555),
                              downstreamLocalAddress: SocketAddress.ip("::1", port: 80))
        info.startWallSeconds = 1_796_577_172  // 2026-12-06T17:12:52Z
        info.startWallNanoseconds = 426_334_000
        info.responseCode = 503
        info.responseFlags = [.upstreamConnectionFailure, .upstreamRetryLimitExceeded]
        info.bytesSent = 98
        info.protocolName = "HTTP/1.1"
        info.upstreamTransportFailureReason = "delayed connect error: Connection refused"
        return info
    }

    func request() -> HTTPRequestMessage {
        HTTPRequestMessage(method: .get, path: "/a?b", authority: "example.com", scheme: "http", version: .http1_1,
                           headers: HTTPHeaders([("x-q", "say \"hi\"\n")]))
    }

    func render(_ format: AccessLogFormat) -> String {
        var out: [UInt8] = []
        AccessLogFormatter(format: format).render(
            AccessLogInput(info: info(), request: request(), responseHeaders: HTTPHeaders([("x-r", "1")]),
                           responseTrailers: nil, endMilliseconds: 1042), into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func text(_ s: String, omitEmpty: Bool = false) throws -> String {
        render(AccessLogFormat(body: .text(try AccessLogFormat.parseText(s)), omitEmptyValues: omitEmpty))
    }

    @Test func textOperators() throws {
        #expect(try text("[%START_TIME%] %REQ(:METHOD)% %REQ(:PATH):2% %PROTOCOL% %RESPONSE_CODE% %RESPONSE_FLAGS% %DURATION%")
            == "[2026-12-06T17:12:52.426Z] GET /a HTTP/1.1 503 UF,URX 42")
        #expect(try text("%START_TIME(%Y/%f/%3f/%s/%6f)%") == "2026/426334000/426/1796577172/426334")
        #expect(try text("%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %DOWNSTREAM_LOCAL_ADDRESS%")
            == "10.0.0.1:5555 10.0.0.1 [::1]:80")
        #expect(try text("%UPSTREAM_TRANSPORT_FAILURE_REASON% %UPSTREAM_HOST% %RESP(x-r)% %TRAILER(x-t)% %RESPONSE_FLAGS_LONG%")
            == "delayed_connect_error:_Connection_refused - 1 - UpstreamConnectionFailure,UpstreamRetryLimitExceeded")
        #expect(try text("[%UPSTREAM_HOST%]", omitEmpty: true) == "[]")
    }

    @Test func jsonTypesAndEscapes() throws {
        let format = AccessLogFormat(body: .json([
            ("code", .text(try AccessLogFormat.parseText("%RESPONSE_CODE%"))),
            ("mixed", .text(try AccessLogFormat.parseText("c=%RESPONSE_CODE% %UPSTREAM_HOST%"))),
            ("none", .text(try AccessLogFormat.parseText("%UPSTREAM_HOST%"))),
            ("obj", .object([("n", .number(5)), ("t", .bool(true)), ("z", .null)])),
            ("q", .text(try AccessLogFormat.parseText("%REQ(x-q)%"))),
        ]))
        #expect(render(format) == #"{"code":503,"mixed":"c=503 -","none":null,"obj":{"n":5,"t":true,"z":null},"q":"say \"hi\"\n"}"# + "\n")
        let omitting = AccessLogFormat(body: format.body, omitEmptyValues: true)
        #expect(!render(omitting).contains("none"))
    }

    @Test func filters() {
        let input = AccessLogInput(info: info(), request: nil, responseHeaders: nil, responseTrailers: nil, endMilliseconds: 1042)
        #expect(AccessLogSet.Filter(.statusCode(.atLeast(500))).matches(input))
        #expect(!AccessLogSet.Filter(.statusCode(.equal(200))).matches(input))
        #expect(AccessLogSet.Filter(.duration(.atMost(42))).matches(input))
        #expect(AccessLogSet.Filter(.responseFlags(["NR", "UF"])).matches(input))
        #expect(!AccessLogSet.Filter(.responseFlags(["NR"])).matches(input))
        #expect(AccessLogSet.Filter(.responseFlags([])).matches(input))
        #expect(AccessLogSet.Filter(.or([.responseFlags(["NR"]), .notHealthCheck])).matches(input))
        #expect(!AccessLogSet.Filter(.and([.responseFlags(["NR"]), .notHealthCheck])).matches(input))
    }
}
