import Foundation
import Testing
@testable import RemoraConfig
import RemoraAPI

@Suite struct HeaderMutationTests {
    static let layered = """
    request_headers_to_add: [{header: {key: x-level, value: global}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}]
    request_headers_to_remove: [x-global-remove]
    response_headers_to_add: [{header: {key: x-resp, value: global}}]
    virtual_hosts:
    - name: vh
      domains: ["*"]
      request_headers_to_add: [{header: {key: x-level, value: vhost}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}]
      routes:
      - match: {prefix: /}
        route: {cluster: c}
        request_headers_to_add:
        - {header: {key: X-Level, value: route}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
        - {header: {key: x-append, value: a}, append: true}
        - {header: {key: x-replace, value: r}, append: false}
        - {header: {key: x-absent, value: b}, append_action: ADD_IF_ABSENT}
        - {header: {key: x-exists, value: c}, append_action: OVERWRITE_IF_EXISTS, keep_empty_value: true}
        - {header: {key: x-default, value: d}}
        request_headers_to_remove: [X-Remove-Me]
    """

    /// The values of `x-level` in application order.
    static func levels(_ mutations: [HeaderMutation]) -> [String] {
        mutations.flatMap { $0.add.filter { $0.name == "x-level" }.compactMap(\.value.constant) }
    }

    @Test func mostSpecificFirstByDefault() throws {
        let table = try routeTable(Self.layered)
        let matched = try #require(table.route(for: get("/"), randomValue: 0))
        // Route, then virtual host, then route configuration: the last applied (global) wins.
        #expect(Self.levels(matched.requestHeaderMutations) == ["route", "vhost", "global"])
        #expect(matched.requestHeaderMutations.last?.remove == ["x-global-remove"])
        #expect(matched.responseHeaderMutations.count == 1)
    }

    @Test func mostSpecificWinsReversesTheOrder() throws {
        let table = try routeTable("most_specific_header_mutations_wins: true\n" + Self.layered)
        let matched = try #require(table.route(for: get("/"), randomValue: 0))
        #expect(Self.levels(matched.requestHeaderMutations) == ["global", "vhost", "route"])
    }

    @Test func appendActions() throws {
        let table = try routeTable(Self.layered)
        let route = try #require(table.route(for: get("/"), randomValue: 0)).requestHeaderMutations[0]
        let actions = Dictionary(uniqueKeysWithValues: route.add.map { ($0.name, $0.action) })
        #expect(actions["x-level"] == .overwriteIfExistsOrAdd)
        #expect(actions["x-append"] == .appendIfExistsOrAdd)
        #expect(actions["x-replace"] == .overwriteIfExistsOrAdd)
        #expect(actions["x-absent"] == .addIfAbsent)
        #expect(actions["x-exists"] == .overwriteIfExists)
        #expect(actions["x-default"] == .appendIfExistsOrAdd)
        #expect(route.add.first { $0.name == "x-exists" }?.keepEmptyValue == true)
        #expect(route.remove == ["x-remove-me"])
    }

    @Test func errorsAsEnvoyGivesThem() {
        func err(_ add: String) -> ConfigError? {
            routeError(singleHost("  - {match: {prefix: /}, route: {cluster: c}, request_headers_to_add: [\(add)]}"))
        }
        let both = err("{header: {key: a, value: b}, append: true, append_action: ADD_IF_ABSENT}")
        #expect(both?.reason == "Both append and append_action are set and it's not allowed")
        #expect(both?.path == "virtual_hosts[0].routes[0].request_headers_to_add[0].append")
        #expect(err("{header: {key: ':path', value: /x}}")?.reason == ":-prefixed or host headers may not be modified")
        #expect(err("{header: {key: Host, value: x}}")?.path == "virtual_hosts[0].routes[0].request_headers_to_add[0].header.key")
        #expect(err("{header: {key: '', value: x}}")?.path == "virtual_hosts[0].routes[0].request_headers_to_add[0].header.key")
        #expect(err("{}")?.path == "virtual_hosts[0].routes[0].request_headers_to_add[0].header")
        #expect(err("{header: {key: a, raw_value: eA==}}")?.isUnsupported == true)
        let remove = routeError(singleHost("  - {match: {prefix: /}, route: {cluster: c}, response_headers_to_remove: [':status']}"))
        #expect(remove?.description == "virtual_hosts[0].routes[0].response_headers_to_remove[0]: :-prefixed or host headers may not be removed")
    }

    @Test func weightedEntryMutationsComeFirst() throws {
        let table = try routeTable("""
        response_headers_to_add: [{header: {key: x-g, value: g}}]
        virtual_hosts:
        - name: vh
          domains: ["*"]
          routes:
          - match: {prefix: /}
            route:
              weighted_clusters:
                clusters: [{name: a, weight: 1, response_headers_to_add: [{header: {key: x-w, value: w}}]}]
            response_headers_to_add: [{header: {key: x-r, value: r}}]
        """)
        let matched = try #require(table.route(for: get("/"), randomValue: 0))
        #expect(matched.responseHeaderMutations.map { $0.add[0].name } == ["x-w", "x-r", "x-g"])
    }
}

@Suite struct HeaderValueTemplateTests {
    func parse(_ text: String) throws -> HeaderValueTemplate {
        try HeaderValueTemplate.parse(text, at: "v")
    }

    func error(_ text: String) -> ConfigError? {
        do {
            _ = try HeaderValueTemplate.parse(text, at: "v")
            return nil
        } catch {
            return error
        }
    }

    @Test func literalsAndVariables() throws {
        #expect(try parse("plain").constant == "plain")
        #expect(try parse("").constant == "")
        #expect(try parse("100%% sure").constant == "100% sure")
        let t = try parse("client=%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%;proto=%PROTOCOL%")
        #expect(t.constant == nil)
        #expect(t.segments == [
            .literal("client="), .variable(.downstreamRemoteAddressWithoutPort), .literal(";proto="), .variable(.protocol),
        ])
        #expect(try parse("%DOWNSTREAM_REMOTE_ADDRESS%").segments == [.variable(.downstreamRemoteAddress)])
        #expect(try parse("%DOWNSTREAM_LOCAL_ADDRESS%").segments == [.variable(.downstreamLocalAddress)])
        #expect(try parse("%UPSTREAM_REMOTE_ADDRESS%").segments == [.variable(.upstreamRemoteAddress)])
        #expect(try parse("%START_TIME%").segments == [.variable(.startTime(format: nil))])
        #expect(try parse("%START_TIME(%s.%3f)%").segments == [.variable(.startTime(format: "%s.%3f"))])
    }

    @Test func requestHeaders() throws {
        #expect(try parse("%REQ(X-Request-Id)%").segments == [.variable(.requestHeader(name: "x-request-id", alternative: nil, maxLength: nil))])
        #expect(try parse("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH):10%").segments
            == [.variable(.requestHeader(name: "x-envoy-original-path", alternative: ":path", maxLength: 10))])
        let t = try parse("[%REQ(x-a):3%]")
        #expect(t.render { _ in "abcdef" } == "[abc]")
        #expect(t.render { _ in nil } == "[]")
    }

    @Test func processConstantsResolveAtCompileTime() throws {
        let host = try parse("%HOSTNAME%")
        #expect(host.constant != nil)
        #expect(host.constant?.isEmpty == false)
        #expect(try parse("%ENVIRONMENT(REMORA_SURELY_UNSET_VARIABLE)%").constant == "")
        setenv("REMORA_TEST_ENV", "value123", 1)
        #expect(try parse("<%ENVIRONMENT(REMORA_TEST_ENV):5%>").constant == "<value>")
    }

    @Test func errors() {
        #expect(error("%NOPE%")?.reason == "Not supported field in StreamInfo: NOPE")
        #expect(error("50%")?.reason == "Incorrect configuration: 50%. Couldn't find valid command at position 2")
        #expect(error("%req(x)%")?.reason == "Incorrect configuration: %req(x)%. Couldn't find valid command at position 0")
        #expect(error("a %REQ(x)")?.reason == "Incorrect configuration: a %REQ(x). Couldn't find valid command at position 2")
        #expect(error("%REQ%")?.reason == "REQ requires parameters")
        #expect(error("%REQ()%")?.reason == "REQ requires parameters")
        #expect(error("%PROTOCOL(x)%")?.reason == "PROTOCOL does not take any parameters or length")
        #expect(error("%PROTOCOL:3%")?.reason == "PROTOCOL does not take any parameters or length")
        #expect(error("%START_TIME:3%")?.reason == "START_TIME does not allow length to be specified.")
        #expect(error("%REQ(a?b?c)%")?.reason == "More than 1 alternative header specified in token: a?b?c")
        #expect(error("%REQ(a b)%")?.reason == "Invalid header configuration. Format string contains invalid characters.")
        let known = error("%DYNAMIC_METADATA(a:b)%")
        #expect(known?.isUnsupported == true)
        #expect(known?.path == "v")
    }

    @Test func formatterErrorsInConfigNameTheValue() {
        let e = routeError(singleHost("  - {match: {prefix: /}, route: {cluster: c}, request_headers_to_add: [{header: {key: a, value: '%BOGUS%'}}]}"))
        #expect(e?.description == "virtual_hosts[0].routes[0].request_headers_to_add[0].header.value: Not supported field in StreamInfo: BOGUS")
    }
}
