import RemoraAPI
@testable import RemoraXDS
import SwiftProtobuf

/// Packed resources and responses for the mux state machine tests.
enum XDSTestResources {
    static func cluster(_ name: String) -> Google_Protobuf_Any {
        var c = Envoy_Config_Cluster_V3_Cluster()
        c.name = name
        return try! Google_Protobuf_Any(message: c)
    }

    static func assignment(_ name: String) -> Google_Protobuf_Any {
        var a = Envoy_Config_Endpoint_V3_ClusterLoadAssignment()
        a.clusterName = name
        return try! Google_Protobuf_Any(message: a)
    }

    static func route(_ name: String) -> Google_Protobuf_Any {
        var r = Envoy_Config_Route_V3_RouteConfiguration()
        r.name = name
        return try! Google_Protobuf_Any(message: r)
    }

    static func sotw(_ type: XDSResourceType, version: String, nonce: String, _ resources: [Google_Protobuf_Any])
        -> Envoy_Service_Discovery_V3_DiscoveryResponse {
        var r = Envoy_Service_Discovery_V3_DiscoveryResponse()
        r.typeURL = type.typeURL
        r.versionInfo = version
        r.nonce = nonce
        r.resources = resources
        return r
    }

    static func delta(_ type: XDSResourceType, nonce: String, _ resources: [(String, String, Google_Protobuf_Any?)],
                      removed: [String] = [], system: String = "") -> Envoy_Service_Discovery_V3_DeltaDiscoveryResponse {
        var r = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse()
        r.typeURL = type.typeURL
        r.nonce = nonce
        r.systemVersionInfo = system
        r.removedResources = removed
        r.resources = resources.map { name, version, body in
            var resource = Envoy_Service_Discovery_V3_Resource()
            resource.name = name
            resource.version = version
            if let body { resource.resource = body }
            return resource
        }
        return r
    }

    static var node: Envoy_Config_Core_V3_Node {
        var n = Envoy_Config_Core_V3_Node()
        n.id = "node-1"
        n.cluster = "mesh"
        return n
    }
}

extension XDSResponseOutcome {
    var update: XDSUpdate? {
        if case .deliver(let u) = self { return u }
        return nil
    }

    var isAcknowledge: Bool {
        if case .acknowledge = self { return true }
        return false
    }

    var rejection: String? {
        if case .reject(_, let r) = self { return r.message }
        return nil
    }

    var isIgnored: Bool {
        if case .ignored = self { return true }
        return false
    }

    var replies: [Request]? {
        if case .reply(let r) = self { return r }
        return nil
    }
}
