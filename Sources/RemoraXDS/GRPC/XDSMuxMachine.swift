public import RemoraAPI
import SwiftProtobuf

/// What `XDSGRPCMux` needs of a protocol state machine: the state of the
/// world (`SotWMuxState`) or Delta (`DeltaMuxState`).
protocol XDSMuxMachine {
    associatedtype Request: SwiftProtobuf.Message
    associatedtype Response: SwiftProtobuf.Message

    mutating func subscribe(_ type: XDSResourceType, names: Set<String>) -> [Request]
    mutating func setNames(_ type: XDSResourceType, _ names: Set<String>) -> [Request]
    mutating func unsubscribe(_ type: XDSResourceType) -> [Request]
    mutating func streamEstablished() -> [Request]
    mutating func streamClosed()
    mutating func receive(_ response: Response) -> XDSResponseOutcome<Request>
    mutating func complete(rejection: XDSRejection?) -> [Request]
    /// Holds back the requests (ACKs included) of `paused` until as many `resume`s.
    mutating func pause(_ paused: [XDSResourceType])
    mutating func resume(_ resumed: [XDSResourceType]) -> [Request]
}

extension SotWMuxState: XDSMuxMachine {}
extension DeltaMuxState: XDSMuxMachine {}

/// A discovery response that may name its control plane
/// (`control_plane.identifier`, Envoy's text readout of that name).
protocol XDSControlPlaneNaming {
    var controlPlaneIdentifier: String? { get }
}

extension Envoy_Service_Discovery_V3_DiscoveryResponse: XDSControlPlaneNaming {
    var controlPlaneIdentifier: String? { hasControlPlane ? controlPlane.identifier : nil }
}

extension Envoy_Service_Discovery_V3_DeltaDiscoveryResponse: XDSControlPlaneNaming {
    var controlPlaneIdentifier: String? { hasControlPlane ? controlPlane.identifier : nil }
}

/// The gRPC methods of xDS (`envoy/service/*/v3/*.proto`).
public struct XDSGRPCMethod: Hashable, Sendable {
    public let service: String
    public let method: String

    /// ADS: every type on one stream.
    public static func aggregated(delta: Bool) -> XDSGRPCMethod {
        XDSGRPCMethod(service: "envoy.service.discovery.v3.AggregatedDiscoveryService",
                      method: delta ? "DeltaAggregatedResources" : "StreamAggregatedResources")
    }

    /// An `api_config_source`: the type's own service.
    public static func perType(_ type: XDSResourceType, delta: Bool) -> XDSGRPCMethod {
        let (service, noun) = switch type {
        case .listener: ("envoy.service.listener.v3.ListenerDiscoveryService", "Listeners")
        case .routeConfiguration: ("envoy.service.route.v3.RouteDiscoveryService", "Routes")
        case .cluster: ("envoy.service.cluster.v3.ClusterDiscoveryService", "Clusters")
        case .clusterLoadAssignment: ("envoy.service.endpoint.v3.EndpointDiscoveryService", "Endpoints")
        case .secret: ("envoy.service.secret.v3.SecretDiscoveryService", "Secrets")
        }
        return XDSGRPCMethod(service: service, method: (delta ? "Delta" : "Stream") + noun)
    }
}

/// The node Remora presents to control planes: the bootstrap's `node`
/// (with `--service-node`/`--service-cluster` applied) plus, as Envoy adds
/// them in `LocalInfoImpl`, the user agent and its build version.
public enum XDSNode {
    public static let userAgentName = "remora"

    /// `version` is "major.minor.patch" (a trailing "-suffix" is ignored).
    public static func make(bootstrap: Envoy_Config_Core_V3_Node, version: String) -> Envoy_Config_Core_V3_Node {
        var node = bootstrap
        node.userAgentName = userAgentName
        var build = Envoy_Config_Core_V3_BuildVersion()
        let numbers = version.split(separator: "-").first.map { $0.split(separator: ".").map { UInt32($0) ?? 0 } } ?? []
        build.version.majorNumber = numbers.count > 0 ? numbers[0] : 0
        build.version.minorNumber = numbers.count > 1 ? numbers[1] : 0
        build.version.patch = numbers.count > 2 ? numbers[2] : 0
        node.userAgentBuildVersion = build
        return node
    }
}
