import Foundation
import Testing
@testable import RemoraConfig
import RemoraAPI

@Suite struct ForwardActionTests {
    @Test func defaults() throws {
        let table = try routeTable(singleHost("  - {match: {prefix: /}, route: {cluster: backend}}"))
        let matched = try #require(table.route(for: get("/x"), randomValue: 0))
        #expect(matched.clusterName == "backend")
        let f = matched.forward
        #expect(f.timeoutMilliseconds == 15_000)
        #expect(f.idleTimeoutMilliseconds == nil)
        #expect(f.retryPolicy == nil)
        #expect(f.clusterNotFoundResponseCode == 503)
        #expect(f.mirrorPolicies.isEmpty)
        #expect(matched.rewrittenPath(for: get("/x")) == nil)
        #expect(matched.rewrittenHost(for: get("/x")) == nil)
        #expect(!matched.autoHostRewrite)
        #expect(table.clusterReferences == [ClusterReference(cluster: "backend", path: "virtual_hosts[0].routes[0].route.cluster", kind: .route)])
        #expect(table.validateClusters)
    }

    @Test func timeouts() throws {
        let table = try routeTable(singleHost("""
          - match: {prefix: /}
            route: {cluster: c, timeout: 0s, idle_timeout: 2.5s, max_stream_duration: {max_stream_duration: 60s}, cluster_not_found_response_code: NOT_FOUND}
        """))
        let f = try #require(table.route(for: get("/"), randomValue: 0)).forward
        #expect(f.timeoutMilliseconds == 0)
        #expect(f.idleTimeoutMilliseconds == 2500)
        #expect(f.maxStreamDurationMilliseconds == 60_000)
        #expect(f.clusterNotFoundResponseCode == 404)
    }

    @Test func grpcTimeouts() throws {
        let table = try routeTable(singleHost("""
          - match: {prefix: /a}
            route: {cluster: c, max_grpc_timeout: 10s, grpc_timeout_offset: 0.1s}
          - match: {prefix: /b}
            route: {cluster: c, max_stream_duration: {grpc_timeout_header_max: 0s, grpc_timeout_header_offset: 0.05s}}
          - match: {prefix: /c}
            route: {cluster: c}
        """))
        let a = try #require(table.route(for: get("/a"), randomValue: 0)).forward.grpcTimeouts
        #expect(a == GRPCRouteTimeouts(maxGrpcTimeoutMilliseconds: 10_000, offsetMilliseconds: 100))
        let b = try #require(table.route(for: get("/b"), randomValue: 0)).forward
        #expect(b.grpcTimeouts == GRPCRouteTimeouts(usesStreamDuration: true, headerMaxMilliseconds: 0, headerOffsetMilliseconds: 50))
        #expect(b.maxStreamDurationMilliseconds == nil)
        #expect(try #require(table.route(for: get("/c"), randomValue: 0)).forward.grpcTimeouts == GRPCRouteTimeouts())
    }

    @Test func clusterHeader() throws {
        let table = try routeTable(singleHost("  - {match: {prefix: /}, route: {cluster_header: X-Cluster}}"))
        #expect(table.route(for: get("/", headers: [("x-cluster", "blue")]), randomValue: 0)?.clusterName == "blue")
        #expect(table.route(for: get("/", headers: [("x-cluster", "blue"), ("x-cluster", "red")]), randomValue: 0)?.clusterName == "blue")
        #expect(table.route(for: get("/"), randomValue: 0)?.clusterName == "")
    }

    @Test func weightedClusters() throws {
        let table = try routeTable(singleHost("""
          - match: {prefix: /}
            route:
              weighted_clusters:
                clusters:
                - {name: v1, weight: 90, request_headers_to_add: [{header: {key: x-version, value: v1}}]}
                - {name: v2, weight: 10, host_rewrite_literal: v2.internal}
        """))
        let first = try #require(table.route(for: get("/"), randomValue: 89))
        #expect(first.clusterName == "v1")
        #expect(first.weightedClusterIndex == 0)
        #expect(first.requestHeaderMutations.first?.add.first?.name == "x-version")
        #expect(first.rewrittenHost(for: get("/")) == nil)
        let second = try #require(table.route(for: get("/"), randomValue: 190))
        #expect(second.clusterName == "v2")
        #expect(second.rewrittenHost(for: get("/")) == "v2.internal")
        #expect(second.requestHeaderMutations.isEmpty)
        #expect(table.clusterReferences.map(\.cluster) == ["v1", "v2"])
    }

    @Test func weightedClusterRandomHeaderAndClusterHeader() throws {
        let table = try routeTable(singleHost("""
          - match: {prefix: /}
            route:
              weighted_clusters:
                header_name: x-random
                clusters:
                - {cluster_header: x-pick, weight: 1}
                - {name: fixed, weight: 1}
        """))
        #expect(table.route(for: get("/", headers: [("x-random", "1")]), randomValue: 0)?.clusterName == "fixed")
        #expect(table.route(for: get("/", headers: [("x-random", "2"), ("x-pick", "dyn")]), randomValue: 1)?.clusterName == "dyn")
        #expect(table.route(for: get("/", headers: [("x-random", "nope")]), randomValue: 0)?.clusterName == "")
    }

    @Test func weightedClusterErrors() {
        func err(_ clusters: String) -> ConfigError? {
            routeError(singleHost("""
              - match: {prefix: /}
                route: {weighted_clusters: {clusters: \(clusters)}}
            """))
        }
        #expect(err("[{name: a, weight: 0}]")?.reason == "Sum of weights in the weighted_cluster must be greater than 0.")
        #expect(err("[{name: a, cluster_header: b, weight: 1}]")?.reason == "Only one of name or cluster_header can be specified")
        #expect(err("[{weight: 1}]")?.reason == "At least one of name or cluster_header need to be specified")
        #expect(err("[]")?.path == "virtual_hosts[0].routes[0].route.weighted_clusters.clusters")
        #expect(err("[{name: a, weight: 1, metadata_match: {}}]")?.isUnsupported == true)
    }

    @Test func prefixRewrite() throws {
        let table = try routeTable(singleHost("""
          - {name: p, match: {prefix: /api/}, route: {cluster: c, prefix_rewrite: /}}
          - {name: e, match: {path: /old}, route: {cluster: c, prefix_rewrite: /new}}
          - {name: r, match: {safe_regex: {regex: "/re/.*"}}, route: {cluster: c, prefix_rewrite: /fixed}}
          - {name: i, match: {prefix: /CI/, case_sensitive: false}, route: {cluster: c, prefix_rewrite: /ci/}}
        """))
        func rewrite(_ path: String) -> String? {
            table.route(for: get(path), randomValue: 0)?.rewrittenPath(for: get(path))
        }
        #expect(rewrite("/api/users?x=1") == "/users?x=1")
        #expect(rewrite("/old?a") == "/new?a")
        #expect(rewrite("/re/thing?q=1") == "/fixed?q=1")
        #expect(rewrite("/ci/A") == "/ci/A")
        #expect(rewrite("/Ci/A") == "/ci/A")
    }

    @Test func regexRewrite() throws {
        let table = try routeTable(singleHost("""
          - match: {prefix: /service/}
            route:
              cluster: c
              regex_rewrite: {pattern: {regex: "^/service/([^/]+)(/.*)$"}, substitution: "\\\\2/instance/\\\\1"}
        """))
        let req = get("/service/foo/v1/api?x=y")
        #expect(table.route(for: req, randomValue: 0)?.rewrittenPath(for: req) == "/v1/api/instance/foo?x=y")
        #expect(routeError(singleHost("""
          - {match: {prefix: /}, route: {cluster: c, prefix_rewrite: /x, regex_rewrite: {pattern: {regex: a}, substitution: b}}}
        """))?.reason == "Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy")
    }

    @Test func hostRewrites() throws {
        let table = try routeTable(singleHost("""
          - {name: lit, match: {prefix: /lit}, route: {cluster: c, host_rewrite_literal: new.host, append_x_forwarded_host: true}}
          - {name: auto, match: {prefix: /auto}, route: {cluster: c, auto_host_rewrite: true}}
          - {name: hdr, match: {prefix: /hdr}, route: {cluster: c, host_rewrite_header: x-host}}
          - {name: rx, match: {prefix: /rx}, route: {cluster: c, host_rewrite_path_regex: {pattern: {regex: "^/rx/([^/]+).*$"}, substitution: "\\\\1.svc"}}}
        """))
        func host(_ r: SimpleRouteRequest) -> String? { table.route(for: r, randomValue: 0)?.rewrittenHost(for: r) }
        #expect(host(get("/lit")) == "new.host")
        #expect(table.route(for: get("/lit"), randomValue: 0)?.forward.appendXForwardedHost == true)
        #expect(host(get("/auto")) == nil)
        #expect(table.route(for: get("/auto"), randomValue: 0)?.autoHostRewrite == true)
        #expect(host(get("/hdr", headers: [("x-host", "from.header")])) == "from.header")
        #expect(host(get("/hdr")) == nil)
        #expect(host(get("/rx/reviews/1?x")) == "reviews.svc")
    }

    @Test func retryPolicy() throws {
        let table = try routeTable(singleHost("""
          - match: {prefix: /}
            route:
              cluster: c
              retry_policy:
                retry_on: "5xx, gateway-error,reset,connect-failure ,retriable-4xx,refused-stream,retriable-status-codes,bogus,unavailable"
                num_retries: 4
                per_try_timeout: 0.5s
                retriable_status_codes: [409, 429]
                retry_back_off: {base_interval: 0.1s}
                retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}]
                host_selection_retry_max_attempts: 5
        """))
        let policy = try #require(table.route(for: get("/"), randomValue: 0)?.forward.retryPolicy)
        #expect(policy.retryOn == [.fiveXX, .gatewayError, .reset, .connectFailure, .retriable4xx, .refusedStream,
                                   .retriableStatusCodes, .grpcUnavailable])
        #expect(policy.numRetries == 4)
        #expect(policy.perTryTimeoutMilliseconds == 500)
        #expect(policy.retriableStatusCodes == [409, 429])
        #expect(policy.backOffBaseMilliseconds == 100)
        #expect(policy.backOffMaxMilliseconds == 1000)
        #expect(policy.hostPredicates == [.previousHosts])
        #expect(policy.hostSelectionRetryMaxAttempts == 5)
    }

    @Test func retryDefaultsAndInheritance() throws {
        let table = try routeTable("""
        virtual_hosts:
        - name: vh
          domains: ["*"]
          retry_policy: {retry_on: connect-failure}
          routes:
          - {name: inherits, match: {prefix: /a}, route: {cluster: c}}
          - {name: own, match: {prefix: /b}, route: {cluster: c, retry_policy: {retry_on: 5xx, retry_back_off: {base_interval: 0.0001s, max_interval: 0.0002s}}}}
        """)
        let inherited = try #require(table.route(for: get("/a"), randomValue: 0)?.forward.retryPolicy)
        #expect(inherited.retryOn == .connectFailure)
        #expect(inherited.numRetries == 1)
        #expect(inherited.backOffBaseMilliseconds == 25)
        #expect(inherited.backOffMaxMilliseconds == 250)
        #expect(inherited.hostSelectionRetryMaxAttempts == 1)
        let own = try #require(table.route(for: get("/b"), randomValue: 0)?.forward.retryPolicy)
        #expect(own.retryOn == .fiveXX)
        // Sub-millisecond intervals round up to 1 ms.
        #expect(own.backOffBaseMilliseconds == 1)
        #expect(own.backOffMaxMilliseconds == 1)
    }

    @Test func retryErrors() {
        func err(_ policy: String) -> ConfigError? {
            routeError(singleHost("  - {match: {prefix: /}, route: {cluster: c, retry_policy: \(policy)}}"))
        }
        #expect(err("{retry_back_off: {base_interval: 1s, max_interval: 0.5s}}")?.reason
            == "retry_policy.max_interval must greater than or equal to the base_interval")
        #expect(err("{retry_back_off: {max_interval: 1s}}")?.path == "virtual_hosts[0].routes[0].route.retry_policy.retry_back_off.base_interval")
        let predicate = err("{retry_host_predicate: [{name: envoy.retry_host_predicates.omit_canary_hosts}]}")
        #expect(predicate?.isUnsupported == true)
        #expect(predicate?.path == "virtual_hosts[0].routes[0].route.retry_policy.retry_host_predicate[0].name")
        #expect(err("{retry_priority: {name: x}}")?.isUnsupported == true)
    }

    @Test func mirrorPolicies() throws {
        let table = try routeTable("""
        request_mirror_policies: [{cluster: global-shadow}]
        virtual_hosts:
        - name: vh
          domains: ["*"]
          routes:
          - {name: inherits, match: {prefix: /a}, route: {cluster: c}}
          - name: own
            match: {prefix: /b}
            route:
              cluster: c
              request_mirror_policies:
              - {cluster: shadow, runtime_fraction: {default_value: {numerator: 5, denominator: TEN_THOUSAND}}}
              - {cluster_header: x-mirror, disable_shadow_host_suffix_append: true}
        """)
        let inherited = try #require(table.route(for: get("/a"), randomValue: 0)?.forward.mirrorPolicies)
        #expect(inherited.count == 1)
        if case .cluster(let name) = inherited[0].target { #expect(name == "global-shadow") } else { Issue.record("target") }
        #expect(inherited[0].fraction == .all)
        let own = try #require(table.route(for: get("/b"), randomValue: 0)?.forward.mirrorPolicies)
        #expect(own.count == 2)
        #expect(own[0].fraction == FractionalPercent(numerator: 5, denominator: 10_000))
        #expect(own[0].fraction.isSampled(randomValue: 4) && !own[0].fraction.isSampled(randomValue: 5))
        #expect(own[1].disableShadowHostSuffixAppend)
        #expect(table.clusterReferences.contains(ClusterReference(cluster: "shadow", path: "virtual_hosts[0].routes[1].route.request_mirror_policies[0].cluster", kind: .shadow)))
        #expect(routeError(singleHost("  - {match: {prefix: /}, route: {cluster: c, request_mirror_policies: [{}]}}"))?.reason
            == "Exactly one of cluster or cluster_header in request mirror policy need to be specified")
    }

    /// No balancer hashes and the router has one set of circuit-breaker
    /// thresholds: both fields are refused, not compiled and ignored.
    @Test func hashPolicyAndPriorityAreRefusedWithTheirPath() throws {
        let hash = routeError(singleHost("  - {match: {prefix: /}, route: {cluster: c, hash_policy: [{header: {header_name: x-user}}]}}"))
        #expect(hash?.path == "virtual_hosts[0].routes[0].route.hash_policy")
        #expect(hash?.isUnsupported == true)
        let priority = routeError(singleHost("  - {match: {prefix: /}, route: {cluster: c, priority: HIGH}}"))
        #expect(priority?.path == "virtual_hosts[0].routes[0].route.priority")
        #expect(priority?.isUnsupported == true)
        // DEFAULT is the unset value: nothing to refuse.
        _ = try routeTable(singleHost("  - {match: {prefix: /}, route: {cluster: c, priority: DEFAULT}}"))
    }

    @Test func upgrades() throws {
        let table = try routeTable(singleHost("  - {match: {prefix: /}, route: {cluster: c, upgrade_configs: [{upgrade_type: WebSocket}, {upgrade_type: h2c, enabled: false}]}}"))
        #expect(try #require(table.route(for: get("/"), randomValue: 0)).forward.upgrades == ["websocket": true, "h2c": false])
        #expect(routeError(singleHost("  - {match: {prefix: /}, route: {cluster: c, upgrade_configs: [{upgrade_type: a}, {upgrade_type: A}]}}"))?.reason == "Duplicate upgrade A")
        // CONNECT without connect_config is passed on as a request; a connect_matcher route
        // that does not enable it is kept (the router answers 403, as Envoy).
        let passedOn = try routeTable(singleHost(
            "  - {match: {connect_matcher: {}}, route: {cluster: c, upgrade_configs: [{upgrade_type: CONNECT}]}}"))
        let passed = try #require(passedOn.route(for: SimpleRouteRequest(path: "", authority: "a:1", method: "CONNECT"), randomValue: 0)).forward
        #expect(!passed.terminatesConnect && passed.upgrades == ["connect": true])
        _ = try routeTable(singleHost("  - {match: {connect_matcher: {}}, route: {cluster: c}}"))
        #expect(routeError(singleHost("  - {match: {prefix: /}, route: {cluster: c, upgrade_configs: [{upgrade_type: CONNECT-UDP}]}}"))?.isUnsupported == true)
        let connect = try routeTable(singleHost(
            "  - {match: {connect_matcher: {}}, route: {cluster: c, upgrade_configs: [{upgrade_type: CONNECT, connect_config: {}}]}}"))
        let forward = try #require(connect.route(for: SimpleRouteRequest(path: "", authority: "a:1", method: "CONNECT"), randomValue: 0)).forward
        #expect(forward.terminatesConnect && forward.upgrades == ["connect": true])
        #expect(try #require(table.route(for: get("/"), randomValue: 0)).forward.terminatesConnect == false)
        let misplaced = routeError(singleHost(
            "  - {match: {prefix: /}, route: {cluster: c, upgrade_configs: [{upgrade_type: websocket, connect_config: {}}]}}"))
        #expect(misplaced?.path == "virtual_hosts[0].routes[0].route.upgrade_configs[0].connect_config")
        let post = routeError(singleHost(
            "  - {match: {connect_matcher: {}}, route: {cluster: c, upgrade_configs: [{upgrade_type: CONNECT, connect_config: {allow_post: true}}]}}"))
        #expect(post?.path == "virtual_hosts[0].routes[0].route.upgrade_configs[0].connect_config.allow_post")
    }

    @Test func unsupportedActionFieldsAreRefused() {
        for field in ["cors: {}", "hedge_policy: {}", "rate_limits: [{actions: [{generic_key: {descriptor_value: x}}]}]", "internal_redirect_policy: {}", "metadata_match: {}"] {
            let e = routeError(singleHost("  - {match: {prefix: /}, route: {cluster: c, \(field)}}"))
            #expect(e?.isUnsupported == true, "\(field)")
            #expect(e?.path.hasPrefix("virtual_hosts[0].routes[0].route.") == true, "\(field)")
        }
        #expect(routeError(singleHost("  - {match: {prefix: /}, route: {cluster: ''}}"))?.path == "virtual_hosts[0].routes[0].route.cluster")
        #expect(routeError(singleHost("  - {match: {prefix: /}, route: {}}"))?.path == "virtual_hosts[0].routes[0].route")
    }
}

@Suite struct LocalReplyRouteTests {
    @Test func redirects() throws {
        let table = try routeTable(singleHost("""
          - {name: https, match: {prefix: /secure}, redirect: {https_redirect: true}}
          - {name: host, match: {prefix: /host}, redirect: {host_redirect: new.example, port_redirect: 8443, response_code: FOUND}}
          - {name: path, match: {prefix: /path}, redirect: {path_redirect: /landing, strip_query: true}}
          - {name: pathq, match: {prefix: /pq}, redirect: {path_redirect: "/landing?from=pq", strip_query: true}}
          - {name: keepq, match: {prefix: /kq}, redirect: {path_redirect: /landing}}
          - {name: prefix, match: {prefix: /old/}, redirect: {prefix_rewrite: /new/, response_code: PERMANENT_REDIRECT}}
          - {name: regex, match: {prefix: /rx/}, redirect: {regex_rewrite: {pattern: {regex: "^/rx/(.*)$"}, substitution: "/\\\\1/x"}, response_code: SEE_OTHER}}
          - {name: scheme, match: {prefix: /scheme}, redirect: {scheme_redirect: http, response_code: TEMPORARY_REDIRECT}}
        """))
        func location(_ path: String, host: String = "example.com:80", scheme: String = "http") -> (Int, String?) {
            let req = get(path, host: host)
            guard let m = table.route(for: req, randomValue: 0), case .redirect(let r) = m.route.action else { return (0, nil) }
            return (r.responseCode, m.redirectLocation(for: req, scheme: scheme, forwardedProto: scheme))
        }
        // The default port of the old scheme goes away with the scheme.
        #expect(location("/secure/x?a=1") == (301, "https://example.com/secure/x?a=1"))
        #expect(location("/secure", host: "example.com:8080").1 == "https://example.com:8080/secure")
        #expect(location("/host/a") == (302, "http://new.example:8443/host/a"))
        #expect(location("/path?q=1").1 == "http://example.com:80/landing")
        #expect(location("/pq?q=1").1 == "http://example.com:80/landing?from=pq")
        #expect(location("/kq?q=1").1 == "http://example.com:80/landing?q=1")
        #expect(location("/old/a/b?z") == (308, "http://example.com:80/new/a/b?z"))
        #expect(location("/rx/abc?z") == (303, "http://example.com:80/abc/x?z"))
        #expect(location("/scheme", host: "example.com:443", scheme: "https") == (307, "http://example.com/scheme"))
        #expect(MatchedRoute.processRequestHost("[::1]:80", newScheme: "https", newPort: "", forwardedProto: "http") == "[::1]")
    }

    @Test func directResponse() throws {
        let table = try routeTable(singleHost("""
          - {name: text, match: {path: /text}, direct_response: {status: 503, body: {inline_string: "down for maintenance"}}}
          - {name: bytes, match: {path: /bytes}, direct_response: {status: 200, body: {inline_bytes: "AAEC"}}}
          - {name: nobody, match: {path: /none}, direct_response: {status: 204}}
        """))
        func response(_ path: String) -> DirectResponse? {
            guard case .directResponse(let d)? = table.route(for: get(path), randomValue: 0)?.route.action else { return nil }
            return d
        }
        #expect(response("/text")?.status == 503)
        #expect(response("/text")?.body == Array("down for maintenance".utf8))
        #expect(response("/bytes")?.body == [0, 1, 2])
        #expect(response("/none")?.body == nil)
        #expect(table.route(for: get("/text"), randomValue: 0)?.clusterName == nil)
    }

    @Test func directResponseLimits() throws {
        let body = String(repeating: "x", count: 5000)
        let e = routeError(singleHost("  - {match: {path: /}, direct_response: {status: 200, body: {inline_string: \(body)}}}"))
        #expect(e?.description == "virtual_hosts[0].routes[0].direct_response.body: response body size is 5000 bytes; maximum is 4096")
        _ = try routeTable(singleHost("  - {match: {path: /}, direct_response: {status: 200, body: {inline_string: \(body)}}}",
                                      extra: "max_direct_response_body_size_bytes: 8192"))
        #expect(routeError(singleHost("  - {match: {path: /}, direct_response: {status: 99}}"))?.path
            == "virtual_hosts[0].routes[0].direct_response.status")
        #expect(routeError(singleHost("  - {match: {path: /}, direct_response: {status: 200, body: {filename: /nonexistent/file}}}"))?.path
            == "virtual_hosts[0].routes[0].direct_response.body.filename")
    }

    @Test func directResponseBodyFromFile() throws {
        let path = "/tmp/remora-config-test-body-\(UInt32.random(in: 0...UInt32.max)).txt"
        let contents = Array("from a file\n".utf8)
        guard let file = fopen(path, "w") else { Issue.record("cannot create \(path)"); return }
        _ = contents.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
        defer { unlink(path) }
        let table = try routeTable(singleHost("  - {match: {path: /}, direct_response: {status: 200, body: {filename: \(path)}}}"))
        guard case .directResponse(let d)? = table.route(for: get("/"), randomValue: 0)?.route.action else {
            Issue.record("no direct response")
            return
        }
        #expect(d.body == contents)
    }
}

@Suite struct ClusterReferenceTests {
    @Test func inheritedMirrorsAreCheckedWhereUsed() throws {
        let overriding = try routeTable("""
        request_mirror_policies: [{cluster: unused-shadow}]
        virtual_hosts:
        - name: vh
          domains: ["*"]
          routes:
          - {match: {prefix: /}, route: {cluster: c, request_mirror_policies: [{cluster: own-shadow}]}}
        """)
        #expect(overriding.clusterReferences.map(\.cluster) == ["c", "own-shadow"])
        let inheriting = try routeTable("""
        request_mirror_policies: [{cluster: shared-shadow}]
        virtual_hosts:
        - name: vh
          domains: ["*"]
          routes:
          - {match: {prefix: /a}, route: {cluster: c}}
          - {match: {prefix: /b}, direct_response: {status: 200}}
        """)
        let shadow = inheriting.clusterReferences.filter { $0.kind == .shadow }
        #expect(shadow == [ClusterReference(cluster: "shared-shadow", path: "request_mirror_policies[0].cluster", kind: .shadow)])
        #expect(shadow.first?.unknownClusterMessage == "route: unknown shadow cluster 'shared-shadow'")
    }
}
