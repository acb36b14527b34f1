import RemoraAPI

/// `envoy.config.route.v3.RouteConfiguration` → `RouteTable`.
///
/// Runs on the main thread. Every unimplemented field is refused with its
/// path (`SupportedFields`); Envoy's own validation errors keep Envoy's wording.
enum RouteTableCompiler {
    /// Envoy's `DEFAULT_MAX_DIRECT_RESPONSE_BODY_SIZE_BYTES`.
    static let defaultMaxDirectResponseBodySize = 4096

    static func compile(
        _ config: Envoy_Config_Route_V3_RouteConfiguration, at path: String, validateClustersDefault: Bool = true
    ) throws(ConfigError) -> RouteTable {
        try SupportedFields.require(config, only: [
            "name", "virtual_hosts", "internal_only_headers", "response_headers_to_add", "response_headers_to_remove",
            "request_headers_to_add", "request_headers_to_remove", "most_specific_header_mutations_wins",
            "validate_clusters", "max_direct_response_body_size_bytes", "request_mirror_policies",
            "ignore_port_in_host_matching", "vhost_header", "ignore_path_parameters_in_path_matching", "metadata",
        ], at: path)

        var context = RouteCompileContext(
            routeConfigName: config.name,
            mostSpecificWins: config.mostSpecificHeaderMutationsWins,
            maxDirectResponseBodySize: config.hasMaxDirectResponseBodySizeBytes
                ? Int(config.maxDirectResponseBodySizeBytes.value) : defaultMaxDirectResponseBodySize)
        context.globalRequest = try HeaderMutationCompiler.compile(
            add: config.requestHeadersToAdd, remove: config.requestHeadersToRemove,
            addPath: FieldPath.join(path, "request_headers_to_add"), removePath: FieldPath.join(path, "request_headers_to_remove"))
        context.globalResponse = try HeaderMutationCompiler.compile(
            add: config.responseHeadersToAdd, remove: config.responseHeadersToRemove,
            addPath: FieldPath.join(path, "response_headers_to_add"), removePath: FieldPath.join(path, "response_headers_to_remove"))
        context.globalMirrors = try RouteCompiler.compileMirrors(
            config.requestMirrorPolicies, at: FieldPath.join(path, "request_mirror_policies"))

        var internalOnly: [String] = []
        for (i, name) in config.internalOnlyHeaders.enumerated() {
            guard ASCIIBytes.isValidHeaderName(name) else {
                throw .invalid("invalid header name '\(name)'", at: FieldPath.index(FieldPath.join(path, "internal_only_headers"), i))
            }
            internalOnly.append(name.lowercased())
        }
        var vhostHeader: String? = nil
        if !config.vhostHeader.isEmpty {
            guard ASCIIBytes.isValidHeaderName(config.vhostHeader) else {
                throw .invalid("invalid header name '\(config.vhostHeader)'", at: FieldPath.join(path, "vhost_header"))
            }
            vhostHeader = config.vhostHeader.lowercased()
        }

        var hosts: [VirtualHost] = []
        var index = DomainIndex()
        for (i, vhostConfig) in config.virtualHosts.enumerated() {
            let vp = FieldPath.index(FieldPath.join(path, "virtual_hosts"), i)
            let vhost = try compileVirtualHost(vhostConfig, at: vp, context: &context)
            for (j, domain) in vhost.domains.enumerated() {
                func dp() -> String { FieldPath.index(FieldPath.join(vp, "domains"), j) }
                switch index.insert(domain, host: i) {
                case .inserted:
                    break
                case .secondWildcard:
                    throw .invalid("Only a single wildcard domain is permitted in route \(config.name)", at: dp())
                case .duplicate:
                    throw .invalid(
                        "Only unique values for domains are permitted. Duplicate entry of domain \(domain) in route \(config.name)",
                        at: dp())
                }
            }
            hosts.append(vhost)
        }

        return RouteTable(
            name: config.name, virtualHosts: hosts, domains: index, internalOnlyHeaders: internalOnly,
            ignorePortInHostMatching: config.ignorePortInHostMatching, virtualHostHeader: vhostHeader,
            ignorePathParametersInPathMatching: config.ignorePathParametersInPathMatching,
            mostSpecificHeaderMutationsWins: config.mostSpecificHeaderMutationsWins,
            validateClusters: config.hasValidateClusters ? config.validateClusters.value : validateClustersDefault,
            clusterReferences: context.references)
    }

    static func compileVirtualHost(
        _ config: Envoy_Config_Route_V3_VirtualHost, at path: String, context: inout RouteCompileContext
    ) throws(ConfigError) -> VirtualHost {
        // `require_tls` is left out on purpose: only its default (NONE) is accepted.
        try SupportedFields.require(config, only: [
            "name", "domains", "routes", "request_headers_to_add", "request_headers_to_remove", "response_headers_to_add",
            "response_headers_to_remove", "include_request_attempt_count", "include_attempt_count_in_response",
            "retry_policy", "per_request_buffer_limit_bytes", "request_mirror_policies", "metadata",
        ], at: path)
        guard !config.name.isEmpty else { throw .missing(at: FieldPath.join(path, "name")) }
        guard !config.domains.isEmpty else {
            throw .invalid("value must contain at least 1 item(s)", at: FieldPath.join(path, "domains"))
        }
        var domains: [String] = []
        for (j, domain) in config.domains.enumerated() {
            guard !ASCIIBytes.hasControlBreak(domain) else {
                throw .invalid("domain contains a NUL, CR or LF", at: FieldPath.index(FieldPath.join(path, "domains"), j))
            }
            domains.append(String(decoding: domain.utf8.map(ASCIIBytes.lower), as: UTF8.self))
        }

        var vhostContext = context
        // The references move to the copy and back, so that appending to
        // them does not copy the whole table's list at every virtual host.
        context.references = []
        vhostContext.vhostRequest = try HeaderMutationCompiler.compile(
            add: config.requestHeadersToAdd, remove: config.requestHeadersToRemove,
            addPath: FieldPath.join(path, "request_headers_to_add"), removePath: FieldPath.join(path, "request_headers_to_remove"))
        vhostContext.vhostResponse = try HeaderMutationCompiler.compile(
            add: config.responseHeadersToAdd, remove: config.responseHeadersToRemove,
            addPath: FieldPath.join(path, "response_headers_to_add"), removePath: FieldPath.join(path, "response_headers_to_remove"))
        vhostContext.vhostRetryPolicy = config.hasRetryPolicy
            ? try RouteCompiler.compileRetryPolicy(config.retryPolicy, at: FieldPath.join(path, "retry_policy")) : nil
        let vhostMirrors = try RouteCompiler.compileMirrors(
            config.requestMirrorPolicies, at: FieldPath.join(path, "request_mirror_policies"))
        vhostContext.inheritedMirrors = vhostMirrors.isEmpty ? context.globalMirrors : vhostMirrors
        vhostContext.vhostBufferLimit = config.hasPerRequestBufferLimitBytes ? config.perRequestBufferLimitBytes.value : nil

        var routes: [RouteEntry] = []
        for (k, route) in config.routes.enumerated() {
            vhostContext.site = (path, k)
            routes.append(try RouteCompiler.compile(route, at: FieldPath.index(FieldPath.join(path, "routes"), k), context: &vhostContext))
        }
        context.references = vhostContext.references
        return VirtualHost(
            name: config.name, domains: domains, routes: routes,
            includeRequestAttemptCount: config.includeRequestAttemptCount,
            includeAttemptCountInResponse: config.includeAttemptCountInResponse)
    }
}

/// What a route inherits from its virtual host and route configuration.
struct RouteCompileContext {
    var routeConfigName: String
    var mostSpecificWins: Bool
    var maxDirectResponseBodySize: Int
    var globalRequest = HeaderMutation()
    var globalResponse = HeaderMutation()
    var globalMirrors: [MirrorPolicy] = []
    var vhostRequest = HeaderMutation()
    var vhostResponse = HeaderMutation()
    var vhostRetryPolicy: RetryPolicy? = nil
    var inheritedMirrors: [MirrorPolicy] = []
    var vhostBufferLimit: UInt32? = nil
    var references: [ClusterReference] = []
    /// The route being compiled: its virtual host's path and its index
    /// there (a reference's path is made from them only if an error needs it).
    var site: (virtualHostPath: String, route: Int)? = nil

    init(routeConfigName: String, mostSpecificWins: Bool, maxDirectResponseBodySize: Int) {
        self.routeConfigName = routeConfigName
        self.mostSpecificWins = mostSpecificWins
        self.maxDirectResponseBodySize = maxDirectResponseBodySize
    }

    /// Envoy's `getHeaderParsers`: route, virtual host, route configuration —
    /// reversed when `most_specific_header_mutations_wins`. Empty levels are dropped.
    func ordered(route: HeaderMutation, vhost: HeaderMutation, global: HeaderMutation) -> [HeaderMutation] {
        // The common case (mutations on routes only) without the temporary arrays.
        if vhost.isEmpty && global.isEmpty { return route.isEmpty ? [] : [route] }
        let levels = mostSpecificWins ? [global, vhost, route] : [route, vhost, global]
        return levels.filter { !$0.isEmpty }
    }
}

extension RouteTable {
    /// Compiles a route configuration on its own (RDS, or tests of other
    /// modules). Error paths start at the configuration's root.
    ///
    /// `validateClustersByDefault` is Envoy's default for `validate_clusters`:
    /// false for RDS, true for an inline `route_config`. Checking the
    /// references against the known clusters is the caller's job
    /// (`clusterReferences`), since only it knows the cluster set.
    public static func compile(
        _ config: Envoy_Config_Route_V3_RouteConfiguration, validateClustersByDefault: Bool = false
    ) throws(ConfigError) -> RouteTable {
        try RouteTableCompiler.compile(config, at: "", validateClustersDefault: validateClustersByDefault)
    }
}
