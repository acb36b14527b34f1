/// The resource types Remora subscribes to, by their v3 type URLs.
public enum XDSResourceType: CaseIterable, Hashable, Sendable {
    case listener
    case routeConfiguration
    case cluster
    case clusterLoadAssignment
    case secret

    public var typeURL: String {
        switch self {
        case .listener: "type.googleapis.com/envoy.config.listener.v3.Listener"
        case .routeConfiguration: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
        case .cluster: "type.googleapis.com/envoy.config.cluster.v3.Cluster"
        case .clusterLoadAssignment: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
        case .secret: "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
        }
    }

    public init?(typeURL: String) {
        guard let type = Self.allCases.first(where: { $0.typeURL == typeURL }) else { return nil }
        self = type
    }

    /// LDS and CDS are wildcard subscriptions: a state-of-the-world response
    /// holds every resource, so a name missing from it is removed. RDS, EDS
    /// and SDS name what they want, and a missing name is not a removal.
    public var isWildcard: Bool { self == .listener || self == .cluster }

    /// Envoy's short name, used in logs: `lds`, `rds`, `cds`, `eds`, `sds`.
    public var shortName: String {
        switch self {
        case .listener: "lds"
        case .routeConfiguration: "rds"
        case .cluster: "cds"
        case .clusterLoadAssignment: "eds"
        case .secret: "sds"
        }
    }
}
