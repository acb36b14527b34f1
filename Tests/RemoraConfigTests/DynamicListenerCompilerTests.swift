import Testing
@testable import RemoraConfig
import RemoraAPI
import RemoraCore
import SwiftProtobuf

/// LDS listeners and RDS route configurations compiled on their own, and
/// the listener diff that decides which connections drain.
@Suite struct DynamicListenerCompilerTests {
    static func chain(_ name: String, cluster: String, port: Int? = nil) -> String {
        let match = port.map { "filter_chain_match: {destination_port: \($0)}" } ?? "filter_chain_match: {}"
        return """
          - name: \(name)
            \(match)
            filters:
            - name: envoy.filters.network.tcp_proxy
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: \(name), cluster: \(cluster)}
        """
    }

    static func listener(name: String = "l", port: Int = 10000, statPrefix: String = "", chains: [String]) -> String {
        """
        name: \(name)
        address: {socket_address: {address: 127.0.0.1, port_value: \(port)}}
        \(statPrefix.isEmpty ? "" : "stat_prefix: \(statPrefix)")
        filter_chains:
        \(chains.joined(separator: "\n"))
        """
    }

    static let rdsListener = """
        name: h
        address: {socket_address: {address: 127.0.0.1, port_value: 10001}}
        filter_chains:
        - filters:
          - name: envoy.filters.network.http_connection_manager
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
              stat_prefix: ingress
              rds: {route_config_name: routes_a, config_source: {path_config_source: {path: /tmp/rds.yaml}}}
              http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
        """

    func packed(_ yaml: String) throws -> Google_Protobuf_Any {
        try Google_Protobuf_Any(message: try BootstrapLoader.decode(Envoy_Config_Listener_V3_Listener.self, yaml: yaml))
    }

    func compile(_ yaml: String) throws -> DynamicListener {
        try DynamicListenerCompiler.compile(try packed(yaml), server: ServerConfig(node: NodeInfo(id: "", cluster: "", json: "{}"),
                                                                                     listeners: [], clusters: []),
                                            clusterNames: [])
    }

    @Test func unchangedChainsKeepTheirSourceAcrossListenerFieldChanges() throws {
        let a = try compile(Self.listener(chains: [Self.chain("one", cluster: "c", port: 10000), Self.chain("two", cluster: "d")]))
        // A change outside the chains (stat_prefix): no chain drains, the sockets stay.
        let b = try compile(Self.listener(statPrefix: "renamed",
                                          chains: [Self.chain("one", cluster: "c", port: 10000), Self.chain("two", cluster: "d")]))
        let diff = ListenerDiff(old: a.config, new: b.config)
        #expect(diff.removedChains.isEmpty)
        #expect(diff.addedChains.isEmpty)
        #expect(diff.keepsSockets)
        #expect(a.sourceBytes != b.sourceBytes)
    }

    @Test func aChangedChainIsTheOnlyOneThatDrains() throws {
        let a = try compile(Self.listener(chains: [Self.chain("one", cluster: "c", port: 10000), Self.chain("two", cluster: "d")]))
        let b = try compile(Self.listener(chains: [Self.chain("one", cluster: "c", port: 10000), Self.chain("two", cluster: "e")]))
        let diff = ListenerDiff(old: a.config, new: b.config)
        let oldTwo = try #require(a.config.filterChains.first { $0.name == "two" }).source
        let newTwo = try #require(b.config.filterChains.first { $0.name == "two" }).source
        #expect(diff.removedChains == [oldTwo])
        #expect(diff.addedChains == [newTwo])
        #expect(diff.keepsSockets)
        // The same chain compiled again has the same source.
        let again = try compile(Self.listener(chains: [Self.chain("one", cluster: "c", port: 10000)]))
        #expect(again.config.filterChains[0].source == a.config.filterChains[0].source)
    }

    @Test func anotherAddressCannotKeepTheSockets() throws {
        let a = try compile(Self.listener(port: 10000, chains: [Self.chain("one", cluster: "c")]))
        let b = try compile(Self.listener(port: 10002, chains: [Self.chain("one", cluster: "c")]))
        let diff = ListenerDiff(old: a.config, new: b.config)
        #expect(!diff.keepsSockets)
        #expect(diff.removedChains.isEmpty)
    }

    @Test func rdsCompilesToANamedRouteSource() throws {
        let listener = try compile(Self.rdsListener)
        let hcm = try #require(listener.config.filterChains.first?.httpConnectionManager)
        guard case .rds(let reference) = hcm.routes else {
            Issue.record("expected an RDS route source")
            return
        }
        #expect(reference.routeConfigName == "routes_a")
        #expect(reference.source.kind == .path("/tmp/rds.yaml", watchedDirectory: nil))
        #expect(listener.config.rdsReferences == [reference])
        #expect(hcm.routeTable == nil)
    }

    @Test func rdsWithoutAConfigSourceIsRefusedWithItsPath() throws {
        let yaml = Self.rdsListener.replacingOccurrences(
            of: "rds: {route_config_name: routes_a, config_source: {path_config_source: {path: /tmp/rds.yaml}}}",
            with: "rds: {route_config_name: routes_a}")
        let error = configError { _ = try compile(yaml) }
        #expect(error?.path == "filter_chains[0].filters[0].typed_config.rds.config_source")
        let ads = Self.rdsListener.replacingOccurrences(of: "{path_config_source: {path: /tmp/rds.yaml}}", with: "{ads: {}}")
        #expect(configError { _ = try compile(ads) }?.path == "filter_chains[0].filters[0].typed_config.rds.config_source.ads")
    }

    @Test func aListenerWithoutANameIsRefused() throws {
        let yaml = Self.listener(name: "", chains: [Self.chain("one", cluster: "c")]).replacingOccurrences(of: "name: \n", with: "")
        #expect(configError { _ = try compile(yaml) }?.path == "name")
    }

    @Test func rdsValidateClustersIsOffByDefault() throws {
        let routes = """
            name: r
            virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: missing}}]}]
            """
        let message = try BootstrapLoader.decode(Envoy_Config_Route_V3_RouteConfiguration.self, yaml: routes)
        let (table, _) = try DynamicListenerCompiler.compileRoutes(try Google_Protobuf_Any(message: message), clusterNames: [])
        #expect(!table.validateClusters)
        var strict = message
        strict.validateClusters = Google_Protobuf_BoolValue(true)
        let error = configError {
            _ = try DynamicListenerCompiler.compileRoutes(try Google_Protobuf_Any(message: strict), clusterNames: ["other"])
        }
        #expect(error?.description.contains("route: unknown cluster 'missing'") == true)
        _ = try DynamicListenerCompiler.compileRoutes(try Google_Protobuf_Any(message: strict), clusterNames: ["missing"])
    }

    @Test func theEmptyTableRoutesNothing() {
        #expect(DynamicListenerCompiler.emptyRouteTable.virtualHosts.isEmpty)
    }
}
