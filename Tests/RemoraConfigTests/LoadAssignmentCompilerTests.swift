import Testing
import RemoraAPI
@testable import RemoraConfig
import RemoraCore
import SwiftProtobuf

/// EDS `ClusterLoadAssignment`s and CDS clusters compiled, and what is
/// refused with its field path.
@Suite struct LoadAssignmentCompilerTests {
    func assignment(_ json: String) throws -> Envoy_Config_Endpoint_V3_ClusterLoadAssignment {
        try Envoy_Config_Endpoint_V3_ClusterLoadAssignment(jsonString: json)
    }

    func refusal(_ json: String) throws -> String? {
        do {
            _ = try LoadAssignmentCompiler.compile(try assignment(json), at: "")
            return nil
        } catch let error as ConfigError {
            return error.description
        }
    }

    @Test func endpointsWithHealthAndLocality() throws {
        let endpoints = try LoadAssignmentCompiler.compile(try assignment("""
            {"cluster_name": "e", "endpoints": [{"locality": {"region": "r", "zone": "z"}, "lb_endpoints": [
              {"endpoint": {"address": {"socket_address": {"address": "10.0.0.1", "port_value": 80}}, "hostname": "h"}},
              {"endpoint": {"address": {"socket_address": {"address": "10.0.0.2", "port_value": 80}}}, "health_status": "TIMEOUT",
               "load_balancing_weight": 1},
              {"endpoint": {"address": {"socket_address": {"address": "10.0.0.3", "port_value": 80}}}, "health_status": "DRAINING",
               "load_balancing_weight": 5}]}]}
            """), at: "")
        #expect(endpoints.map(\.address) == [SocketAddress.ip("10.0.0.1", port: 80)!, SocketAddress.ip("10.0.0.2", port: 80)!,
                                             SocketAddress.ip("10.0.0.3", port: 80)!])
        #expect(endpoints.map(\.health) == [.healthy, .unhealthy, .draining])
        #expect(endpoints.map(\.weight) == [1, 1, 5])
        // Envoy shows TIMEOUT as UNHEALTHY.
        #expect(endpoints.map(\.statusName) == ["HEALTHY", "UNHEALTHY", "DRAINING"])
        #expect(endpoints[0].hostname == "h" && endpoints[0].region == "r" && endpoints[0].zone == "z")
    }

    @Test func refusedWithFieldPaths() throws {
        let ep = #"{"endpoint": {"address": {"socket_address": {"address": "10.0.0.1", "port_value": 80}}}"#
        #expect(try refusal(#"{"endpoints": [{"priority": 1, "lb_endpoints": [\#(ep)}]}], "policy": {"overprovisioning_factor": 100}}"#)
            == "policy.overprovisioning_factor: an overprovisioning_factor other than 140 with several priorities or degraded hosts is not implemented")
        #expect(try refusal(#"{"endpoints": [{"lb_endpoints": [\#(ep), "load_balancing_weight": 0}]}]}"#)
            == "endpoints[0].lb_endpoints[0].load_balancing_weight: must be at least 1")
        // Priorities and DEGRADED hosts are taken (HostSet weighs them).
        #expect(try refusal(#"{"endpoints": [{"priority": 1, "lb_endpoints": [\#(ep), "health_status": "DEGRADED"}]}]}"#) == nil)
        #expect(try refusal(#"{"policy": {"drop_overloads": [{"category": "x"}]}}"#)?
            .hasPrefix("policy.drop_overloads") == true)
    }

    /// Envoy 1.40 keeps one host per address, as the first endpoint naming
    /// it says (weight, health, locality), in any locality.
    @Test func duplicateAddressesKeepTheFirstEndpoint() throws {
        func ep(_ last: Int, _ extra: String = "") -> String {
            #"{"endpoint": {"address": {"socket_address": {"address": "10.0.0.\#(last)", "port_value": 80}}}\#(extra)}"#
        }
        let json = #"{"endpoints": [{"locality": {"zone": "a"}, "lb_endpoints": ["#
            + ep(1, #", "health_status": "UNHEALTHY""#) + ", " + ep(1, #", "load_balancing_weight": 3"#) + ", " + ep(2)
            + #"]}, {"locality": {"zone": "b"}, "lb_endpoints": ["#
            + ep(2, #", "load_balancing_weight": 5"#) + ", " + ep(3) + "]}]}"
        let endpoints = try LoadAssignmentCompiler.compile(try assignment(json), at: "")
        #expect(endpoints.map(\.address) == [SocketAddress.ip("10.0.0.1", port: 80)!, SocketAddress.ip("10.0.0.2", port: 80)!,
                                             SocketAddress.ip("10.0.0.3", port: 80)!])
        #expect(endpoints.map(\.health) == [.unhealthy, .healthy, .healthy])
        #expect(endpoints.map(\.weight) == [1, 1, 1])
        #expect(endpoints.map(\.zone) == ["a", "a", "b"])
    }

    @Test func edsClusterCompiles() throws {
        let cluster = try Envoy_Config_Cluster_V3_Cluster(jsonString: """
            {"name": "e", "type": "EDS", "eds_cluster_config": {"eds_config": {"path_config_source": {"path": "/x/eds.json"}},
             "service_name": "svc"}}
            """)
        let compiled = try ServerConfig(node: NodeInfo(id: "", cluster: "", json: "{}"), admin: nil, listeners: [], clusters: [])
            .compileDynamicCluster(cluster).0
        #expect(compiled.discovery == .eds(serviceName: "svc", source: ConfigSourceConfig(kind: .path("/x/eds.json", watchedDirectory: nil))))
    }

    @Test func edsClusterRefusals() throws {
        let config = ServerConfig(node: NodeInfo(id: "", cluster: "", json: "{}"), admin: nil, listeners: [], clusters: [])
        func refusal(_ json: String) throws -> String? {
            do {
                _ = try config.compileDynamicCluster(try Envoy_Config_Cluster_V3_Cluster(jsonString: json))
                return nil
            } catch let error as ConfigError {
                return error.description
            }
        }
        #expect(try refusal(#"{"name": "e", "type": "EDS"}"#) == "eds_cluster_config.eds_config: required field is missing")
        #expect(try refusal(#"{"name": "e", "type": "EDS", "eds_cluster_config": {"eds_config": {"ads": {}}}}"#)
            == "eds_cluster_config.eds_config.ads: ads: {} needs dynamic_resources.ads_config in the bootstrap")
    }
}
