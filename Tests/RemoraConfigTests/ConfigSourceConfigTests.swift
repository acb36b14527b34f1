import Foundation
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

    func ads(_ fields: String, envoyGrpc: String = "{cluster_name: xds}") throws -> GRPCSourceConfig? {
        try compile(Self.xdsCluster + """

        dynamic_resources:
          ads_config: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: \(envoyGrpc)}]\(fields)}
          cds_config: {ads: {}, resource_api_version: V3}
        """).dynamicResources?.ads
    }

    /// `envoy_grpc.retry_policy.retry_back_off` (max defaults to ten times the base, as Envoy's).
    @Test func retryBackOffOfTheStream() throws {
        let both = try ads("", envoyGrpc: "{cluster_name: xds, retry_policy: {retry_back_off: {base_interval: 0.2s, max_interval: 5s}}}")
        #expect(both?.retryBackOff == .init(baseMilliseconds: 200, maxMilliseconds: 5_000))
        let base = try ads("", envoyGrpc: "{cluster_name: xds, retry_policy: {num_retries: 3, retry_back_off: {base_interval: 0.2s}}}")
        #expect(base?.retryBackOff == .init(baseMilliseconds: 200, maxMilliseconds: 2_000))
        #expect(try ads("")?.retryBackOff == nil)
        let text = errorText(Self.xdsCluster + """

        dynamic_resources:
          ads_config:
            api_type: GRPC
            transport_api_version: V3
            grpc_services: [{envoy_grpc: {cluster_name: xds, retry_policy: {retry_back_off: {base_interval: 2s, max_interval: 1s}}}}]
        """)
        #expect(text.contains("dynamic_resources.ads_config.grpc_services[0].envoy_grpc.retry_policy.retry_back_off.max_interval"), "\(text)")
        #expect(text.contains("max_interval must be greater than or equal to the base_interval"), "\(text)")
    }

    /// `rate_limit_settings`: Envoy's defaults (100 tokens, 10 a second); a fill rate must be positive.
    @Test func rateLimitSettings() throws {
        #expect(try ads(", rate_limit_settings: {}")?.rateLimit == .init(maxTokens: 100, fillRatePerSecond: 10))
        #expect(try ads(", rate_limit_settings: {max_tokens: 5, fill_rate: 0.5}")?.rateLimit == .init(maxTokens: 5, fillRatePerSecond: 0.5))
        #expect(try ads("")?.rateLimit == nil)
        let text = errorText(Self.xdsCluster + """

        dynamic_resources:
          ads_config: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}], rate_limit_settings: {fill_rate: 0}}
        """)
        #expect(text.contains("dynamic_resources.ads_config.rate_limit_settings.fill_rate"), "\(text)")
    }

    /// Envoy 1.40 asks for V3 resources whatever `resource_api_version` says;
    /// the transport must be V3.
    @Test func resourceApiVersionIsReadAsV3() throws {
        let config = try compile(Self.xdsCluster + """

        dynamic_resources:
          ads_config: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}
          lds_config: {ads: {}, resource_api_version: V2}
        """)
        #expect(config.dynamicResources?.lds?.kind == .ads)
        let text = errorText(Self.xdsCluster + """

        dynamic_resources:
          ads_config: {api_type: GRPC, transport_api_version: V2, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}
        """)
        #expect(text.contains("dynamic_resources.ads_config.transport_api_version"), "\(text)")
    }

    /// `initial_metadata` goes on the stream's head; `timeout` is accepted
    /// (Envoy opens xDS streams without a deadline).
    @Test func initialMetadataAndTimeout() throws {
        let yaml = Self.xdsCluster + """

        dynamic_resources:
          ads_config:
            api_type: GRPC
            transport_api_version: V3
            grpc_services:
            - envoy_grpc: {cluster_name: xds}
              timeout: 1s
              initial_metadata: [{key: X-Token, value: abc}]
        """
        #expect(try compile(yaml).dynamicResources?.ads?.initialMetadata == [.init(name: "x-token", value: "abc")])
        let text = errorText(yaml.replacingOccurrences(of: "key: X-Token", with: "key: \":path\""))
        #expect(text.contains("dynamic_resources.ads_config.grpc_services[0].initial_metadata[0].key"), "\(text)")
    }
}
