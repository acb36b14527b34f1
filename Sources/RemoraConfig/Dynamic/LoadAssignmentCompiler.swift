import RemoraAPI
import RemoraCore
public import SwiftProtobuf

/// One endpoint of an EDS `ClusterLoadAssignment`, compiled.
public struct EndpointConfig: Sendable, Equatable {
    /// `health_status` as Envoy treats it when nothing health-checks the host.
    public enum Health: Sendable, Equatable {
        /// UNKNOWN or HEALTHY: balanced.
        case healthy
        /// UNHEALTHY or TIMEOUT: Envoy's `/failed_eds_health`; balanced only in panic.
        case unhealthy
        /// DEGRADED: Envoy's `/degraded_eds_health`; takes load only when the
        /// healthy hosts are too few (see `HostSet.PriorityPlan`).
        case degraded
        /// DRAINING: Envoy's `/eds_status_draining`; excluded, even in panic.
        case draining
    }

    public var address: SocketAddress
    public var health: Health
    /// `load_balancing_weight` (1 when unset): round robin honours it; RANDOM, as Envoy's, does not.
    public var weight: UInt32
    /// `health_status` as the control plane sent it (Envoy shows TIMEOUT as UNHEALTHY).
    public var statusName: String
    /// `endpoint.hostname`.
    public var hostname: String
    /// The locality's `region`, `zone` and `sub_zone`.
    public var region: String
    public var zone: String
    public var subZone: String
    /// The locality's `priority` (0 is the highest).
    public var priority: UInt32

    /// Envoy's default `policy.overprovisioning_factor` (percent): a
    /// priority whose healthy share times 1.4 reaches 100 takes all its load.
    public static let overprovisioningFactor: UInt32 = 140

    public init(address: SocketAddress, health: Health = .healthy, statusName: String = "HEALTHY", hostname: String = "",
                region: String = "", zone: String = "", subZone: String = "", weight: UInt32 = 1, priority: UInt32 = 0) {
        self.address = address
        self.priority = priority
        self.weight = weight
        self.health = health
        self.statusName = statusName
        self.hostname = hostname
        self.region = region
        self.zone = zone
        self.subZone = subZone
    }
}

/// `envoy.config.endpoint.v3.ClusterLoadAssignment` → endpoints, one per
/// address, refusing what the balancers cannot honour (drop overloads, an
/// overprovisioning factor other than Envoy's default with several
/// priorities or degraded hosts) with the field path.
public enum LoadAssignmentCompiler {
    /// Unpacks and compiles one EDS resource; field paths start at the
    /// resource (`endpoints[0].priority`): the caller names it.
    public static func compile(_ resource: Google_Protobuf_Any) throws(ConfigError) -> [EndpointConfig] {
        let assignment: Envoy_Config_Endpoint_V3_ClusterLoadAssignment
        do {
            assignment = try Envoy_Config_Endpoint_V3_ClusterLoadAssignment(unpackingAny: resource)
        } catch {
            throw .syntax("cannot decode the resource: \(error)")
        }
        return try compile(assignment, at: "")
    }

    public static func compile(_ assignment: Envoy_Config_Endpoint_V3_ClusterLoadAssignment,
                               at path: String) throws(ConfigError) -> [EndpointConfig] {
        try SupportedFields.require(assignment, only: ["cluster_name", "endpoints", "policy"], at: path)
        if assignment.hasPolicy {
            let pp = FieldPath.join(path, "policy")
            // The overprovisioning factor only weighs priorities and
            // localities against each other; with one priority and no
            // locality weighting it changes nothing.
            try SupportedFields.require(assignment.policy, only: ["overprovisioning_factor"], at: pp)
            // It weighs priorities against each other: the balancers take
            // Envoy's default (140) only.
            if assignment.policy.hasOverprovisioningFactor, assignment.policy.overprovisioningFactor.value != EndpointConfig.overprovisioningFactor,
               assignment.endpoints.contains(where: { $0.priority != 0 || $0.lbEndpoints.contains { $0.healthStatus == .degraded } }) {
                throw .unsupported("an overprovisioning_factor other than 140 with several priorities or degraded hosts is not implemented",
                                   at: FieldPath.join(pp, "overprovisioning_factor"))
            }
        }
        var result: [EndpointConfig] = []
        // Held for the assignment's life: exactly as large as it needs.
        result.reserveCapacity(assignment.endpoints.reduce(0) { $0 + $1.lbEndpoints.count })
        var seen: Set<SocketAddress> = []
        // Paths are built only for an error: a mesh-sized push has ten
        // thousand endpoints, and their path strings cost more than the rest.
        for (i, locality) in assignment.endpoints.enumerated() {
            func lp() -> String { FieldPath.index(FieldPath.join(path, "endpoints"), i) }
            // A locality's load_balancing_weight only counts with locality-weighted balancing, which no cluster has.
            try SupportedFields.require(locality, only: ["locality", "lb_endpoints", "priority", "load_balancing_weight"], at: lp())
            for (j, lbEndpoint) in locality.lbEndpoints.enumerated() {
                func ep() -> String { FieldPath.index(FieldPath.join(lp(), "lb_endpoints"), j) }
                try SupportedFields.require(lbEndpoint, only: ["endpoint", "metadata", "health_status", "load_balancing_weight"], at: ep())
                // Envoy's rule is `gte: 1`.
                if lbEndpoint.hasLoadBalancingWeight, lbEndpoint.loadBalancingWeight.value == 0 {
                    throw .invalid("must be at least 1", at: FieldPath.join(ep(), "load_balancing_weight"))
                }
                let weight = lbEndpoint.hasLoadBalancingWeight ? lbEndpoint.loadBalancingWeight.value : 1
                guard case .endpoint(let endpoint)? = lbEndpoint.hostIdentifier else {
                    throw .missing(at: FieldPath.join(ep(), "endpoint"))
                }
                let (field, host, port, pipe) = try ClusterCompiler.endpointAddress(endpoint, at: FieldPath.join(ep(), "endpoint"))
                let address: SocketAddress
                if let pipe {
                    address = .unix(pipe)
                } else {
                    // Envoy's EDS takes IP addresses only (no resolution).
                    guard let ip = SocketAddress.ip(host, port: port) else {
                        throw .invalid("malformed IP address: \(host)", at: FieldPath.join(FieldPath.join(ep(), "endpoint"), field))
                    }
                    address = ip
                }
                // Envoy 1.40 keeps one host per address: the first endpoint
                // that names it (its weight, health and locality); later
                // ones, in any locality, are dropped.
                guard seen.insert(address).inserted else { continue }
                let health: EndpointConfig.Health
                let name: String
                switch lbEndpoint.healthStatus {
                case .unknown, .healthy: (health, name) = (.healthy, "HEALTHY")
                case .unhealthy, .timeout: (health, name) = (.unhealthy, "UNHEALTHY")
                case .draining: (health, name) = (.draining, "DRAINING")
                case .degraded: (health, name) = (.degraded, "DEGRADED")
                case .UNRECOGNIZED(let n):
                    throw .invalid("unknown health status \(n)", at: FieldPath.join(ep(), "health_status"))
                }
                let where_ = locality.locality
                result.append(EndpointConfig(address: address, health: health, statusName: name, hostname: endpoint.hostname,
                                             region: where_.region, zone: where_.zone, subZone: where_.subZone, weight: weight,
                                             priority: locality.priority))
            }
        }
        return result
    }
}

extension ServerConfig {
    /// Compiles a cluster that came over CDS, as the bootstrap's would be
    /// (its static secrets, its `ads_config`). Field paths start at the
    /// cluster (`load_assignment.endpoints[0]…`): the caller names the resource.
    /// SDS secrets are looked up in `currentSecrets` (the secret manager's);
    /// the contexts that read them come back with the cluster, for the
    /// secret manager to rebuild when those secrets change.
    public func compileDynamicCluster(_ cluster: Envoy_Config_Cluster_V3_Cluster,
                                      currentSecrets: [String: SDSSecret.Secret] = [:])
        throws(ConfigError) -> (ClusterConfig, [SDSContextDependency]) {
        let secrets = self.secrets.forDynamicResource(currentSecrets)
        let config = try ClusterCompiler.compile(cluster, secrets: secrets, hasADS: dynamicResources?.ads != nil, at: "")
        return (config, secrets.dependencies?.all ?? [])
    }
}
