import Testing
@testable import RemoraConfig
import RemoraAPI
import RemoraCore

/// `filter_chain_match`, `listener_filters` with the HTTP inspector, and the
/// listener-filter timeout: what compiles, and what is refused with Envoy
/// 1.40's wording (checked with `envoy --mode validate`).
@Suite struct ListenerFilterChainConfigTests {
    static let tcp = """
        - name: envoy.filters.network.tcp_proxy
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: p, cluster: c}
        """

    func yaml(chains: [String], listenerExtra: String = "") -> String {
        let chainText = chains.enumerated().map { i, match in
            """
                - name: c\(i)
                  filter_chain_match: \(match)
                  filters:
                  \(Self.tcp)
            """
        }.joined(separator: "\n")
        return """
        static_resources:
          listeners:
          - name: inbound
            address: {socket_address: {address: 0.0.0.0, port_value: 15006}}
        \(listenerExtra)
            filter_chains:
        \(chainText)
          clusters:
          - {name: c, type: STATIC}
        """
    }

    func compile(_ text: String) throws -> ServerConfig {
        try ConfigCompiler.compile(try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: text))
    }

    func error(_ text: String) -> ConfigError? { configError { _ = try compile(text) } }

    static let inspectors = """
            listener_filters:
            - name: envoy.filters.listener.original_dst
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst}
            - name: envoy.filters.listener.http_inspector
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector}
        """

    @Test func istioInboundCompiles() throws {
        let config = try compile(yaml(chains: [
            "{destination_port: 8080, application_protocols: [http/1.1, h2c]}",
            "{destination_port: 8080}",
            "{application_protocols: [http/1.1, h2c]}",
            "{}",
        ], listenerExtra: Self.inspectors + "\n    listener_filters_timeout: 0.25s\n    continue_on_listener_filters_timeout: true"))
        let listener = config.listeners[0]
        #expect(listener.listenerFilters == [.originalDestination, .httpInspector])
        #expect(listener.restoresOriginalDestination && listener.inspectsData)
        #expect(listener.listenerFiltersTimeoutMilliseconds == 250)
        #expect(listener.continueOnListenerFiltersTimeout)
        func chain(port: UInt16, alpn: [String]) -> String? {
            listener.filterChain(for: FilterChainMatchInput(
                localAddress: .ip("10.0.0.1", port: port), directRemoteAddress: .ip("10.0.0.2", port: 1),
                remoteAddress: .ip("10.0.0.2", port: 1), applicationProtocols: alpn))?.name
        }
        #expect(chain(port: 8080, alpn: ["h2c"]) == "c0")
        #expect(chain(port: 8080, alpn: []) == "c1")
        #expect(chain(port: 9090, alpn: ["http/1.1"]) == "c2")
        #expect(chain(port: 9090, alpn: ["http/1.0"]) == "c3")
    }

    @Test func listenerFilterTimeoutDefaults() throws {
        let listener = try compile(yaml(chains: ["{}"])).listeners[0]
        #expect(listener.listenerFiltersTimeoutMilliseconds == 15_000)
        #expect(!listener.continueOnListenerFiltersTimeout)
        #expect(listener.listenerFilters.isEmpty && !listener.inspectsData)
    }

    @Test func everyMatchFieldCompiles() throws {
        let listener = try compile(yaml(chains: ["""
            {destination_port: 80, prefix_ranges: [{address_prefix: 10.1.2.3, prefix_len: 8}, {address_prefix: "::1", prefix_len: 128}],
                  direct_source_prefix_ranges: [{address_prefix: 192.168.0.0, prefix_len: 16}], source_type: EXTERNAL,
                  source_prefix_ranges: [{address_prefix: 172.16.0.0, prefix_len: 40}], source_ports: [1000, 2000],
                  server_names: [Example.COM, "*.example.org"], transport_protocol: raw_buffer, application_protocols: [h2c]}
            """])).listeners[0]
        let match = listener.filterChains[0].match
        #expect(match.destinationPort == 80)
        #expect(match.destinationRanges == [CIDRRange("10.0.0.0", prefixLength: 8)!, CIDRRange("::1", prefixLength: 128)!])
        #expect(match.sourceRanges == [CIDRRange("172.16.0.0", prefixLength: 32)!])
        #expect(match.sourceType == .external)
        #expect(match.sourcePorts == [1000, 2000])
        #expect(match.serverNames == ["example.com", "*.example.org"])
        #expect(match.transportProtocol == "raw_buffer" && match.applicationProtocols == ["h2c"])
    }

    @Test func sameMatchTwiceIsRefusedWithEnvoysWords() {
        let e = error(yaml(chains: ["{destination_port: 80}", "{destination_port: 80}"]))
        #expect(e?.description == "static_resources.listeners[0].filter_chains[1]: filter chain 'c1' has the same matching rules defined as 'c0'")
    }

    @Test func overlappingMatchesAreRefused() {
        for pair in [
            ("{source_ports: [1, 2]}", "{source_ports: [2]}"),
            ("{prefix_ranges: [{address_prefix: 10.0.0.1, prefix_len: 8}]}", "{prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]}"),
            ("{server_names: [Example.com]}", "{server_names: [example.com]}"),
            ("{application_protocols: [h2c, http/1.1]}", "{application_protocols: [http/1.1]}"),
        ] {
            let e = error(yaml(chains: [pair.0, pair.1]))
            #expect(e?.description == "static_resources.listeners[0].filter_chains[1]: multiple filter chains with overlapping matching rules are defined")
        }
        // One chain listing a value twice overlaps itself.
        #expect(error(yaml(chains: ["{source_ports: [5, 5]}"]))?.reason == "multiple filter chains with overlapping matching rules are defined")
        // "No ranges" and an explicit 0.0.0.0/0 are different rules in Envoy.
        #expect(error(yaml(chains: ["{prefix_ranges: [{address_prefix: 0.0.0.0, prefix_len: 0}]}", "{}"])) == nil)
    }

    @Test func badValuesNameTheirPath() {
        let base = "static_resources.listeners[0].filter_chains[0].filter_chain_match"
        #expect(error(yaml(chains: ["{server_names: [\"a*.example.com\"]}"]))?.description
            == base + ".server_names[0]: partial wildcards are not supported in \"server_names\"")
        #expect(error(yaml(chains: ["{server_names: [\"*\"]}"]))?.path == base + ".server_names[0]")
        #expect(error(yaml(chains: ["{prefix_ranges: [{address_prefix: 10.0.0, prefix_len: 8}]}"]))?.description
            == base + ".prefix_ranges[0].address_prefix: malformed IP address: 10.0.0")
        #expect(error(yaml(chains: ["{prefix_ranges: [{address_prefix: \"::\", prefix_len: 129}]}"]))?.path
            == base + ".prefix_ranges[0].prefix_len")
        #expect(error(yaml(chains: ["{source_ports: [0]}"]))?.path == base + ".source_ports[0]")
        #expect(error(yaml(chains: ["{source_ports: [70000]}"]))?.path == base + ".source_ports[0]")
        #expect(error(yaml(chains: ["{destination_port: 0}"]))?.path == base + ".destination_port")
        let suffix = error(yaml(chains: ["{address_suffix: x}"]))
        #expect(suffix?.path == base + ".address_suffix" && suffix?.isUnsupported == true)
    }

    func tlsInspector(_ fields: String = "") -> String {
        yaml(chains: ["{}"], listenerExtra: """
                listener_filters:
                - name: envoy.filters.listener.tls_inspector
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector\(fields)}
            """)
    }

    @Test func tlsInspectorCompiles() throws {
        let defaults = try compile(tlsInspector())
        #expect(defaults.listeners[0].listenerFilters == [.tlsInspector(TLSInspectorConfig(maxClientHelloSize: 16384, closeOnParsingErrors: false))])
        #expect(defaults.listeners[0].inspectsData && defaults.listeners[0].hasTLSInspector)
        let set = try compile(tlsInspector(", max_client_hello_size: 1000, close_connection_on_client_hello_parsing_errors: true, "
            + "initial_read_buffer_size: 512, enable_ja3_fingerprinting: false, enable_ja4_fingerprinting: false"))
        #expect(set.listeners[0].listenerFilters == [.tlsInspector(TLSInspectorConfig(maxClientHelloSize: 1000, closeOnParsingErrors: true))])
    }

    /// Envoy 1.40's bounds (checked with `envoy --mode validate`), and the fingerprints Remora does not compute.
    @Test func tlsInspectorRefusals() throws {
        let path = "static_resources.listeners[0].listener_filters[0].typed_config"
        for size in [0, 255, 16385, 65536] {
            let e = error(tlsInspector(", max_client_hello_size: \(size)"))
            #expect(e?.path == path + ".max_client_hello_size", "\(size)")
            #expect(e?.reason == "value must be inside range (255, 16384]")
        }
        #expect(try compile(tlsInspector(", max_client_hello_size: 256")).listeners[0].listenerFilters
            == [.tlsInspector(TLSInspectorConfig(maxClientHelloSize: 256))])
        for size in [255, 65537] {
            #expect(error(tlsInspector(", initial_read_buffer_size: \(size)"))?.path == path + ".initial_read_buffer_size")
        }
        for field in ["enable_ja3_fingerprinting", "enable_ja4_fingerprinting"] {
            let e = error(tlsInspector(", \(field): true"))
            #expect(e?.path == path + "." + field)
            #expect(e?.isUnsupported == true)
        }
    }

    @Test func listenerFilterOptionsAreRefused() {
        let e = error(yaml(chains: ["{}"], listenerExtra: """
                listener_filters:
                - name: envoy.filters.listener.http_inspector
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector}
                  filter_disabled: {any_match: true}
            """))
        #expect(e?.path == "static_resources.listeners[0].listener_filters[0].filter_disabled")
    }
}
