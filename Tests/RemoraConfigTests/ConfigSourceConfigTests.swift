import Testing
@testable import RemoraConfig
import RemoraAPI

@Suite struct ConfigSourceConfigTests {
    static let xdsCluster = """
    static_resources:
      clusters:
      - name: xds
        type: STATIC
        typed_extension_protocol_options:
          envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
            "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
            explicit_http_config: {http2_protocol_options: {}}
        load_assignment:
          cluster_name: xds
          endpoints:
          - lb_endpoints:
            - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 18000}}}
    """

    func compile(_ yaml: String) throws -> ServerConfig {
        try ConfigCompiler.compile(try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: yaml))
    }

    func errorText(_ yaml: String) -> String {
        do {
            _ = try compile(yaml)
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func adsAndPathSources() throws {
        let config = try compile(Self.xdsCluster + """

        dynamic_resources:
          ads_config:
            api_type: DELTA_GRPC
            transport_api_version: V3
            set_node_on_first_message_only: true
            grpc_services: [{envoy_grpc: {cluster_name: xds}}]
          cds_config: {ads: {}, resource_api_version: V3, initial_fetch_timeout: 2s}
          lds_config:
            path_config_source: {path: /etc/remora/lds.yaml, watched_directory: {path: /etc/remora}}
        """)
        let dynamic = try #require(config.dynamicResources)
        #expect(dynamic.ads == GRPCSourceConfig(delta: true, clusterName: "xds", setNodeOnFirstMessageOnly: true))
        #expect(dynamic.cds == ConfigSourceConfig(kind: .ads, initialFetchTimeoutMilliseconds: 2000))
        #expect(dynamic.lds == ConfigSourceConfig(kind: .path("/etc/remora/lds.yaml", watchedDirectory: "/etc/remora")))
    }

    /// Envoy's 0 (unset) means no limit; Remora bounds it, and takes a set value as given.
    @Test func maxReceiveMessageLengthHasABoundedDefault() throws {
        func limit(_ envoyGrpc: String) throws -> Int? {
            try compile(Self.xdsCluster + """

            dynamic_resources:
              ads_config: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: \(envoyGrpc)}]}
              cds_config: {ads: {}, resource_api_version: V3}
            """).dynamicResources?.ads?.maxReceiveMessageBytes
        }
        #expect(try limit("{cluster_name: xds}") == GRPCSourceConfig.defaultMaxReceiveMessageBytes)
        #expect(try limit("{cluster_name: xds, max_receive_message_length: 0}") == GRPCSourceConfig.defaultMaxReceiveMessageBytes)
        #expect(try limit("{cluster_name: xds, max_receive_message_length: 4096}") == 4096)
        #expect(try limit("{cluster_name: xds, max_receive_message_length: 4294967295}") == 4_294_967_295)
    }

    @Test func adsNeedsAdsConfig() {
        let text = errorText("dynamic_resources: {lds_config: {ads: {}}}")
        #expect(text.contains("dynamic_resources.lds_config.ads"), "\(text)")
    }

    @Test func grpcServiceMustNameAStaticCluster() {
        let text = errorText("""
        dynamic_resources:
          ads_config: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: nope}}]}
        """)
        #expect(text.contains("dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name"), "\(text)")
    }

    @Test func unsupportedApiTypeIsRefusedWithItsPath() {
        let text = errorText(Self.xdsCluster + """

        dynamic_resources:
          ads_config: {api_type: REST, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}
        """)
        #expect(text.contains("dynamic_resources.ads_config.api_type"), "\(text)")
    }

    @Test func googleGrpcIsRefused() {
        let text = errorText(Self.xdsCluster + """

        dynamic_resources:
          ads_config:
            api_type: GRPC
            transport_api_version: V3
            grpc_services: [{google_grpc: {target_uri: "127.0.0.1:1", stat_prefix: x}}]
        """)
        #expect(text.contains("dynamic_resources.ads_config.grpc_services[0].google_grpc"), "\(text)")
    }
}
