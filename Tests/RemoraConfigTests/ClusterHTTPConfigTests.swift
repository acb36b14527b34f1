import Foundation
import Testing
@testable import RemoraConfig
import RemoraAPI

@Suite struct ClusterHTTPConfigTests {
    func cluster(_ extra: String) throws -> ClusterConfig {
        let yaml = """
        static_resources:
          clusters:
          - name: c
            type: STATIC
        \(extra.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        """
        return try ConfigCompiler.compile(try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: yaml)).clusters[0]
    }

    func error(_ extra: String) -> ConfigError? {
        do {
            _ = try cluster(extra)
            return nil
        } catch let e as ConfigError {
            return e
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    static let optionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    static let optionsPath = "static_resources.clusters[0].typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]"

    func options(_ body: String) -> String {
        """
        typed_extension_protocol_options:
          \(Self.optionsKey):
            "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        \(body.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        """
    }

    @Test func defaults() throws {
        let c = try cluster("connect_timeout: 1s")
        #expect(c.http == UpstreamHTTPConfig())
        #expect(c.http.protocolSelection == .http1)
        #expect(c.http.common.idleTimeoutMilliseconds == 3_600_000)
        #expect(c.http.common.maxHeadersCount == 100)
        #expect(c.http.common.maxRequestsPerConnection == 0)
        #expect(c.http.common.maxResponseHeadersKB == 60)
        #expect(c.circuitBreakers.defaultPriority == CircuitBreakerThresholds(maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3))
        #expect(c.circuitBreakers.highPriority == c.circuitBreakers.defaultPriority)
    }

    @Test func explicitHTTP1() throws {
        let c = try cluster(options("""
        common_http_protocol_options: {idle_timeout: 30s, max_requests_per_connection: 10, max_headers_count: 64, max_response_headers_kb: 96}
        explicit_http_config: {http_protocol_options: {send_fully_qualified_url: true}}
        """))
        #expect(c.http.protocolSelection == .http1)
        #expect(c.http.common.idleTimeoutMilliseconds == 30_000)
        #expect(c.http.common.maxRequestsPerConnection == 10)
        #expect(c.http.common.maxHeadersCount == 64)
        #expect(c.http.common.maxResponseHeadersKB == 96)
        #expect(c.http.http1.sendFullyQualifiedURL)
    }

    @Test func useDownstream() throws {
        let c = try cluster(options("use_downstream_protocol_config: {}"))
        #expect(c.http.protocolSelection == .useDownstreamProtocol)
        let disabled = try cluster(options("common_http_protocol_options: {idle_timeout: 0s}\nuse_downstream_protocol_config: {}"))
        #expect(disabled.http.common.idleTimeoutMilliseconds == nil)
    }

    @Test func http2Upstream() throws {
        let explicit = try cluster(options("explicit_http_config: {http2_protocol_options: {max_concurrent_streams: 50}}"))
        #expect(explicit.http.protocolSelection == .http2)
        #expect(explicit.http.http2?.maxConcurrentStreams == 50)
        #expect(explicit.http.usesHTTP2(downstreamHTTP2: false))
        let deprecated = try cluster("http2_protocol_options: {}")
        #expect(deprecated.http.protocolSelection == .http2)
        let downstream = try cluster(options("use_downstream_protocol_config: {http2_protocol_options: {}}"))
        #expect(downstream.http.usesHTTP2(downstreamHTTP2: true))
        #expect(!downstream.http.usesHTTP2(downstreamHTTP2: false))
        // Without HTTP/2 options there, HTTP/2 requests go upstream as HTTP/1.1.
        #expect(!(try cluster(options("use_downstream_protocol_config: {}"))).http.usesHTTP2(downstreamHTTP2: true))
        let bad = error(options("explicit_http_config: {http2_protocol_options: {max_concurrent_streams: 0}}"))
        #expect(bad?.path == Self.optionsPath + ".explicit_http_config.http2_protocol_options.max_concurrent_streams")
    }

    @Test func refusals() {
        for field in ["max_connection_duration: 60s", "max_stream_duration: 5s"] {
            let e = error(options("common_http_protocol_options: {\(field)}\nexplicit_http_config: {http_protocol_options: {}}"))
            #expect(e?.isUnsupported == true, "\(field)")
        }
        // auto_config needs a transport that speaks ALPN (Envoy's check).
        let auto = error(options("auto_config: {http_protocol_options: {}}"))
        #expect(auto?.path == "static_resources.clusters[0].transport_socket")
        #expect(auto?.isUnsupported == false)
        #expect(error(options("auto_config: {http3_protocol_options: {}}"))?.isUnsupported == true)
        let header = error(options("""
        explicit_http_config: {http_protocol_options: {}}
        upstream_http_protocol_options: {auto_sni: true, override_auto_sni_header: "bad header"}
        """))
        #expect(header?.path == Self.optionsPath + ".upstream_http_protocol_options.override_auto_sni_header")
        #expect(error(options("common_http_protocol_options: {}"))?.path == Self.optionsPath)
        let tcp = error("""
        typed_extension_protocol_options:
          envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions:
            "@type": type.googleapis.com/envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions
        """)
        #expect(tcp?.path == "static_resources.clusters[0].typed_extension_protocol_options[\"envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions\"]")
        #expect(tcp?.isUnsupported == true)
        #expect(error("http2_protocol_options: {allow_metadata: true}")?.isUnsupported == true)
    }

    @Test func upstreamTLSNames() throws {
        let http = try cluster(options("""
        explicit_http_config: {http_protocol_options: {}}
        upstream_http_protocol_options: {auto_sni: true, auto_san_validation: true, override_auto_sni_header: X-SNI}
        """)).http
        #expect(http.upstreamTLSNames == UpstreamTLSNames(autoSNI: true, autoSANValidation: true, overrideHeader: "x-sni"))
    }

    @Test func deprecatedMaxRequestsPerConnection() throws {
        #expect(try cluster("max_requests_per_connection: 7").http.common.maxRequestsPerConnection == 7)
        let both = error("max_requests_per_connection: 7\n" + options("""
        common_http_protocol_options: {max_requests_per_connection: 10}
        explicit_http_config: {http_protocol_options: {}}
        """))
        #expect(both?.reason == "Only one of max_requests_per_connection from Cluster or HttpProtocolOptions can be specified")
    }

    @Test func circuitBreakers() throws {
        let c = try cluster("""
        circuit_breakers:
          thresholds:
          - {max_connections: 10, max_pending_requests: 20, max_requests: 30, max_retries: 1, track_remaining: true}
          - {priority: HIGH, max_connections: 100}
          - {priority: DEFAULT, max_connections: 999}
        """)
        #expect(c.circuitBreakers.defaultPriority == CircuitBreakerThresholds(maxConnections: 10, maxPendingRequests: 20, maxRequests: 30, maxRetries: 1, trackRemaining: true))
        #expect(c.circuitBreakers.thresholds(for: .high).maxConnections == 100)
        #expect(c.circuitBreakers.thresholds(for: .high).maxRetries == 3)
        let budget = error("circuit_breakers: {thresholds: [{retry_budget: {}}]}")
        #expect(budget?.path == "static_resources.clusters[0].circuit_breakers.thresholds[0].retry_budget")
        #expect(error("circuit_breakers: {per_host_thresholds: [{max_connections: 1}]}")?.isUnsupported == true)
        // Limiting the number of connection pools is not implemented: refused, not ignored.
        let pools = error("circuit_breakers: {thresholds: [{max_connection_pools: 2}]}")
        #expect(pools?.isUnsupported == true)
        #expect(pools?.path == "static_resources.clusters[0].circuit_breakers.thresholds[0].max_connection_pools")
    }
}
