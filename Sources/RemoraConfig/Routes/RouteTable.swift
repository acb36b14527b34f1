/// A compiled `envoy.config.route.v3.RouteConfiguration`: virtual hosts,
/// their routes in order, and the domain index that picks a virtual host.
///
/// Immutable and `Sendable`: the main thread builds it (inline in an HCM
/// config, later from RDS), workers share it and call `route(for:)` on their
/// own loop with no locking.
public final class RouteTable: Sendable {
    public let name: String
    public let virtualHosts: [VirtualHost]
    /// `internal_only_headers` (lowercase): removed from requests that come from outside.
    public let internalOnlyHeaders: [String]
    /// `ignore_port_in_host_matching` (default false: `foo.com:8080` does not
    /// match domain `foo.com`; Envoy's "why is my route not found" FAQ).
    public let ignorePortInHostMatching: Bool
    /// `vhost_header` (lowercase): select the virtual host by this header instead of `:authority`.
    public let virtualHostHeader: String?
    /// `ignore_path_parameters_in_path_matching`: ignore `;params` when matching paths.
    public let ignorePathParametersInPathMatching: Bool
    /// `most_specific_header_mutations_wins` (already applied to each route's mutation order).
    public let mostSpecificHeaderMutationsWins: Bool
    /// `validate_clusters`: whether every named cluster must exist (default true for an inline route configuration).
    public let validateClusters: Bool
    /// Clusters the routes name statically, with the field path naming each, for `validate_clusters`.
    public let clusterReferences: [ClusterReference]

    let domains: DomainIndex

    init(name: String, virtualHosts: [VirtualHost], domains: DomainIndex, internalOnlyHeaders: [String],
         ignorePortInHostMatching: Bool, virtualHostHeader: String?, ignorePathParametersInPathMatching: Bool,
         mostSpecificHeaderMutationsWins: Bool, validateClusters: Bool, clusterReferences: [ClusterReference]) {
        self.name = name
        self.virtualHosts = virtualHosts
        self.domains = domains
        self.internalOnlyHeaders = internalOnlyHeaders
        self.ignorePortInHostMatching = ignorePortInHostMatching
        self.virtualHostHeader = virtualHostHeader
        self.ignorePathParametersInPathMatching = ignorePathParametersInPathMatching
        self.mostSpecificHeaderMutationsWins = mostSpecificHeaderMutationsWins
        self.validateClusters = validateClusters
        self.clusterReferences = clusterReferences
    }

    /// The first route of the selected virtual host that matches `request`,
    /// with its cluster chosen (weighted pick, `cluster_header`), or nil
    /// (Envoy answers 404 `route_not_found`).
    ///
    /// `randomValue` drives `runtime_fraction` and weighted clusters (Envoy
    /// uses the stream's random value; pass a fresh random number per request).
    /// Allocates nothing for routes without header/query matchers and
    /// without `cluster_header`.
    public func route<R: RouteRequest>(for request: R, randomValue: UInt64) -> MatchedRoute? {
        guard let vhostIndex = virtualHostIndex(for: request) else { return nil }
        let vhost = virtualHosts[vhostIndex]
        let ignoreParameters = ignorePathParametersInPathMatching
        return request.withPath { path -> MatchedRoute? in
            for route in vhost.routes where route.matches(request, path: path, randomValue: randomValue, ignorePathParameters: ignoreParameters) {
                return MatchedRoute(virtualHost: vhost, route: route, request: request, randomValue: randomValue)
            }
            return nil
        }
    }

    /// The virtual host `request` selects, or nil (no match and no `*`; or no `:authority`).
    public func virtualHost<R: RouteRequest>(for request: R) -> VirtualHost? {
        virtualHostIndex(for: request).map { virtualHosts[$0] }
    }

    private func virtualHostIndex<R: RouteRequest>(for request: R) -> Int? {
        // Envoy's fast path: only a default virtual host, no need for a host.
        if domains.onlyDefault { return domains.defaultHost }
        if let header = virtualHostHeader {
            guard let value = request.headerValue(lowercasedName: header) else { return nil }
            return ASCIIBytes.withBytes(value) { lookup($0) }
        }
        return request.withAuthority { authority -> Int? in
            // There may be no authority on early local replies; Envoy then has no virtual host.
            guard let authority else { return nil }
            return lookup(authority)
        }
    }

    private func lookup(_ host: UnsafeRawBufferPointer) -> Int? {
        var host = host
        if ignorePortInHostMatching, let colon = DomainIndex.portStart(host) {
            host = UnsafeRawBufferPointer(rebasing: host[..<colon])
        }
        return domains.lookup(host)
    }
}

/// A cluster a route names, and where, for `validate_clusters`.
public struct ClusterReference: Sendable, Equatable {
    public let cluster: String
    /// Envoy's wording differs by kind: "route: unknown cluster", "unknown weighted cluster", "unknown shadow cluster".
    public let kind: Kind
    /// The field path is made when asked for (only an unknown cluster's
    /// error needs it): from its virtual host's path, the route's index in
    /// it (-1: `base` is the whole path) and what follows.
    private let base: String
    private let routeIndex: Int
    private let suffix: String

    public enum Kind: Sendable, Equatable { case route, weighted, shadow }

    public init(cluster: String, path: String, kind: Kind) {
        self.cluster = cluster
        self.kind = kind
        base = path
        routeIndex = -1
        suffix = ""
    }

    /// The reference at `<virtualHostPath>.routes[<route>].<suffix>`.
    init(cluster: String, kind: Kind, virtualHostPath: String, route: Int, suffix: String) {
        self.cluster = cluster
        self.kind = kind
        base = virtualHostPath
        routeIndex = route
        self.suffix = suffix
    }

    public var path: String {
        routeIndex < 0 ? base : FieldPath.join(FieldPath.index(FieldPath.join(base, "routes"), routeIndex), suffix)
    }

    public static func == (a: ClusterReference, b: ClusterReference) -> Bool {
        a.cluster == b.cluster && a.kind == b.kind && a.path == b.path
    }

    public var unknownClusterMessage: String {
        switch kind {
        case .route: "route: unknown cluster '\(cluster)'"
        case .weighted: "route: unknown weighted cluster '\(cluster)'"
        case .shadow: "route: unknown shadow cluster '\(cluster)'"
        }
    }
}
