import Foundation
import Testing
@testable import RemoraConfig
import RemoraAPI
import RemoraCore
import SwiftProtobuf

@Suite struct BootstrapLoaderTests {
    static let good = """
    admin:
      address: {socket_address: {address: 127.0.0.1, port_value: 9901}}
    static_resources:
      listeners:
      - name: tcp
        address: {socket_address: {address: 127.0.0.1, port_value: 10000}}
        filter_chains:
        - filters:
          - name: envoy.filters.network.tcp_proxy
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
              stat_prefix: "yes"
              cluster: backend
              idle_timeout: 1.5s
              max_connect_attempts: 3
      clusters:
      - name: backend
        connect_timeout: 0.25s
        type: STRICT_DNS
        dns_lookup_family: V4_ONLY
        load_assignment:
          cluster_name: backend
          endpoints:
          - lb_endpoints:
            - endpoint: {address: {socket_address: {address: localhost, port_value: 8080}}}
    """

    func compile(_ yaml: String) throws -> ServerConfig {
        let bootstrap = try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: yaml)
        return try ConfigCompiler.compile(bootstrap)
    }

    func error(_ yaml: String) -> ConfigError? {
        do {
            _ = try compile(yaml)
            return nil
        } catch let e as ConfigError {
            return e
        } catch {
            Issue.record("unexpected error type \(error)")
            return nil
        }
    }

    @Test func goodConfigCompiles() throws {
        let config = try compile(Self.good)
        #expect(config.admin?.address == .v4(0x7f00_0001, port: 9901))
        #expect(config.listeners.count == 1)
        let listener = config.listeners[0]
        #expect(listener.statPrefix == "127.0.0.1_10000")
        let proxy = try #require(listener.filterChain(forDestinationPort: 10000)?.tcpProxy)
        // YAML 1.1 would read `yes` as a boolean; a string field keeps it a string.
        #expect(proxy == TcpProxyConfig(statPrefix: "yes", cluster: "backend", idleTimeoutMilliseconds: 1500, maxConnectAttempts: 3))
        let cluster = try #require(config.cluster(named: "backend"))
        #expect(cluster.connectTimeoutMilliseconds == 250)
        #expect(cluster.discovery == .strictDNS([DNSEndpoint(host: "localhost", port: 8080)], family: .v4Only, refreshMilliseconds: 5000))
    }

    @Test func jsonConfigLoads() throws {
        let json = """
        {"static_resources": {"clusters": [{"name": "c", "type": "STATIC", "load_assignment": {"cluster_name": "c",
          "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socketAddress": {"address": "::1", "portValue": 80}}}}]}]}}]}}
        """
        let config = try compile(json)
        #expect(config.clusters[0].discovery == .staticHosts([.v6(high: 0, low: 1, port: 80)]))
    }

    @Test func unknownFieldNamesItsPath() {
        let e = error(Self.good.replacingOccurrences(of: "connect_timeout: 0.25s", with: "connect_timeout: 0.25s\n    bogus: 1"))
        #expect(e?.description == "static_resources.clusters[0].bogus: unknown field")
    }

    /// Found by the bootstrap fuzzer: an empty key was refused with an empty path.
    /// Found by the bootstrap fuzzer (seed 513781347373212089): a key that
    /// is an object or a list is named under its parent; at the top, the
    /// error is about the document.
    @Test func nonStringKeysAreNamed() {
        let nested = error("static_resources: {? [a]: 1}")
        #expect(nested?.path == "static_resources[\"<a list>\"]" && nested?.reason == "object keys must be strings")
        let top = error("{? {a: 1}: 2}")
        #expect(top?.path == "" && top?.reason == "object keys must be strings")
    }

    @Test func emptyKeyNamesItsPath() {
        let e = error("{\"admin\": {}, \"\": {\"listeners\": []}}")
        #expect(e?.description == "[\"\"]: unknown field")
        let nested = error(Self.good.replacingOccurrences(of: "connect_timeout: 0.25s", with: "connect_timeout: 0.25s\n    \"\": 1"))
        #expect(nested?.description == "static_resources.clusters[0][\"\"]: unknown field")
    }

    @Test func typoInsideTypedConfigNamesItsPath() {
        let e = error(Self.good.replacingOccurrences(of: "cluster: backend\n", with: "clustr: backend\n"))
        #expect(e?.description == "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.clustr: unknown field")
    }

    @Test func unsupportedExtensionTypeIsRefused() {
        let yaml = Self.good.replacingOccurrences(
            of: "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
            with: "envoy.extensions.filters.network.redis_proxy.v3.RedisProxy")
        let e = error(yaml)
        #expect(e?.description == "static_resources.listeners[0].filter_chains[0].filters[0].typed_config: unsupported type envoy.extensions.filters.network.redis_proxy.v3.RedisProxy")
    }

    @Test func knownButUnimplementedTypeIsRefused() {
        let yaml = """
        static_resources:
          listeners:
          - address: {socket_address: {address: 127.0.0.1, port_value: 1}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.rbac
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
                  stat_prefix: x
        """
        let e = error(yaml)
        #expect(e?.description == "static_resources.listeners[0].filter_chains[0].filters[0].typed_config: unsupported type envoy.extensions.filters.network.rbac.v3.RBAC")
    }

    @Test func unimplementedFieldIsRefusedNotIgnored() {
        let e = error(Self.good.replacingOccurrences(of: "type: STRICT_DNS", with: "type: STRICT_DNS\n    health_checks: [{timeout: 1s, interval: 1s, tcp_health_check: {}}]"))
        #expect(e?.path == "static_resources.clusters[0].health_checks")
        #expect(e?.isUnsupported == true)
    }

    @Test func badValuesNameTheirPath() {
        #expect(error(Self.good.replacingOccurrences(of: "0.25s", with: "quarter"))?.path == "static_resources.clusters[0].connect_timeout")
        #expect(error(Self.good.replacingOccurrences(of: "V4_ONLY", with: "V5_ONLY"))?.path == "static_resources.clusters[0].dns_lookup_family")
        #expect(error(Self.good.replacingOccurrences(of: "port_value: 9901", with: "port_value: 99999"))?.path == "admin.address.socket_address.port_value")
        #expect(error(Self.good.replacingOccurrences(of: "port_value: 9901", with: "port_value: nine"))?.path == "admin.address.socket_address.port_value")
        #expect(error(Self.good.replacingOccurrences(of: "type: STRICT_DNS", with: "type: STATIC"))?.path
            == "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address")
        #expect(error("static_resources: [1, 2]")?.path == "static_resources")
        #expect(error("admin: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}, address: {}}") != nil)
        #expect(error("key: [unclosed") != nil)
    }

    @Test func outOfRangePortSaysOutOfRange() {
        let listener = error(Self.good.replacingOccurrences(of: "port_value: 10000", with: "port_value: 70000"))
        #expect(listener?.path == "static_resources.listeners[0].address.socket_address.port_value")
        #expect(listener?.reason == "port 70000 out of range (at most 65535)")
        let endpoint = error(Self.good.replacingOccurrences(of: "port_value: 8080", with: "port_value: 70000"))
        #expect(endpoint?.path
            == "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value")
        #expect(endpoint?.reason == "port 70000 out of range (at most 65535)")
        let missing = error(Self.good.replacingOccurrences(of: ", port_value: 8080", with: ""))
        #expect(missing?.reason == "required field is missing")
    }

    /// Envoy refuses an empty bootstrap ("Unable to convert YAML as JSON").
    @Test func emptyDocumentIsRefused() {
        for text in ["", "\n", "# only a comment\n", "~", "null", "---\n"] {
            #expect(error(text)?.reason == "the document is empty (expected a YAML or JSON object)", "\(text.debugDescription)")
        }
        #expect(error("{}") == nil)
    }

    @Test func unreadableFileSaysWhy() throws {
        let directory = FileManager.default.temporaryDirectory.path
        #expect(throws: ConfigError.io("cannot read config file '\(directory)': is a directory")) {
            try BootstrapLoader.load(path: directory)
        }
        #expect(throws: ConfigError.io("cannot read config file '/nonexistent/remora.yaml': no such file or directory")) {
            try BootstrapLoader.load(path: "/nonexistent/remora.yaml")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("remora-latin1-\(getpid()).yaml")
        try Data([0x61, 0x3a, 0x20, 0xe9, 0x0a]).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: ConfigError.io("cannot read config file '\(file.path)': not valid UTF-8")) {
            try BootstrapLoader.load(path: file.path)
        }
    }

    /// Swift's number parsers take forms proto3 JSON refuses; the loader
    /// writes them canonically instead of failing without a field path.
    @Test func numbersAreWrittenCanonically() throws {
        for (text, port) in [("-0", 0), ("+9902", 9902), ("009903", 9903)] {
            let config = try compile(Self.good.replacingOccurrences(of: "port_value: 9901", with: "port_value: \(text)"))
            #expect(config.admin?.address.port == UInt16(port), "\(text)")
        }
        for (text, value) in [("0x10", 16.0), ("-.5", -0.5), ("+1", 1.0), ("1e2", 100.0)] {
            #expect(try BootstrapLoader.decode(Envoy_Type_V3_Percent.self, yaml: "value: \(text)").value == value, "\(text)")
        }
    }

    /// A few hundred bytes of nested aliases stand for 10^8 values; the walk
    /// once expanded them all (minutes, gigabytes). Now: an error, at once.
    @Test func aliasBombIsRefusedQuickly() {
        var lines = ["node:", "  id: n", "  metadata:", #"    a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]"#]
        for i in 1..<8 {
            lines.append("    a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ",") + "]")
        }
        let clock = ContinuousClock()
        let start = clock.now
        let e = error(lines.joined(separator: "\n"))
        #expect(e?.reason == "the document is too large once its YAML aliases are expanded")
        #expect(e?.path.hasPrefix("node.metadata.a") == true)
        #expect(clock.now - start < .seconds(10))
        // Aliases in ordinary use still load (see mergeKeysAndAnchors).
        #expect(error(lines.prefix(5).joined(separator: "\n")) == nil)
    }

    @Test func oneofConflictIsRefused() {
        let e = error("admin: {address: {socket_address: {address: 127.0.0.1, port_value: 1}, pipe: {path: /tmp/x}}}")
        #expect(e?.path == "admin.address.pipe")
    }

    @Test func unknownTypeURLIsRefused() {
        let yaml = Self.good.replacingOccurrences(of: "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", with: "envoy.nope.v3.Nope")
        #expect(error(yaml)?.description == "static_resources.listeners[0].filter_chains[0].filters[0].typed_config: unsupported type envoy.nope.v3.Nope")
    }

    @Test func duplicateFilterChainMatchIsRefused() {
        let yaml = """
        static_resources:
          listeners:
          - address: {socket_address: {address: 127.0.0.1, port_value: 1}}
            filter_chains:
            - filters: []
            - filters: []
        """
        #expect(error(yaml)?.path == "static_resources.listeners[0].filter_chains[1]")
        #expect(error(yaml)?.reason == "filter chain '' has the same matching rules defined as ''")
    }

    @Test func filterChainSelectionByDestinationPort() throws {
        let yaml = """
        static_resources:
          listeners:
          - address: {socket_address: {address: 127.0.0.1, port_value: 1}}
            filter_chains:
            - name: any
            - name: eighty
              filter_chain_match: {destination_port: 80}
        """
        let listener = try compile(yaml).listeners[0]
        #expect(listener.filterChain(forDestinationPort: 80)?.name == "eighty")
        #expect(listener.filterChain(forDestinationPort: 81)?.name == "any")
    }

    @Test func mergeKeysAndAnchors() throws {
        let yaml = """
        static_resources:
          clusters:
          - &base {name: a, connect_timeout: 2s, type: STATIC}
          - <<: *base
            name: b
        """
        let config = try compile(yaml)
        #expect(config.clusters.map(\.name) == ["a", "b"])
        #expect(config.clusters[1].connectTimeoutMilliseconds == 2000)
    }

    @Test func durationParsing() {
        #expect(SchemaJSONWriter.parseDuration("1.5s") == Google_Protobuf_Duration(seconds: 1, nanos: 500_000_000))
        #expect(SchemaJSONWriter.parseDuration("0s") == Google_Protobuf_Duration())
        #expect(SchemaJSONWriter.parseDuration("-2.25s") == Google_Protobuf_Duration(seconds: -2, nanos: -250_000_000))
        #expect(SchemaJSONWriter.parseDuration("1.0000000001s") == nil)
        #expect(SchemaJSONWriter.parseDuration("1m") == nil)
        #expect(SchemaJSONWriter.parseDuration("s") == nil)
        #expect(SchemaJSONWriter.parseDuration("+1s") == nil)
    }

    /// The protobuf range ends at 315,576,000,000 s; its nanoseconds do not
    /// fit an `Int64`, which once trapped the YAML reader.
    @Test func durationParsingAtTheProtobufLimitDoesNotOverflow() {
        #expect(SchemaJSONWriter.parseDuration("315576000000.999999999s")
            == Google_Protobuf_Duration(seconds: 315_576_000_000, nanos: 999_999_999))
        #expect(SchemaJSONWriter.parseDuration("-315576000000s") == Google_Protobuf_Duration(seconds: -315_576_000_000, nanos: 0))
        #expect(SchemaJSONWriter.parseDuration("315576000001s") == nil)
        #expect(SchemaJSONWriter.parseDuration("99999999999999999999s") == nil)
    }

    @Test func hugeDurationInYAMLIsRefusedWithItsPath() {
        let yaml = Self.good.replacingOccurrences(of: "connect_timeout: 0.25s", with: "connect_timeout: 315576000000s")
        #expect(error(yaml)?.path == "static_resources.clusters[0].connect_timeout")
        #expect(error(yaml)?.reason.contains("out of range") == true)
    }
}
