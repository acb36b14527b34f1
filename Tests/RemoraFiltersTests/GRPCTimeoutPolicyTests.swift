import Testing
@testable import RemoraConfig
@testable import RemoraFilters
import RemoraCore
import RemoraHTTP

/// The router's timeouts (`finalTimeout`/`setTimeoutHeaders`) and the
/// stream's duration (`refreshDurationTimeout`), with the values the
/// interop test checks against Envoy 1.40.
@Suite struct UpstreamTimeoutTests {
    let legacy = GRPCRouteTimeouts(maxGrpcTimeoutMilliseconds: 10_000, offsetMilliseconds: 100)

    func final(_ grpc: GRPCRouteTimeouts, timeout: UInt64 = 15_000, perTry: UInt64 = 0, isGRPC: Bool = true,
               header: UInt64?) -> UpstreamTimeout {
        UpstreamTimeout.final(routeTimeout: timeout, perTryTimeout: perTry, grpc: grpc, isGRPC: isGRPC, grpcTimeout: header)
    }

    @Test func maxGrpcTimeoutCapsAndOffsetsTheHeader() {
        #expect(final(legacy, header: 5_000).global == 4_900)
        #expect(final(legacy, header: 20_000).global == 10_000)
        #expect(final(legacy, header: nil).global == 10_000)
        // The offset applies only when it leaves something.
        #expect(final(legacy, header: 50).global == 50)
        #expect(final(legacy, header: 150).global == 50)
        #expect(final(legacy, header: 5_000).rewritesGRPCTimeout)
    }

    @Test func zeroMaxGrpcTimeoutMeansNoCap() {
        let uncapped = GRPCRouteTimeouts(maxGrpcTimeoutMilliseconds: 0)
        #expect(final(uncapped, header: 7_200_000).global == 7_200_000)
        #expect(final(uncapped, header: nil).global == 0)
        #expect(final(uncapped, header: nil).expected(elapsed: 0) == nil)
    }

    @Test func notGRPCOrNoMaxKeepsTheRouteTimeout() {
        let plain = final(legacy, timeout: 300, isGRPC: false, header: 5_000)
        #expect(plain.global == 300)
        #expect(!plain.rewritesGRPCTimeout)
        let noMax = final(GRPCRouteTimeouts(), timeout: 300, header: 5_000)
        #expect(noMax.global == 300)
        #expect(!noMax.rewritesGRPCTimeout)
    }

    /// A route with `max_stream_duration` has no router timeout: Envoy 1.40
    /// lets a 0.6 s answer through a route whose `timeout` is 0.3 s.
    @Test func streamDurationRoutesHaveNoRouterTimeout() {
        let t = final(GRPCRouteTimeouts(usesStreamDuration: true, maxGrpcTimeoutMilliseconds: 10_000), timeout: 300, header: 5_000)
        #expect(t.global == 0)
        #expect(!t.rewritesGRPCTimeout)
        #expect(t.expected(elapsed: 0) == nil)
    }

    @Test func expectedTimeoutOfEachAttempt() {
        let t = final(GRPCRouteTimeouts(), timeout: 1_000, perTry: 300, header: nil)
        #expect(t.perTry == 300)
        #expect(t.expected(elapsed: 0) == 300)
        #expect(t.expected(elapsed: 800) == 200)
        #expect(t.expected(elapsed: 1_000) == 1)
        // A per-try timeout not below the global one is dropped.
        #expect(final(GRPCRouteTimeouts(), timeout: 1_000, perTry: 1_000, header: nil).perTry == 0)
        #expect(final(GRPCRouteTimeouts(), timeout: 0, perTry: 300, header: nil).expected(elapsed: 5_000) == 300)
    }
}

@Suite struct StreamDurationTests {
    let route = GRPCRouteTimeouts(usesStreamDuration: true, headerMaxMilliseconds: 10_000, headerOffsetMilliseconds: 50)

    func decide(_ grpc: GRPCRouteTimeouts, route max: UInt64? = 3_000, hcm: UInt64? = nil, header: UInt64?,
                isGRPC: Bool = true, timer: Bool = false) -> StreamDuration {
        StreamDuration.decide(routeMaxStreamDuration: max, grpc: grpc, connectionManagerMax: hcm, grpcTimeout: header,
                              isGRPC: isGRPC, timerRunning: timer)
    }

    @Test func grpcTimeoutCappedThenOffset() {
        #expect(decide(route, header: 5_000) == .limited(milliseconds: 4_950, grpcTimeout: "4950m"))
        #expect(decide(route, header: 200) == .limited(milliseconds: 150, grpcTimeout: "150m"))
        #expect(decide(route, header: 60_000) == .limited(milliseconds: 9_950, grpcTimeout: "9950m"))
        // An offset that uses it all ends the stream at once.
        #expect(decide(route, header: 40) == .limited(milliseconds: 0, grpcTimeout: "0m"))
        #expect(decide(route, header: 0) == .limited(milliseconds: 0, grpcTimeout: "0m"))
        // No header: the route's max_stream_duration, written as grpc-timeout.
        #expect(decide(route, header: nil) == .limited(milliseconds: 3_000, grpcTimeout: "3000m"))
    }

    @Test func headerIgnoredWithoutHeaderMax() {
        let noMax = GRPCRouteTimeouts(usesStreamDuration: true)
        #expect(decide(noMax, route: 400, header: 100) == .limited(milliseconds: 400, grpcTimeout: "400m"))
        let uncapped = GRPCRouteTimeouts(usesStreamDuration: true, headerMaxMilliseconds: 0)
        #expect(decide(uncapped, header: 60_000) == .limited(milliseconds: 60_000, grpcTimeout: "60000m"))
    }

    /// The header bounds any request; only gRPC requests get it rewritten.
    @Test func nonGRPCRequestsKeepTheirHeader() {
        #expect(decide(route, header: 200, isGRPC: false) == .limited(milliseconds: 150, grpcTimeout: nil))
        #expect(decide(route, route: 400, header: nil, isGRPC: false) == .limited(milliseconds: 400, grpcTimeout: nil))
    }

    @Test func fallsBackToTheConnectionManager() {
        let none = GRPCRouteTimeouts()
        #expect(decide(none, route: nil, hcm: 2_000, header: nil) == .limited(milliseconds: 2_000, grpcTimeout: nil))
        #expect(decide(none, route: nil, header: nil) == .unlimited(removeGRPCTimeout: false))
        // An empty max_stream_duration message switches schemes but sets no limit of its own.
        let empty = GRPCRouteTimeouts(usesStreamDuration: true)
        #expect(decide(empty, route: nil, hcm: 2_000, header: 100) == .limited(milliseconds: 2_000, grpcTimeout: "2000m"))
    }

    @Test func zeroDisablesAndDropsTheHeaderOnlyWithATimer() {
        let grpc = GRPCRouteTimeouts(usesStreamDuration: true)
        #expect(decide(grpc, route: 0, hcm: 2_000, header: 100, timer: true) == .unlimited(removeGRPCTimeout: true))
        #expect(decide(grpc, route: 0, header: 100, timer: false) == .unlimited(removeGRPCTimeout: false))
        #expect(decide(grpc, route: 0, header: 100, isGRPC: false, timer: true) == .unlimited(removeGRPCTimeout: false))
    }
}

@Suite struct GRPCLocalReplyTests {
    func pairs(_ h: HTTPHeaders) -> [String] { h.map { "\($0.nameString): \($0.valueString)" } }

    @Test func mapsTheStatusAndEncodesTheMessage() {
        var h = HTTPHeaders()
        GRPCLocalReply.rewrite(&h, httpStatus: 503, grpcStatus: nil, body: Array("no healthy upstream".utf8), isHeadRequest: false)
        #expect(pairs(h) == ["content-type: application/grpc", "grpc-status: 14", "grpc-message: no healthy upstream"])

        var direct = HTTPHeaders([("location", "http://example.com/x"), ("content-type", "text/html"), ("content-length", "3")])
        GRPCLocalReply.rewrite(&direct, httpStatus: 302, grpcStatus: nil, body: Array("café\n".utf8), isHeadRequest: false)
        #expect(pairs(direct) == ["location: http://example.com/x", "content-type: application/grpc", "grpc-status: 2",
                                  "grpc-message: caf%C3%A9"])
    }

    @Test func explicitStatusEmptyBodyAndHead() {
        var h = HTTPHeaders()
        GRPCLocalReply.rewrite(&h, httpStatus: 504, grpcStatus: .deadlineExceeded, body: [], isHeadRequest: false)
        #expect(pairs(h) == ["content-type: application/grpc", "grpc-status: 4"])
        var head = HTTPHeaders([("grpc-status", "9")])
        GRPCLocalReply.rewrite(&head, httpStatus: 404, grpcStatus: nil, body: Array("x".utf8), isHeadRequest: true)
        #expect(pairs(head) == ["grpc-status: 9", "content-type: application/grpc"])
    }
}

@Suite struct RetryOnGRPCTests {
    func retries(_ on: String, _ status: String?) -> Bool {
        var h = HTTPHeaders([("content-type", "application/grpc")])
        if let status { h.add(name: "grpc-status", value: status) }
        return RetryOn.parse(on).retriesGRPC(h)
    }

    @Test func eachConditionNamesItsStatus() {
        #expect(retries("cancelled", "1"))
        #expect(retries("deadline-exceeded", "4"))
        #expect(retries("resource-exhausted", "8"))
        #expect(retries("internal", "13"))
        #expect(retries("unavailable", "14"))
        #expect(!retries("unavailable", "4"))
        #expect(!retries("5xx,reset", "14"))
        #expect(!retries("unavailable", nil))
        #expect(!retries("unavailable", "abc"))
        #expect(retries("cancelled, unavailable", "14"))
    }
}

@Suite struct RetryHeadersTests {
    func effective(_ route: RetryPolicy?, _ fields: [(String, String)]) -> (RetryPolicy?, HTTPHeaders) {
        var h = HTTPHeaders([("content-type", "application/grpc")] + fields)
        let policy = RetryPolicy.effective(route: route, requestHeaders: &h)
        return (policy, h)
    }

    @Test func headersAskForRetriesWithEnvoysDefaults() {
        let (policy, rest) = effective(nil, [("x-envoy-retry-grpc-on", "unavailable, bogus"), ("x-envoy-retry-on", "unavailable")])
        #expect(policy?.retryOn == [.grpcUnavailable])
        #expect(policy?.numRetries == 1)
        #expect(policy?.backOffBaseMilliseconds == 25 && policy?.backOffMaxMilliseconds == 250)
        #expect(rest.map { $0.nameString } == ["content-type"])
    }

    @Test func mergedIntoTheRoutesPolicy() {
        var route = RetryPolicy.unconfigured
        route.retryOn = [.fiveXX]
        route.numRetries = 2
        let (policy, _) = effective(route, [("x-envoy-retry-grpc-on", "cancelled"), ("x-envoy-retry-on", "reset,cancelled")])
        #expect(policy?.retryOn == [.fiveXX, .reset, .grpcCancelled])
        #expect(policy?.numRetries == 2)
        #expect(effective(route, [("x-envoy-max-retries", "5")]).0?.numRetries == 5)
        #expect(effective(route, [("x-envoy-max-retries", "x")]).0?.numRetries == 2)
    }

    @Test func maxRetriesAloneNeedsSomeCondition() {
        let (policy, rest) = effective(nil, [("x-envoy-max-retries", "3")])
        #expect(policy == nil)
        #expect(!rest.contains(name: "x-envoy-max-retries"))
        #expect(effective(nil, []).0 == nil)
    }
}
