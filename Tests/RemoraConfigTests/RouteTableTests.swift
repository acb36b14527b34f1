import Testing
@testable import RemoraConfig
import RemoraAPI

@Suite struct VirtualHostSelectionTests {
    static let hosts = """
    name: local
    virtual_hosts:
    - {name: exact, domains: ["www.foo.com", "Other.Example"], routes: [{name: exact, match: {prefix: /}, direct_response: {status: 200}}]}
    - {name: suffix-long, domains: ["*-bar.foo.com"], routes: [{name: suffix-long, match: {prefix: /}, direct_response: {status: 200}}]}
    - {name: suffix-short, domains: ["*.foo.com"], routes: [{name: suffix-short, match: {prefix: /}, direct_response: {status: 200}}]}
    - {name: prefix-long, domains: ["www.foo.*"], routes: [{name: prefix-long, match: {prefix: /}, direct_response: {status: 200}}]}
    - {name: prefix-short, domains: ["www.*"], routes: [{name: prefix-short, match: {prefix: /}, direct_response: {status: 200}}]}
    - {name: default, domains: ["*"], routes: [{name: default, match: {prefix: /}, direct_response: {status: 200}}]}
    """

    @Test func envoyOrder() throws {
        let table = try routeTable(Self.hosts)
        func host(_ h: String?) -> String? { table.virtualHost(for: get("/", host: h))?.name }
        #expect(host("www.foo.com") == "exact")
        #expect(host("WWW.Foo.COM") == "exact")
        #expect(host("other.example") == "exact")
        // Longest suffix first: "-bar.foo.com" beats ".foo.com".
        #expect(host("baz-bar.foo.com") == "suffix-long")
        #expect(host("a.foo.com") == "suffix-short")
        // `*.foo.com` needs at least one character before ".foo.com".
        #expect(host(".foo.com") == "default")
        // Suffix wildcards win over prefix wildcards.
        #expect(host("www.x.foo.com") == "suffix-short")
        #expect(host("www.foo.org") == "prefix-long")
        #expect(host("www.bar") == "prefix-short")
        #expect(host("elsewhere") == "default")
        // No authority: no virtual host (Envoy's early-reply case).
        #expect(host(nil) == nil)
    }

    @Test func portIsPartOfTheHostByDefault() throws {
        let table = try routeTable(Self.hosts)
        // Envoy does not strip the port: "www.foo.com:8080" is not the exact domain,
        // but the prefix wildcard "www.foo.*" matches it.
        #expect(table.virtualHost(for: get("/", host: "www.foo.com:8080"))?.name == "prefix-long")
        #expect(table.virtualHost(for: get("/", host: "a.foo.com:80"))?.name == "default")
        let ignoring = try routeTable("ignore_port_in_host_matching: true\n" + Self.hosts)
        #expect(ignoring.virtualHost(for: get("/", host: "www.foo.com:8080"))?.name == "exact")
        #expect(ignoring.virtualHost(for: get("/", host: "a.foo.com:80"))?.name == "suffix-short")
        // An IPv6 literal's colons are not a port.
        #expect(DomainIndex.portStart(Array("[::1]".utf8).withUnsafeBytes { UnsafeRawBufferPointer($0) }) == nil)
    }

    @Test func domainWithPort() throws {
        let table = try routeTable("""
        virtual_hosts:
        - {name: with-port, domains: ["api.local:8080"], routes: [{match: {prefix: /}, direct_response: {status: 200}}]}
        - {name: bare, domains: ["api.local"], routes: [{match: {prefix: /}, direct_response: {status: 200}}]}
        """)
        #expect(table.virtualHost(for: get("/", host: "api.local:8080"))?.name == "with-port")
        #expect(table.virtualHost(for: get("/", host: "api.local"))?.name == "bare")
        #expect(table.virtualHost(for: get("/", host: "api.local:9090")) == nil)
    }

    @Test func onlyDefaultNeedsNoHost() throws {
        let table = try routeTable(singleHost("  - {name: r, match: {prefix: /}, direct_response: {status: 200}}"))
        #expect(table.routeName(get("/", host: nil)) == "r")
    }

    @Test func vhostHeader() throws {
        let table = try routeTable("vhost_header: X-Vhost\n" + Self.hosts)
        #expect(table.virtualHost(for: get("/", host: "www.foo.com", headers: [("x-vhost", "a.foo.com")]))?.name == "suffix-short")
        #expect(table.virtualHost(for: get("/", host: "www.foo.com")) == nil)
    }

    @Test func duplicateDomainsAreRefusedAsEnvoyDoes() {
        let dup = routeError("""
        name: rc
        virtual_hosts:
        - {name: a, domains: ["x.com"]}
        - {name: b, domains: ["y.com", "X.COM"]}
        """)
        #expect(dup?.description == "virtual_hosts[1].domains[1]: Only unique values for domains are permitted. Duplicate entry of domain x.com in route rc")
        let wildcard = routeError("""
        name: rc
        virtual_hosts:
        - {name: a, domains: ["*"]}
        - {name: b, domains: ["*"]}
        """)
        #expect(wildcard?.description == "virtual_hosts[1].domains[0]: Only a single wildcard domain is permitted in route rc")
        #expect(routeError("virtual_hosts: [{name: a, domains: ['*.a.com', '*.A.com']}]")?.path == "virtual_hosts[0].domains[1]")
        #expect(routeError("virtual_hosts: [{name: a, domains: []}]")?.path == "virtual_hosts[0].domains")
        #expect(routeError("virtual_hosts: [{domains: ['a']}]")?.path == "virtual_hosts[0].name")
    }

    @Test func unsupportedVirtualHostFieldsAreRefused() {
        let e = routeError("virtual_hosts: [{name: a, domains: ['*'], require_tls: ALL}]")
        #expect(e?.path == "virtual_hosts[0].require_tls")
        #expect(e?.isUnsupported == true)
        #expect(routeError("virtual_hosts: [{name: a, domains: ['*'], cors: {}}]")?.isUnsupported == true)
        #expect(routeError("vhds: {config_source: {ads: {}}}")?.path == "vhds")
    }
}

@Suite struct RouteMatchTests {
    @Test func prefixPathAndQuery() throws {
        let table = try routeTable(singleHost("""
          - {name: exact, match: {path: /exact}, direct_response: {status: 200}}
          - {name: api, match: {prefix: /api/}, direct_response: {status: 200}}
          - {name: all, match: {prefix: /}, direct_response: {status: 200}}
        """))
        #expect(table.routeName(get("/exact")) == "exact")
        // The query is not part of the path being matched.
        #expect(table.routeName(get("/exact?x=1")) == "exact")
        #expect(table.routeName(get("/exact/")) == "all")
        #expect(table.routeName(get("/api/v1?q")) == "api")
        #expect(table.routeName(get("/API/v1")) == "all")
        #expect(table.routeName(get("/exact#frag")) == "exact")
    }

    @Test func firstMatchWins() throws {
        let table = try routeTable(singleHost("""
          - {name: first, match: {prefix: /}, direct_response: {status: 200}}
          - {name: second, match: {path: /a}, direct_response: {status: 200}}
        """))
        #expect(table.routeName(get("/a")) == "first")
    }

    @Test func caseInsensitive() throws {
        let table = try routeTable(singleHost("""
          - {name: p, match: {prefix: /Api, case_sensitive: false}, direct_response: {status: 200}}
          - {name: e, match: {path: /EXACT, case_sensitive: false}, direct_response: {status: 200}}
          - {name: s, match: {path_separated_prefix: /Sep, case_sensitive: false}, direct_response: {status: 200}}
        """))
        #expect(table.routeName(get("/aPI/x")) == "p")
        #expect(table.routeName(get("/exact")) == "e")
        #expect(table.routeName(get("/sEP/x")) == "s")
        #expect(table.routeName(get("/other")) == nil)
    }

    @Test func safeRegexMatchesTheWholePathWithoutQuery() throws {
        let table = try routeTable(singleHost("""
          - {name: r, match: {safe_regex: {regex: "/users/[0-9]+"}}, direct_response: {status: 200}}
        """))
        #expect(table.routeName(get("/users/42")) == "r")
        #expect(table.routeName(get("/users/42?expand=1")) == "r")
        #expect(table.routeName(get("/users/42/x")) == nil)
        #expect(table.routeName(get("/v1/users/42")) == nil)
    }

    @Test func pathSeparatedPrefix() throws {
        let table = try routeTable(singleHost("""
          - {name: s, match: {path_separated_prefix: /api}, direct_response: {status: 200}}
        """))
        #expect(table.routeName(get("/api")) == "s")
        #expect(table.routeName(get("/api/x")) == "s")
        #expect(table.routeName(get("/api?x")) == "s")
        #expect(table.routeName(get("/apis")) == nil)
        #expect(routeError(singleHost("  - {match: {path_separated_prefix: /api/}, direct_response: {status: 200}}"))?.path
            == "virtual_hosts[0].routes[0].match.path_separated_prefix")
        #expect(routeError(singleHost("  - {match: {path_separated_prefix: /a?b}, direct_response: {status: 200}}")) != nil)
    }

    @Test func ignorePathParameters() throws {
        let table = try routeTable(singleHost("  - {name: e, match: {path: /a/b}, direct_response: {status: 200}}",
                                              extra: "ignore_path_parameters_in_path_matching: true"))
        #expect(table.routeName(get("/a/b;jsessionid=1")) == "e")
        let strict = try routeTable(singleHost("  - {name: e, match: {path: /a/b}, direct_response: {status: 200}}"))
        #expect(strict.routeName(get("/a/b;jsessionid=1")) == nil)
    }

    @Test func headerMatchers() throws {
        let table = try routeTable(singleHost("""
          - name: exact
            match: {prefix: /, headers: [{name: X-Exact, exact_match: yes}]}
            direct_response: {status: 200}
          - name: string
            match: {prefix: /, headers: [{name: x-s, string_match: {prefix: ab, ignore_case: true}}]}
            direct_response: {status: 200}
          - name: suffix
            match: {prefix: /, headers: [{name: x-s, string_match: {suffix: yz}}]}
            direct_response: {status: 200}
          - name: contains
            match: {prefix: /, headers: [{name: x-s, string_match: {contains: MID, ignore_case: true}}]}
            direct_response: {status: 200}
          - name: regex
            match: {prefix: /, headers: [{name: x-s, string_match: {safe_regex: {regex: "v[0-9]"}}}]}
            direct_response: {status: 200}
          - name: present
            match: {prefix: /, headers: [{name: x-p, present_match: true}]}
            direct_response: {status: 200}
          - name: range
            match: {prefix: /, headers: [{name: x-n, range_match: {start: 10, end: 20}}]}
            direct_response: {status: 200}
          - name: not-json
            match: {prefix: /, headers: [{name: content-type, string_match: {exact: application/json}, invert_match: true}, {name: x-inv}]}
            direct_response: {status: 200}
          - name: absent
            match: {prefix: /, headers: [{name: x-absent, present_match: false}, {name: x-go}]}
            direct_response: {status: 200}
          - name: empty
            match: {prefix: /, headers: [{name: x-missing, string_match: {exact: ""}, treat_missing_header_as_empty: true}, {name: x-empty-test}]}
            direct_response: {status: 200}
          - name: method
            match: {prefix: /, headers: [{name: ":method", string_match: {exact: POST}}]}
            direct_response: {status: 200}
        """))
        #expect(table.routeName(get("/", headers: [("x-exact", "yes")])) == "exact")
        #expect(table.routeName(get("/", headers: [("x-exact", "no")])) == nil)
        #expect(table.routeName(get("/", headers: [("x-s", "ABc")])) == "string")
        #expect(table.routeName(get("/", headers: [("x-s", "xyz")])) == "suffix")
        #expect(table.routeName(get("/", headers: [("x-s", "a-mid-b")])) == "contains")
        #expect(table.routeName(get("/", headers: [("x-s", "v7")])) == "regex")
        #expect(table.routeName(get("/", headers: [("x-s", "v77")])) == nil)
        #expect(table.routeName(get("/", headers: [("x-p", "")])) == "present")
        #expect(table.routeName(get("/", headers: [("x-n", "15")])) == "range")
        #expect(table.routeName(get("/", headers: [("x-n", "20")])) == nil)
        #expect(table.routeName(get("/", headers: [("x-n", "-5x")])) == nil)
        // Inverted: a present header that does not match; an absent header never matches.
        #expect(table.routeName(get("/", headers: [("content-type", "text/plain"), ("x-inv", "1")])) == "not-json")
        #expect(table.routeName(get("/", headers: [("content-type", "application/json"), ("x-inv", "1")])) == nil)
        #expect(table.routeName(get("/", headers: [("x-inv", "1")])) == nil)
        #expect(table.routeName(get("/", headers: [("x-go", "1")])) == "absent")
        #expect(table.routeName(get("/", headers: [("x-go", "1"), ("x-absent", "1")])) == nil)
        #expect(table.routeName(get("/", headers: [("x-empty-test", "1")])) == "empty")
        #expect(table.routeName(SimpleRouteRequest(path: "/", authority: "h", method: "POST")) == "method")
    }

    @Test func multipleHeaderValuesAreJoined() throws {
        let table = try routeTable(singleHost("""
          - name: joined
            match: {prefix: /, headers: [{name: x-m, string_match: {exact: "a,b"}}]}
            direct_response: {status: 200}
        """))
        #expect(table.routeName(get("/", headers: [("x-m", "a"), ("X-M", "b")])) == "joined")
    }

    @Test func headerMatcherSemantics() {
        let req = get("/", headers: [("x-a", "1")])
        #expect(HeaderMatcher(name: "x-a", kind: .present(true), invert: true).matches(req) == false)
        #expect(HeaderMatcher(name: "x-b", kind: .present(true), invert: true).matches(req) == true)
        #expect(HeaderMatcher(name: "x-b", kind: .present(false)).matches(req) == true)
        #expect(HeaderMatcher(name: "x-b", kind: .string(StringMatcher(.exact("z"))), invert: true).matches(req) == false)
        #expect(HeaderMatcher(name: "x-a", kind: .exact("")).matches(req) == true)
        #expect(HeaderMatcher.parseInteger(" +42 ") == 42)
        #expect(HeaderMatcher.parseInteger("-9223372036854775808") == Int64.min)
        #expect(HeaderMatcher.parseInteger("9223372036854775808") == nil)
    }

    @Test func queryParameters() throws {
        let table = try routeTable(singleHost("""
          - name: debug
            match: {prefix: /, query_parameters: [{name: debug, string_match: {exact: "1"}}]}
            direct_response: {status: 200}
          - name: has-flag
            match: {prefix: /, query_parameters: [{name: flag}]}
            direct_response: {status: 200}
          - name: no-token
            match: {prefix: /, query_parameters: [{name: token, present_match: false}]}
            direct_response: {status: 200}
        """))
        #expect(table.routeName(get("/p?a=b&debug=1")) == "debug")
        // Only the first value of a name counts.
        #expect(table.routeName(get("/p?debug=0&debug=1&token")) == nil)
        #expect(table.routeName(get("/p?flag&token=x")) == "has-flag")
        #expect(table.routeName(get("/p")) == "no-token")
        #expect(table.routeName(get("/p?token=")) == nil)
        // Values are not percent-decoded (Envoy's parseQueryString).
        let m = QueryParameterMatcher(name: "q", kind: .string(StringMatcher(.exact("a%20b"))))
        #expect(m.matches(path: "/x?q=a%20b"))
    }

    @Test func runtimeFractionAndGrpc() throws {
        let table = try routeTable(singleHost("""
          - name: canary
            match: {prefix: /, runtime_fraction: {default_value: {numerator: 25, denominator: HUNDRED}, runtime_key: k}}
            direct_response: {status: 200}
          - name: grpc
            match: {prefix: /, grpc: {}}
            direct_response: {status: 200}
          - {name: rest, match: {prefix: /}, direct_response: {status: 200}}
        """))
        #expect(table.routeName(get("/"), random: 24) == "canary")
        #expect(table.routeName(get("/"), random: 125) == "rest")
        #expect(table.routeName(get("/", headers: [("content-type", "application/grpc+proto")]), random: 50) == "grpc")
        #expect(table.routeName(get("/", headers: [("content-type", "application/grpc-web")]), random: 50) == "rest")
    }

    @Test func matcherErrorsNameTheirPath() {
        #expect(routeError(singleHost("  - {match: {}, direct_response: {status: 200}}"))?.path == "virtual_hosts[0].routes[0].match")
        #expect(routeError(singleHost("  - {match: {prefix: /}}"))?.path == "virtual_hosts[0].routes[0]")
        #expect(routeError(singleHost("  - {match: {safe_regex: {regex: '('}}, direct_response: {status: 200}}"))?.path
            == "virtual_hosts[0].routes[0].match.safe_regex.regex")
        let ignoreCase = routeError(singleHost("""
          - {match: {prefix: /, headers: [{name: a, string_match: {safe_regex: {regex: a}, ignore_case: true}}]}, direct_response: {status: 200}}
        """))
        #expect(ignoreCase?.description == "virtual_hosts[0].routes[0].match.headers[0].string_match.ignore_case: ignore_case has no effect for safe_regex.")
        #expect(routeError(singleHost("  - {match: {prefix: /, headers: [{name: a, string_match: {prefix: ''}}]}, direct_response: {status: 200}}"))?.path
            == "virtual_hosts[0].routes[0].match.headers[0].string_match.prefix")
        let tls = routeError(singleHost("  - {match: {prefix: /, tls_context: {presented: true}}, direct_response: {status: 200}}"))
        #expect(tls?.path == "virtual_hosts[0].routes[0].match.tls_context")
        #expect(tls?.isUnsupported == true)
    }

    @Test func connectMatcherMatchesCONNECTOnly() throws {
        let table = try routeTable(singleHost("""
          - {name: tunnel, match: {connect_matcher: {}}, direct_response: {status: 200}}
          - {name: rest, match: {prefix: ""}, direct_response: {status: 404}}
        """))
        #expect(table.routeName(SimpleRouteRequest(path: "", authority: "a:443", method: "CONNECT")) == "tunnel")
        #expect(table.routeName(SimpleRouteRequest(path: "a:443", authority: "a:443", method: "CONNECT")) == "tunnel")
        #expect(table.routeName(get("/")) == "rest")
    }
}
