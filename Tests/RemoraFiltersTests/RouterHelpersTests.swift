import Testing
@testable import RemoraConfig
@testable import RemoraFilters
import RemoraCore
import RemoraHTTP

@Suite struct HeaderMutatorTests {
    func names(_ h: HTTPHeaders) -> [String] { h.map { $0.nameString } }
    func pairs(_ h: HTTPHeaders) -> [String] { h.map { "\($0.nameString)=\($0.valueString)" } }

    func addition(_ name: String, _ value: String, _ action: HeaderAppendAction) -> HeaderAddition {
        HeaderAddition(name: name, value: .literal(value), action: action, keepEmptyValue: false)
    }

    /// Envoy's evaluateHeaders: removals, then overwrites (remove + append),
    /// then additions; ADD_IF_ABSENT is judged against the headers before this level.
    @Test func overwritesComeBeforeAdditionsWithinALevel() {
        var h = HTTPHeaders([("x-add", "client"), ("x-over", "client"), ("x-absent", "client"), ("x-drop", "1")])
        let level = HeaderMutation(remove: ["x-drop"], add: [
            addition("x-add", "route", .appendIfExistsOrAdd),
            addition("x-over", "route", .overwriteIfExistsOrAdd),
            addition("x-absent", "route", .addIfAbsent),
            addition("x-new", "route", .addIfAbsent),
            addition("x-missing", "route", .overwriteIfExists),
        ])
        HeaderMutator.apply([level], to: &h) { _ in nil }
        #expect(pairs(h) == ["x-add=client", "x-absent=client", "x-over=route", "x-add=route", "x-new=route"])
    }

    @Test func emptyValuesAreSkippedUnlessKept() {
        var h = HTTPHeaders()
        let template = HeaderValueTemplate(segments: [.variable(.requestHeader(name: "x-nope", alternative: nil, maxLength: nil))])
        let level = HeaderMutation(add: [
            HeaderAddition(name: "x-a", value: template, action: .appendIfExistsOrAdd, keepEmptyValue: false),
            HeaderAddition(name: "x-b", value: template, action: .appendIfExistsOrAdd, keepEmptyValue: true),
        ])
        HeaderMutator.apply([level], to: &h) { _ in nil }
        #expect(pairs(h) == ["x-b="])
    }

    @Test func variablesResolveFromTheStream() {
        let info = StreamInfo(startMilliseconds: 0, downstreamRemoteAddress: .v4(0x7f00_0001, port: 4242),
                              downstreamLocalAddress: .v4(0x7f00_0001, port: 80))
        let request = HTTPRequestMessage(method: .get, path: "/p", authority: "a.example", scheme: "http", version: .http1_1,
                                         headers: HTTPHeaders([("x-src", "one"), ("x-src", "two")]))
        func value(_ v: FormatVariable) -> String? {
            HeaderMutator.resolve(v, info: info, request: request, response: nil, routeName: "r")
        }
        #expect(value(.downstreamRemoteAddress) == "127.0.0.1:4242")
        #expect(value(.downstreamRemoteAddressWithoutPort) == "127.0.0.1")
        #expect(value(.requestHeader(name: "x-src", alternative: nil, maxLength: nil)) == "one,two")
        #expect(value(.requestHeader(name: ":authority", alternative: nil, maxLength: nil)) == "a.example")
        #expect(value(.requestHeader(name: "x-nope", alternative: "x-src", maxLength: nil)) == "one,two")
        #expect(value(.protocol) == "HTTP/1.1")
    }
}

@Suite struct RouterHelpersTests {
    @Test func shadowHostSuffixGoesBeforeThePort() {
        #expect(Router.shadowHost("foo.example") == "foo.example-shadow")
        #expect(Router.shadowHost("foo.example:8080") == "foo.example-shadow:8080")
    }

    @Test func imfFixdate() {
        #expect(DateHeader.format(epochSeconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(DateHeader.format(epochSeconds: 1_796_000_000) == "Mon, 30 Nov 2026 00:53:20 GMT")
    }

    @Test func cidrContainment() throws {
        let net = try #require(CIDRRange("10.1.0.0", prefixLength: 16))
        #expect(net.contains(.v4(0x0A01_FFFF, port: 1)))
        #expect(!net.contains(.v4(0x0A02_0000, port: 1)))
        let v6 = try #require(CIDRRange("fd00::", prefixLength: 8))
        #expect(v6.contains(SocketAddress.ip("fd12::1", port: 0)!))
        #expect(!v6.contains(SocketAddress.ip("fe80::1", port: 0)!))
    }

    @Test func responseFlagsPrintAsEnvoy() {
        #expect(ResponseFlag([]).shortString == "-")
        #expect(ResponseFlag([.noRouteFound]).shortString == "NR")
        #expect(ResponseFlag([.upstreamConnectionFailure, .upstreamRetryLimitExceeded]).shortString == "UF,URX")
    }
}
