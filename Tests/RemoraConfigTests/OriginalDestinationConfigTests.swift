import Testing
@testable import RemoraConfig
import RemoraAPI
import RemoraCore

/// `original_dst` listener filter, `use_original_dst`, `bind_to_port`,
/// ORIGINAL_DST clusters and `upstream_bind_config`: what compiles, and
/// what is refused with Envoy 1.40's wording (checked with `envoy --mode validate`).
@Suite struct OriginalDestinationConfigTests {
    static let originalDstFilter = """
        - name: envoy.filters.listener.original_dst
          typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst}
    """

    func yaml(listenerExtra: String = "", listenerFilters: String? = originalDstFilter, clusterExtra: String = "",
              type: String = "ORIGINAL_DST", lbPolicy: String = "CLUSTER_PROVIDED") -> String {
        """
        static_resources:
          listeners:
          - name: virtualOutbound
            address: {socket_address: {address: 0.0.0.0, port_value: 15001}}
            use_original_dst: true
        \(listenerFilters.map { "    listener_filters:\n" + $0 } ?? "")
        \(listenerExtra)
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: p, cluster: pass}
          - name: target
            address: {socket_address: {address: 10.0.0.2, port_value: 8080}}
            bind_to_port: false
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: pass}
          clusters:
          - name: pass
            type: \(type)
            lb_policy: \(lbPolicy)
            connect_timeout: 1s
        \(clusterExtra)
        """
    }

    func compile(_ text: String) throws -> ServerConfig {
        try ConfigCompiler.compile(try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: text))
    }

    func error(_ text: String) -> ConfigError? { configError { _ = try compile(text) } }

    @Test func listenerFlagsCompile() throws {
        let config = try compile(yaml())
        let outbound = config.listeners[0]
        #expect(outbound.restoresOriginalDestination)
        #expect(outbound.useOriginalDestination)
        #expect(outbound.bindToPort)
        let target = config.listeners[1]
        #expect(!target.restoresOriginalDestination && !target.useOriginalDestination && !target.bindToPort)
        #expect(target.address == SocketAddress.ip("10.0.0.2", port: 8080))
    }

    @Test func withoutTheFilterNothingIsRestored() throws {
        let config = try compile(yaml(listenerFilters: nil))
        #expect(!config.listeners[0].restoresOriginalDestination)
        #expect(config.listeners[0].useOriginalDestination)
    }

    @Test func otherListenerFiltersAreRefusedWithTheirPath() {
        // A message Remora knows, but not a listener filter.
        let notAFilter = """
                - name: envoy.filters.listener.proxy_protocol
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy}
            """
        let e = error(yaml(listenerFilters: Self.originalDstFilter + "\n" + notAFilter))
        #expect(e?.path == "static_resources.listeners[0].listener_filters[1].typed_config")
        #expect(e?.isUnsupported == true)
        #expect(e?.reason == "unsupported listener filter type envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
                "\(String(describing: e))")
    }

    @Test func listenerFilterWithoutTypedConfigIsRefused() {
        let e = error(yaml(listenerFilters: "    - name: envoy.filters.listener.original_dst"))
        #expect(e?.path == "static_resources.listeners[0].listener_filters[0].typed_config")
    }

    @Test func originalDestinationClusterCompiles() throws {
        let config = try compile(yaml(clusterExtra: """
                cleanup_interval: 2s
                original_dst_lb_config: {use_http_header: true, http_header_name: X-Dst}
                upstream_bind_config: {source_address: {address: 127.0.0.6, port_value: 0}}
            """))
        let cluster = config.clusters[0]
        #expect(cluster.loadBalancing == .clusterProvided)
        #expect(cluster.discovery == .originalDestination(.init(useHTTPHeader: true, headerName: "x-dst", cleanupIntervalMilliseconds: 2000)))
        #expect(cluster.sourceAddress == SocketAddress.ip("127.0.0.6", port: 0))
    }

    @Test func originalDestinationDefaults() throws {
        let cluster = try compile(yaml()).clusters[0]
        #expect(cluster.discovery == .originalDestination(.init()))
        #expect(cluster.sourceAddress == nil)
        if case .originalDestination(let options) = cluster.discovery {
            #expect(options.headerName == "x-envoy-original-dst-host")
            #expect(options.cleanupIntervalMilliseconds == 5000)
            #expect(!options.useHTTPHeader)
        }
    }

    @Test func originalDestinationNeedsClusterProvided() {
        let e = error(yaml(lbPolicy: "ROUND_ROBIN"))
        #expect(e?.path == "static_resources.clusters[0].lb_policy")
        #expect(e?.reason == "cluster: LB policy ROUND_ROBIN is not valid for Cluster type ORIGINAL_DST. "
            + "Only 'CLUSTER_PROVIDED' is allowed with cluster type 'ORIGINAL_DST'")
    }

    @Test func clusterProvidedNeedsOriginalDestination() {
        let e = error(yaml(clusterExtra: """
                load_assignment: {cluster_name: pass}
            """, type: "STATIC"))
        #expect(e?.path == "static_resources.clusters[0].lb_policy")
        #expect(e?.reason.hasPrefix("cluster manager: cluster provided LB specified but cluster 'pass' did not provide one") == true)
    }

    @Test func originalDestinationRefusesALoadAssignment() {
        let e = error(yaml(clusterExtra: """
                load_assignment: {cluster_name: pass}
            """))
        #expect(e?.path == "static_resources.clusters[0].load_assignment")
        #expect(e?.reason == "ORIGINAL_DST clusters must have no load assignment configured")
    }

    @Test func unimplementedOriginalDestinationOptionsAreRefused() {
        let e = error(yaml(clusterExtra: """
                original_dst_lb_config: {upstream_port_override: 80}
            """))
        #expect(e?.path == "static_resources.clusters[0].original_dst_lb_config.upstream_port_override")
        #expect(e?.isUnsupported == true)
        let zero = error(yaml(clusterExtra: "    cleanup_interval: 0s"))
        #expect(zero?.path == "static_resources.clusters[0].cleanup_interval")
    }

    @Test func bindConfigChecks() {
        let noPort = error(yaml(clusterExtra: "    upstream_bind_config: {source_address: {address: 127.0.0.6}}"))
        #expect(noPort?.path == "static_resources.clusters[0].upstream_bind_config.source_address.port_value")
        let bad = error(yaml(clusterExtra: "    upstream_bind_config: {source_address: {address: foo, port_value: 0}}"))
        #expect(bad?.reason == "malformed IP address: foo")
        let freebind = error(yaml(clusterExtra: "    upstream_bind_config: {freebind: true}"))
        #expect(freebind?.path == "static_resources.clusters[0].upstream_bind_config.freebind")
        #expect(freebind?.isUnsupported == true)
        #expect(error(yaml(clusterExtra: "    upstream_bind_config: {}")) == nil)
    }

    @Test func extraSourceAddressIsPickedByTheHostFamily() throws {
        for field in ["extra_source_addresses: [{address: {address: '::6', port_value: 0}}]",
                      "additional_source_addresses: [{address: '::6', port_value: 0}]"] {
            let cluster = try compile(yaml(clusterExtra: """
                    upstream_bind_config: {source_address: {address: 127.0.0.6, port_value: 0}, \(field)}
                """)).clusters[0]
            let v4 = SocketAddress.ip("127.0.0.6", port: 0), v6 = SocketAddress.ip("::6", port: 0)
            #expect(cluster.sourceAddress == v4 && cluster.extraSourceAddress == v6)
            #expect(cluster.sourceAddress(for: SocketAddress.ip("10.0.0.1", port: 80)!) == v4)
            #expect(cluster.sourceAddress(for: SocketAddress.ip("fd00::1", port: 80)!) == v6)
        }
    }

    /// Envoy 1.40's messages for the extra source address rules.
    @Test func extraSourceAddressChecks() {
        func bindError(_ bind: String) -> ConfigError? {
            error(yaml(clusterExtra: "    upstream_bind_config: {\(bind)}"))
        }
        let source = "source_address: {address: 127.0.0.6, port_value: 0}"
        let same = bindError("\(source), extra_source_addresses: [{address: {address: 127.0.0.7, port_value: 0}}]")
        #expect(same?.reason.hasPrefix("Cluster pass's upstream binding config has two same IP version source addresses.") == true)
        #expect(same?.path == "static_resources.clusters[0].upstream_bind_config.extra_source_addresses[0]")
        let two = bindError("\(source), extra_source_addresses: [{address: {address: '::6', port_value: 0}}, {address: {address: '::7', port_value: 0}}]")
        #expect(two?.reason.hasPrefix("Cluster pass's upstream binding config has more than one extra/additional source addresses.") == true)
        let both = bindError("\(source), extra_source_addresses: [{address: {address: '::6', port_value: 0}}], "
            + "additional_source_addresses: [{address: '::6', port_value: 0}]")
        #expect(both?.reason == "Can't specify both `extra_source_addresses` and `additional_source_addresses` in the Cluster pass's upstream binding config")
        let noSource = bindError("extra_source_addresses: [{address: {address: '::6', port_value: 0}}]")
        #expect(noSource?.reason.hasSuffix("Extra/additional addresses cannot be specified if source_address is not set.") == true)
        let options = bindError("\(source), extra_source_addresses: [{address: {address: '::6', port_value: 0}, socket_options: {}}]")
        #expect(options?.path == "static_resources.clusters[0].upstream_bind_config.extra_source_addresses[0].socket_options")
        #expect(options?.isUnsupported == true)
    }

    @Test func additionalAddressesCompile() throws {
        let listener = try compile(yaml(listenerExtra: """
                additional_addresses:
                - address: {socket_address: {address: '::', port_value: 15001, ipv4_compat: true}}
            """)).listeners[0]
        #expect(listener.bindAddresses == [
            .init(address: SocketAddress.ip("0.0.0.0", port: 15001)!, ipv4Compat: false),
            .init(address: SocketAddress.ip("::", port: 15001)!, ipv4Compat: true),
        ])
        let pipe = error(yaml(listenerExtra: """
                additional_addresses:
                - address: {pipe: {path: /tmp/x.sock}}
            """))
        #expect(pipe?.path == "static_resources.listeners[0].additional_addresses[0]" && pipe?.isUnsupported == true)
        let options = error(yaml(listenerExtra: """
                additional_addresses:
                - address: {socket_address: {address: '::', port_value: 15001}}
                  socket_options: {}
            """))
        #expect(options?.path == "static_resources.listeners[0].additional_addresses[0].socket_options")
    }
}
