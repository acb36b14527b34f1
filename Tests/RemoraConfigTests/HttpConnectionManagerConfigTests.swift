import Foundation
import Testing
@testable import RemoraConfig
import RemoraAPI
import RemoraCore

@Suite struct HttpConnectionManagerConfigTests {
    /// A bootstrap with one HTTP listener whose HCM body is `hcm` (indented under typed_config).
    static func bootstrap(_ hcm: String, clusters: String = "- {name: backend, type: STATIC}") -> String {
        let body = hcm.split(separator: "\n", omittingEmptySubsequences: false).map { "          " + $0 }.joined(separator: "\n")
        let clusterLines = clusters.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
        return """
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: 127.0.0.1, port_value: 10000}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
        \(body)
          clusters:
        \(clusterLines)
        """
    }

    static let minimal = """
    stat_prefix: ingress
    route_config:
      virtual_hosts:
      - name: all
        domains: ["*"]
        routes: [{match: {prefix: /}, route: {cluster: backend}}]
    http_filters:
    - name: envoy.filters.http.router
      typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
    """

    func compile(_ hcm: String, clusters: String = "- {name: backend, type: STATIC}") throws -> ServerConfig {
        let bootstrap = try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: Self.bootstrap(hcm, clusters: clusters))
        let config = try ConfigCompiler.compile(bootstrap)
        try ListenerCompiler.validateRouteClusters(config.listeners, clusterNames: Set(config.clusters.map(\.name)))
        return config
    }

    func hcm(_ yaml: String) throws -> HttpConnectionManagerConfig {
        let chain = try #require(try compile(yaml).listeners[0].filterChain(forDestinationPort: 10000))
        #expect(chain.tcpProxy == nil)
        return try #require(chain.httpConnectionManager)
    }

    func error(_ yaml: String, clusters: String = "- {name: backend, type: STATIC}") -> ConfigError? {
        do {
            _ = try compile(yaml, clusters: clusters)
            return nil
        } catch let e as ConfigError {
            return e
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    static let prefix = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config"

    @Test func defaults() throws {
        let config = try hcm(Self.minimal)
        #expect(config.statPrefix == "ingress")
        #expect(config.codec == .auto)
        #expect(config.serverName == "envoy")
        #expect(config.serverHeaderTransformation == .overwrite)
        #expect(config.useRemoteAddress == false)
        #expect(config.xffNumTrustedHops == 0)
        #expect(config.skipXffAppend == false)
        #expect(config.via == nil)
        #expect(config.generateRequestId == true)
        #expect(config.preserveExternalRequestId == false)
        #expect(config.streamIdleTimeoutMilliseconds == 300_000)
        #expect(config.requestTimeoutMilliseconds == 0)
        #expect(config.requestHeadersTimeoutMilliseconds == 0)
        #expect(config.drainTimeoutMilliseconds == 5000)
        #expect(config.delayedCloseTimeoutMilliseconds == 1000)
        #expect(config.common == HTTPProtocolOptions(idleTimeoutMilliseconds: 3_600_000, maxHeadersCount: 100))
        #expect(config.http1 == HTTP1ProtocolOptions())
        #expect(config.http1.allowAbsoluteURL && !config.http1.acceptHTTP10)
        #expect(config.maxRequestHeadersKB == 60)
        #expect(config.upgrades.isEmpty)
        #expect(!config.normalizePath && !config.mergeSlashes)
        #expect(config.pathWithEscapedSlashesAction == .keepUnchanged)
        #expect(config.stripPortMode == .none)
        #expect(config.internalAddresses == InternalAddressConfig())
        #expect(config.router == RouterFilterConfig())
        #expect(config.router?.dynamicStats == true)
        #expect(config.routeTable?.virtualHosts.map(\.name) == ["all"])
    }

    @Test func everythingSet() throws {
        let config = try hcm("""
        stat_prefix: s
        codec_type: HTTP1
        server_name: remora-test
        server_header_transformation: PASS_THROUGH
        use_remote_address: true
        xff_num_trusted_hops: 2
        skip_xff_append: true
        via: proxy1
        generate_request_id: false
        preserve_external_request_id: true
        stream_idle_timeout: 0s
        request_timeout: 30s
        request_headers_timeout: 10s
        drain_timeout: 1s
        delayed_close_timeout: 0.5s
        max_request_headers_kb: 96
        common_http_protocol_options: {idle_timeout: 0s, max_requests_per_connection: 100, max_headers_count: 50, max_stream_duration: 5s, headers_with_underscores_action: REJECT_REQUEST}
        http_protocol_options: {accept_http_10: true, default_host_for_http_10: legacy.local}
        upgrade_configs: [{upgrade_type: websocket}, {upgrade_type: h2c, enabled: false}]
        normalize_path: true
        merge_slashes: true
        path_with_escaped_slashes_action: UNESCAPE_AND_REDIRECT
        strip_any_host_port: true
        internal_address_config: {unix_sockets: true, cidr_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}, {address_prefix: "fd00::", prefix_len: 8}]}
        route_config: {virtual_hosts: [{name: a, domains: ["*"]}]}
        http_filters:
        - name: router
          typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router, suppress_envoy_headers: true, dynamic_stats: true}
        """)
        #expect(config.codec == .http1)
        #expect(config.serverName == "remora-test")
        #expect(config.serverHeaderTransformation == .passThrough)
        #expect(config.useRemoteAddress && config.skipXffAppend && config.xffNumTrustedHops == 2)
        #expect(config.via == "proxy1")
        #expect(!config.generateRequestId && config.preserveExternalRequestId)
        #expect(config.streamIdleTimeoutMilliseconds == 0)
        #expect(config.requestTimeoutMilliseconds == 30_000)
        #expect(config.requestHeadersTimeoutMilliseconds == 10_000)
        #expect(config.drainTimeoutMilliseconds == 1000)
        #expect(config.delayedCloseTimeoutMilliseconds == 500)
        #expect(config.maxRequestHeadersKB == 96)
        #expect(config.common.idleTimeoutMilliseconds == nil)
        #expect(config.common.maxRequestsPerConnection == 100)
        #expect(config.common.maxHeadersCount == 50)
        #expect(config.common.maxStreamDurationMilliseconds == 5000)
        #expect(config.common.headersWithUnderscoresAction == .rejectRequest)
        #expect(config.http1.acceptHTTP10 && config.http1.defaultHostForHTTP10 == "legacy.local")
        #expect(config.upgrades == [UpgradeConfig(type: "websocket", enabled: true), UpgradeConfig(type: "h2c", enabled: false)])
        #expect(config.upgradeEnabled("websocket") == true)
        #expect(config.upgradeEnabled("h2c") == false)
        #expect(config.upgradeEnabled("other") == nil)
        #expect(config.normalizePath && config.mergeSlashes)
        #expect(config.pathWithEscapedSlashesAction == .unescapeAndRedirect)
        #expect(config.stripPortMode == .any)
        #expect(config.internalAddresses.isInternal(.v4(0x0a01_0203, port: 5)))
        #expect(!config.internalAddresses.isInternal(.v4(0x0b01_0203, port: 5)))
        #expect(config.internalAddresses.isInternal(.v6(high: 0xfd12_0000_0000_0000, low: 1, port: 1)))
        #expect(config.internalAddresses.isInternal(.unix("/tmp/s")))
        #expect(config.router == RouterFilterConfig(dynamicStats: true, suppressEnvoyHeaders: true))
    }

    @Test func http2CodecAndOptions() throws {
        #expect(try hcm(Self.minimal + "\ncodec_type: HTTP2").codec == .http2)
        let options = try hcm(Self.minimal + """

        http2_protocol_options:
          max_concurrent_streams: 100
          initial_stream_window_size: 65535
          hpack_table_size: 0
          override_stream_error_on_invalid_http_message: true
          connection_keepalive: {interval: 10s, timeout: 2s}
        """).http2
        #expect(options.maxConcurrentStreams == 100)
        #expect(options.initialStreamWindowSize == 65535)
        #expect(options.hpackTableSize == 0)
        #expect(options.allowConnect == false)
        #expect(try hcm(Self.minimal + "\nhttp2_protocol_options: {allow_connect: true}").http2.allowConnect)
        #expect(options.overrideStreamErrorOnInvalidHTTPMessage == true)
        #expect(options.keepalive == HTTP2ProtocolOptions.Keepalive(intervalMilliseconds: 10_000, timeoutMilliseconds: 2000))
        let window = error(Self.minimal + "\nhttp2_protocol_options: {initial_stream_window_size: 100}")
        #expect(window?.path == Self.prefix + ".http2_protocol_options.initial_stream_window_size")
        let streams = error(Self.minimal + "\nhttp2_protocol_options: {max_concurrent_streams: 0}")
        #expect(streams?.path == Self.prefix + ".http2_protocol_options.max_concurrent_streams")
        let custom = error(Self.minimal + "\nhttp2_protocol_options: {custom_settings_parameters: [{identifier: 9, value: 1}]}")
        #expect(custom?.isUnsupported == true)
        #expect(custom?.path == Self.prefix + ".http2_protocol_options.custom_settings_parameters")
        let keepalive = error(Self.minimal + "\nhttp2_protocol_options: {connection_keepalive: {interval: 1s}}")
        #expect(keepalive?.path == Self.prefix + ".http2_protocol_options.connection_keepalive.timeout")
    }

    /// Router and protocol options Remora accepts only where it does what Envoy does.
    @Test func ignoredOptionsAreRefused() {
        func routerError(_ fields: String) -> ConfigError? {
            error(Self.minimal.replacingOccurrences(
                of: "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}",
                with: "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router, \(fields)}"))
        }
        for (fields, field) in [("dynamic_stats: false", "dynamic_stats"),
                                ("strict_check_headers: [x-envoy-max-retries]", "strict_check_headers"),
                                ("respect_expected_rq_timeout: true", "respect_expected_rq_timeout")] {
            let e = routerError(fields)
            #expect(e?.isUnsupported == true, "\(fields)")
            #expect(e?.path.hasSuffix(".typed_config.\(field)") == true, "\(String(describing: e?.path))")
        }
    }

    @Test func codecAndRouteSourceLimits() {
        let rds = error("""
        stat_prefix: s
        rds: {route_config_name: r, config_source: {ads: {}}}
        """)
        // RDS compiles; `ads: {}` needs the bootstrap's ads_config.
        #expect(rds?.path == Self.prefix + ".rds.config_source.ads")
        let scoped = error("""
        stat_prefix: s
        scoped_routes: {name: s}
        """)
        #expect(scoped?.path == Self.prefix + ".scoped_routes")
        #expect(scoped?.isUnsupported == true)
        #expect(error("stat_prefix: s")?.path == Self.prefix + ".route_config")
        #expect(error("route_config: {}")?.path == Self.prefix + ".stat_prefix")
        #expect(error(Self.minimal + "\ntracing: {}")?.path == Self.prefix + ".tracing")
    }

    @Test func httpFilterChecks() {
        let fault = """
        - name: envoy.filters.http.fault
          typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault}
        """
        let router = """
        - name: envoy.filters.http.router
          typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """
        let base = "stat_prefix: s\nroute_config: {virtual_hosts: [{name: a, domains: ['*']}]}\nhttp_filters:\n"
        let unsupported = error(base + fault + "\n" + router)
        #expect(unsupported?.description == Self.prefix + ".http_filters[0].typed_config: unsupported type envoy.extensions.filters.http.fault.v3.HTTPFault")
        let notLast = error(base + router + "\n" + fault.replacingOccurrences(of: "typed_config", with: "is_optional: true\n  typed_config"))
        #expect(notLast?.reason == "Error: terminal filter named envoy.filters.http.router of type envoy.filters.http.router must be the last filter in a http filter chain.")
        #expect(notLast?.path == Self.prefix + ".http_filters[0]")
        // An optional filter Remora lacks is skipped, as Envoy skips one it has no factory for.
        let optional = try? hcm(base + fault.replacingOccurrences(of: "typed_config", with: "is_optional: true\n  typed_config") + "\n" + router)
        #expect(optional?.httpFilters.count == 1)
        #expect(optional?.router != nil)
        #expect(error(base + router.replacingOccurrences(of: "typed_config", with: "disabled: true\n  typed_config"))?.path
            == Self.prefix + ".http_filters[0].disabled")
        #expect(error(base + "- name: x")?.path == Self.prefix + ".http_filters[0].typed_config")
        #expect(error(base + router.replacingOccurrences(of: "Router}", with: "Router, upstream_log: [{name: x}]}"))?.isUnsupported == true)
        let empty = try? hcm("stat_prefix: s\nroute_config: {}")
        #expect(empty?.httpFilters.isEmpty == true)
        #expect(empty?.router == nil)
    }

    @Test func valueChecks() {
        #expect(error(Self.minimal + "\nmax_request_headers_kb: 8193")?.path == Self.prefix + ".max_request_headers_kb")
        #expect(error(Self.minimal + "\nmax_request_headers_kb: 0") != nil)
        _ = try? hcm(Self.minimal + "\nmax_request_headers_kb: 8192")
        #expect(error(Self.minimal + "\nstrip_any_host_port: true\nstrip_matching_host_port: true")?.reason
            == "Error: Only one of `strip_matching_host_port` or `strip_any_host_port` can be set.")
        #expect(error(Self.minimal + "\nupgrade_configs: [{upgrade_type: websocket}, {upgrade_type: WebSocket}]")?.reason
            == "Error: multiple upgrade configs with the same name: 'WebSocket'")
        #expect(error(Self.minimal + "\ncommon_http_protocol_options: {max_response_headers_kb: 10}")?.reason
            == "Error: max_response_headers_kb cannot be set on http_connection_manager.")
        #expect(error(Self.minimal + "\ninternal_address_config: {cidr_ranges: [{address_prefix: 10.0.0.0, prefix_len: 33}]}")?.path
            == Self.prefix + ".internal_address_config.cidr_ranges[0]")
        #expect(error(Self.minimal + "\nhttp_protocol_options: {header_key_format: {proper_case_words: {}}}")?.isUnsupported == true)
    }

    @Test func unknownClustersAreRefusedForInlineRoutes() {
        let e = error(Self.minimal.replacingOccurrences(of: "cluster: backend", with: "cluster: missing"))
        #expect(e?.description == Self.prefix + ".route_config.virtual_hosts[0].routes[0].route.cluster: route: unknown cluster 'missing'")
        #expect(error(Self.minimal.replacingOccurrences(of: "cluster: backend", with: "cluster: missing")
            .replacingOccurrences(of: "route_config:", with: "route_config:\n  validate_clusters: false")) == nil)
    }

    @Test func listenerChainsStillTakeTcpProxy() throws {
        // The existing tcp_proxy path and the new terminal-filter enum agree.
        let config = try ConfigCompiler.compile(try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: BootstrapLoaderTests.good))
        let chain = try #require(config.listeners[0].filterChain(forDestinationPort: 10000))
        guard case .tcpProxy(let proxy)? = chain.terminal else {
            Issue.record("expected tcp_proxy")
            return
        }
        #expect(proxy.cluster == "backend")
        #expect(chain.httpConnectionManager == nil)
    }

    @Test func filterAfterHCMIsRefused() {
        let extra = [
            "      - name: extra",
            "        typed_config:",
            "          \"@type\": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
            "          stat_prefix: x",
            "          cluster: backend",
            "  clusters:",
        ].joined(separator: "\n")
        let yaml = Self.bootstrap(Self.minimal).replacingOccurrences(of: "  clusters:", with: extra)
        do {
            _ = try ConfigCompiler.compile(try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: yaml))
            Issue.record("expected an error")
        } catch {
            #expect(error.path == "static_resources.listeners[0].filter_chains[0].filters[1]")
            #expect(error.reason == "filter 'extra' comes after the terminal filter http_connection_manager")
        }
    }
    @Test func forwardClientCertDetailsInEnvoysOrder() throws {
        #expect(try hcm(Self.minimal).forwardClientCert == ForwardClientCertConfig())
        let config = try hcm(Self.minimal + """

        forward_client_cert_details: APPEND_FORWARD
        set_current_client_cert_details: {dns: true, uri: true, subject: true, chain: true, cert: true}
        """).forwardClientCert
        #expect(config.mode == .appendForward)
        #expect(config.details == [.cert, .chain, .subject, .uri, .dns])
    }
}

@Suite struct StandaloneCompileTests {
    @Test func publicEntryPoints() throws {
        let hcm = try BootstrapLoader.decode(
            Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.self,
            yaml: HttpConnectionManagerConfigTests.minimal)
        let config = try HttpConnectionManagerConfig.compile(hcm)
        #expect(config.routeTable?.validateClusters == true)
        let rds = try BootstrapLoader.decode(Envoy_Config_Route_V3_RouteConfiguration.self, yaml: "virtual_hosts: [{name: a, domains: ['*']}]")
        #expect(try RouteTable.compile(rds).validateClusters == false)
        do {
            _ = try RouteTable.compile(try BootstrapLoader.decode(Envoy_Config_Route_V3_RouteConfiguration.self, yaml: "virtual_hosts: [{domains: ['*']}]"))
            Issue.record("expected an error")
        } catch {
            #expect(error.path == "virtual_hosts[0].name")
        }
    }

}
