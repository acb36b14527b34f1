import RemoraAPI
import RemoraCore
import RemoraTLS
import SwiftProtobuf

/// Cluster → `ClusterConfig` for the STATIC, STRICT_DNS, ORIGINAL_DST and EDS kinds.
enum ClusterCompiler {
    /// `least_request_lb_config`: `choice_count` (at least 2, default 2) and
    /// `active_request_bias` (its default value; runtime keys have no
    /// runtime to read).
    static func leastRequest(_ cluster: Envoy_Config_Cluster_V3_Cluster,
                             at path: String) throws(ConfigError) -> ClusterConfig.LoadBalancing {
        guard case .leastRequestLbConfig(let config)? = cluster.lbConfig else {
            return .leastRequest(choiceCount: 2, activeRequestBias: 1)
        }
        let cp = FieldPath.join(path, "least_request_lb_config")
        try SupportedFields.require(config, only: ["choice_count", "active_request_bias"], at: cp)
        var choices = 2
        if config.hasChoiceCount {
            guard config.choiceCount.value >= 2 else {
                throw .invalid("value must be greater than or equal to 2", at: FieldPath.join(cp, "choice_count"))
            }
            choices = Int(config.choiceCount.value)
        }
        var bias = 1.0
        if config.hasActiveRequestBias {
            bias = config.activeRequestBias.defaultValue
            guard bias >= 0, bias.isFinite else {
                throw .invalid("Invalid active_request_bias supplied: must be >= 0.0 and finite",
                               at: FieldPath.join(cp, "active_request_bias"))
            }
        }
        return .leastRequest(choiceCount: choices, activeRequestBias: bias)
    }

    /// `hasADS`: the bootstrap has `ads_config` (an EDS cluster's `eds_config` may say `ads: {}`).
    static func compile(_ cluster: Envoy_Config_Cluster_V3_Cluster, secrets: StaticSecrets = .none, hasADS: Bool = false,
                        at path: String) throws(ConfigError) -> ClusterConfig {
        try SupportedFields.require(cluster, only: [
            "name", "type", "connect_timeout", "lb_policy", "load_assignment", "dns_lookup_family",
            "dns_refresh_rate", "per_connection_buffer_limit_bytes", "metadata", "alt_stat_name",
            "close_connections_on_host_health_failure", "typed_extension_protocol_options", "circuit_breakers",
            "max_requests_per_connection", "cleanup_interval", "original_dst_lb_config", "upstream_bind_config",
            "http2_protocol_options", "least_request_lb_config", "common_lb_config", "upstream_connection_options",
            "transport_socket", "eds_cluster_config",
        ], at: path)
        guard !cluster.name.isEmpty else { throw .missing(at: FieldPath.join(path, "name")) }
        if !cluster.altStatName.isEmpty {
            throw .unsupported("alt_stat_name is not implemented", at: FieldPath.join(path, "alt_stat_name"))
        }

        let connectTimeout = cluster.hasConnectTimeout
            ? try ConfigCompiler.milliseconds(cluster.connectTimeout, at: FieldPath.join(path, "connect_timeout"))
            : 5000
        guard connectTimeout > 0 else {
            throw .invalid("must be greater than 0", at: FieldPath.join(path, "connect_timeout"))
        }

        let lb: ClusterConfig.LoadBalancing
        switch cluster.lbPolicy {
        case .roundRobin: lb = .roundRobin
        case .random: lb = .random
        case .leastRequest: lb = try leastRequest(cluster, at: path)
        case .clusterProvided: lb = .clusterProvided
        default:
            let name = MessageSchema.envoy.enums["envoy.config.cluster.v3.Cluster.LbPolicy"]?.values
                .first { $0.value == Int32(cluster.lbPolicy.rawValue) }?.key ?? "\(cluster.lbPolicy.rawValue)"
            throw .unsupported("lb_policy \(name) is not implemented (ROUND_ROBIN, LEAST_REQUEST and RANDOM are)",
                               at: FieldPath.join(path, "lb_policy"))
        }


        let endpoints = try endpointAddresses(cluster, at: FieldPath.join(path, "load_assignment"))
        let discovery: ClusterConfig.Discovery
        var staticEndpoints: [EndpointConfig]? = nil
        let kind: Envoy_Config_Cluster_V3_Cluster.DiscoveryType
        switch cluster.clusterDiscoveryType {
        case .type(let t)?: kind = t
        case nil: kind = .static
        case .clusterType?:
            throw .unsupported("custom cluster types are not implemented", at: FieldPath.join(path, "cluster_type"))
        }
        switch kind {
        case .static:
            var hosts: [SocketAddress] = []
            for (epPath, host, port, pipe) in endpoints {
                if let pipe { hosts.append(.unix(pipe)); continue }
                guard let ip = SocketAddress.ip(host, port: port) else {
                    throw .invalid("malformed IP address: \(host) (a STATIC cluster needs IP addresses)", at: epPath)
                }
                hosts.append(ip)
            }
            discovery = .staticHosts(hosts)
            staticEndpoints = try weightedStaticEndpoints(cluster, at: FieldPath.join(path, "load_assignment"))
        case .strictDns:
            var names: [DNSEndpoint] = []
            // Each host's hostname: the endpoint's `hostname`, else the name resolved (Envoy's ResolveTarget).
            let hostnames = cluster.loadAssignment.endpoints.flatMap { $0.lbEndpoints.map(\.endpoint.hostname) }
            for (i, (epPath, host, port, pipe)) in endpoints.enumerated() {
                guard pipe == nil else { throw .invalid("a STRICT_DNS cluster cannot have pipe endpoints", at: epPath) }
                let hostname = i < hostnames.count && !hostnames[i].isEmpty ? hostnames[i] : host
                names.append(DNSEndpoint(host: host, port: port, hostname: hostname))
            }
            let family: ClusterConfig.DNSFamily
            switch cluster.dnsLookupFamily {
            case .auto: family = .auto
            case .v4Only: family = .v4Only
            case .v6Only: family = .v6Only
            case .v4Preferred: family = .v4Preferred
            case .all: family = .all
            case .UNRECOGNIZED: throw .invalid("unknown dns_lookup_family", at: FieldPath.join(path, "dns_lookup_family"))
            }
            let refresh = cluster.hasDnsRefreshRate
                ? try ConfigCompiler.milliseconds(cluster.dnsRefreshRate, at: FieldPath.join(path, "dns_refresh_rate"))
                : 5000
            // Envoy's rule is `gt: {nanos: 1000000}`: 1ms exactly is refused.
            let rate = cluster.dnsRefreshRate
            guard !cluster.hasDnsRefreshRate || rate.seconds > 0 || rate.nanos > 1_000_000 else {
                throw .invalid("must be greater than 1ms", at: FieldPath.join(path, "dns_refresh_rate"))
            }
            discovery = .strictDNS(names, family: family, refreshMilliseconds: refresh)
        case .originalDst:
            // Envoy's checks, with its wording.
            guard lb == .clusterProvided else {
                throw .invalid("cluster: LB policy \(lbPolicyName(cluster.lbPolicy)) is not valid for Cluster type ORIGINAL_DST. "
                    + "Only 'CLUSTER_PROVIDED' is allowed with cluster type 'ORIGINAL_DST'", at: FieldPath.join(path, "lb_policy"))
            }
            guard !cluster.hasLoadAssignment else {
                throw .invalid("ORIGINAL_DST clusters must have no load assignment configured", at: FieldPath.join(path, "load_assignment"))
            }
            discovery = .originalDestination(try originalDestinationOptions(cluster, at: path))
        case .eds:
            discovery = try edsDiscovery(cluster, hasADS: hasADS, at: path)
        default:
            let name = MessageSchema.envoy.enums["envoy.config.cluster.v3.Cluster.DiscoveryType"]?.values
                .first { $0.value == Int32(kind.rawValue) }?.key ?? "\(kind.rawValue)"
            throw .unsupported("cluster type \(name) is not implemented (STATIC, STRICT_DNS, ORIGINAL_DST and EDS are)",
                               at: FieldPath.join(path, "type"))
        }
        if lb == .clusterProvided, kind != .originalDst {
            throw .invalid("cluster manager: cluster provided LB specified but cluster '\(cluster.name)' did not provide one. "
                + "Check cluster documentation.", at: FieldPath.join(path, "lb_policy"))
        }
        if kind != .originalDst {
            // Envoy accepts and ignores these on other cluster types; checked
            // the same way so that what one refuses the other does too.
            _ = try originalDestinationOptions(cluster, at: path)
        }
        let (sourceAddress, extraSourceAddress) = cluster.hasUpstreamBindConfig
            ? try bindSourceAddresses(cluster.upstreamBindConfig, cluster: cluster.name, at: FieldPath.join(path, "upstream_bind_config"))
            : (nil, nil)

        let limit = cluster.hasPerConnectionBufferLimitBytes
            ? Int(cluster.perConnectionBufferLimitBytes.value) : ConfigCompiler.defaultBufferLimit
        let http = try UpstreamHTTPCompiler.compile(cluster, at: path)
        let breakers = cluster.hasCircuitBreakers
            ? try UpstreamHTTPCompiler.compileCircuitBreakers(cluster.circuitBreakers, at: FieldPath.join(path, "circuit_breakers"))
            : CircuitBreakers()
        var config = ClusterConfig(
            name: cluster.name, discovery: discovery, connectTimeoutMilliseconds: connectTimeout,
            loadBalancing: lb, bufferLimitBytes: limit, http: http, circuitBreakers: breakers, sourceAddress: sourceAddress,
            extraSourceAddress: extraSourceAddress
        )
        config.staticEndpoints = staticEndpoints
        if cluster.hasUpstreamConnectionOptions {
            let op = FieldPath.join(path, "upstream_connection_options")
            try SupportedFields.require(cluster.upstreamConnectionOptions, only: ["tcp_keepalive"], at: op)
            if cluster.upstreamConnectionOptions.hasTcpKeepalive {
                let k = cluster.upstreamConnectionOptions.tcpKeepalive
                config.tcpKeepalive = TCPKeepalive(probes: k.hasKeepaliveProbes ? k.keepaliveProbes.value : nil,
                                                   idleSeconds: k.hasKeepaliveTime ? k.keepaliveTime.value : nil,
                                                   intervalSeconds: k.hasKeepaliveInterval ? k.keepaliveInterval.value : nil)
            }
        }
        if cluster.hasCommonLbConfig {
            let cp = FieldPath.join(path, "common_lb_config")
            // Without health checking (which Remora does not have), Envoy's
            // `ignore_new_hosts_until_first_hc` changes nothing either.
            try SupportedFields.require(cluster.commonLbConfig, only: ["healthy_panic_threshold", "ignore_new_hosts_until_first_hc"], at: cp)
            if cluster.commonLbConfig.hasHealthyPanicThreshold {
                let percent = cluster.commonLbConfig.healthyPanicThreshold.value
                guard percent >= 0, percent <= 100 else {
                    throw .invalid("value must be inside range [0, 100]", at: FieldPath.join(cp, "healthy_panic_threshold.value"))
                }
                config.healthyPanicThresholdPercent = percent
            }
        }
        let usesALPN = http.protocolSelection == .alpn
        if cluster.hasTransportSocket {
            // `auto_config`: Envoy's fallback ALPN when the context names none.
            config.tls = try TransportSocketCompiler.upstream(cluster.transportSocket, secrets: secrets,
                                                              alpnFallback: usesALPN ? ["h2", "http/1.1"] : [],
                                                              at: FieldPath.join(path, "transport_socket"))
            config.autoHostSNI = config.tls?.settings.autoHostSNI ?? false
        }
        if usesALPN && config.tls == nil {
            throw .invalid("ALPN configured for cluster \(cluster.name) which has a non-ALPN transport socket",
                           at: FieldPath.join(path, "transport_socket"))
        }
        return config
    }

    /// An EDS cluster: where its `ClusterLoadAssignment` comes from, and its name there.
    private static func edsDiscovery(_ cluster: Envoy_Config_Cluster_V3_Cluster, hasADS: Bool,
                                     at path: String) throws(ConfigError) -> ClusterConfig.Discovery {
        let ep = FieldPath.join(path, "eds_cluster_config")
        // Envoy: "cannot create an EDS cluster without an EDS config".
        guard cluster.hasEdsClusterConfig, cluster.edsClusterConfig.hasEdsConfig else { throw .missing(at: FieldPath.join(ep, "eds_config")) }
        try SupportedFields.require(cluster.edsClusterConfig, only: ["eds_config", "service_name"], at: ep)
        // Envoy ignores an EDS cluster's own load_assignment; refused rather than ignored.
        guard !cluster.hasLoadAssignment else {
            throw .unsupported("an EDS cluster takes its endpoints from eds_cluster_config, not load_assignment",
                               at: FieldPath.join(path, "load_assignment"))
        }
        let source = try ConfigSourceCompiler.compile(cluster.edsClusterConfig.edsConfig, hasADS: hasADS,
                                                      at: FieldPath.join(ep, "eds_config"))
        let service = cluster.edsClusterConfig.serviceName
        return .eds(serviceName: service.isEmpty ? cluster.name : service, source: source)
    }

    private static func lbPolicyName(_ policy: Envoy_Config_Cluster_V3_Cluster.LbPolicy) -> String {
        MessageSchema.envoy.enums["envoy.config.cluster.v3.Cluster.LbPolicy"]?.values
            .first { $0.value == Int32(policy.rawValue) }?.key ?? "\(policy.rawValue)"
    }

    private static func originalDestinationOptions(
        _ cluster: Envoy_Config_Cluster_V3_Cluster, at path: String
    ) throws(ConfigError) -> ClusterConfig.OriginalDestinationOptions {
        var options = ClusterConfig.OriginalDestinationOptions()
        if cluster.hasCleanupInterval {
            let ip = FieldPath.join(path, "cleanup_interval")
            let ms = try ConfigCompiler.milliseconds(cluster.cleanupInterval, at: ip)
            // Envoy's rule is `gt: {}`.
            guard ms > 0 else { throw .invalid("must be greater than 0", at: ip) }
            options.cleanupIntervalMilliseconds = ms
        }
        if case .originalDstLbConfig(let lbConfig)? = cluster.lbConfig {
            let lp = FieldPath.join(path, "original_dst_lb_config")
            try SupportedFields.require(lbConfig, only: ["use_http_header", "http_header_name"], at: lp)
            options.useHTTPHeader = lbConfig.useHTTPHeader
            if !lbConfig.httpHeaderName.isEmpty { options.headerName = lbConfig.httpHeaderName.lowercased() }
        }
        return options
    }

    /// `upstream_bind_config`: `source_address` (an IP address and a port,
    /// usually 0) and one extra source address of the other IP family
    /// (`extra_source_addresses`, or the deprecated
    /// `additional_source_addresses`), checked with Envoy's messages.
    private static func bindSourceAddresses(
        _ bind: Envoy_Config_Core_V3_BindConfig, cluster name: String, at path: String
    ) throws(ConfigError) -> (SocketAddress?, SocketAddress?) {
        try SupportedFields.require(bind, only: ["source_address", "extra_source_addresses", "additional_source_addresses"], at: path)
        var extras: [(SocketAddress, String)] = []
        for (i, extra) in bind.extraSourceAddresses.enumerated() {
            let ep = FieldPath.index(FieldPath.join(path, "extra_source_addresses"), i)
            try SupportedFields.require(extra, only: ["address"], at: ep)
            guard extra.hasAddress else { throw .missing(at: FieldPath.join(ep, "address")) }
            extras.append((try sourceAddress(extra.address, at: FieldPath.join(ep, "address")), ep))
        }
        for (i, extra) in bind.additionalSourceAddresses.enumerated() {
            let ep = FieldPath.index(FieldPath.join(path, "additional_source_addresses"), i)
            extras.append((try sourceAddress(extra, at: ep), ep))
        }
        let config = "Cluster \(name)'s upstream binding config"
        if !bind.extraSourceAddresses.isEmpty && !bind.additionalSourceAddresses.isEmpty {
            throw .invalid("Can't specify both `extra_source_addresses` and `additional_source_addresses` in the \(config)", at: path)
        }
        // An empty bind config binds nothing (Envoy accepts it).
        guard bind.hasSourceAddress else {
            guard extras.isEmpty else {
                throw .invalid("\(config) has extra/additional source addresses but no source_address. "
                    + "Extra/additional addresses cannot be specified if source_address is not set.", at: path)
            }
            return (nil, nil)
        }
        let source = try sourceAddress(bind.sourceAddress, at: FieldPath.join(path, "source_address"))
        guard let (extra, extraPath) = extras.first else { return (source, nil) }
        guard extras.count == 1 else {
            throw .invalid("\(config) has more than one extra/additional source addresses. Only one extra/additional source "
                + "can be supported in BindConfig's extra_source_addresses/additional_source_addresses field", at: extras[1].1)
        }
        switch (source, extra) {
        case (.v4, .v4), (.v6, .v6):
            throw .invalid("\(config) has two same IP version source addresses. Only two different IP version source addresses "
                + "can be supported in BindConfig's source_address and extra_source_addresses/additional_source_addresses fields",
                at: extraPath)
        default:
            return (source, extra)
        }
    }

    private static func sourceAddress(_ socket: Envoy_Config_Core_V3_SocketAddress, at sp: String) throws(ConfigError) -> SocketAddress {
        try SupportedFields.require(socket, only: ["address", "port_value", "protocol"], at: sp)
        guard socket.protocol == .tcp else {
            throw .unsupported("only TCP source addresses are implemented", at: FieldPath.join(sp, "protocol"))
        }
        // Envoy's `port_specifier` is required; 0 lets the kernel pick.
        guard case .portValue(let port)? = socket.portSpecifier else { throw .missing(at: FieldPath.join(sp, "port_value")) }
        guard port <= 65535 else {
            throw .invalid("port \(port) out of range (at most 65535)", at: FieldPath.join(sp, "port_value"))
        }
        guard let ip = SocketAddress.ip(socket.address, port: UInt16(port)) else {
            throw .invalid("malformed IP address: \(socket.address)", at: FieldPath.join(sp, "address"))
        }
        return ip
    }

    /// (path, host, port, pipe path) of every endpoint in the load assignment.
    private static func endpointAddresses(
        _ cluster: Envoy_Config_Cluster_V3_Cluster, at path: String
    ) throws(ConfigError) -> [(String, String, UInt16, String?)] {
        guard cluster.hasLoadAssignment else { return [] }
        let assignment = cluster.loadAssignment
        try SupportedFields.require(assignment, only: ["cluster_name", "endpoints"], at: path)
        var result: [(String, String, UInt16, String?)] = []
        for (i, locality) in assignment.endpoints.enumerated() {
            let lp = FieldPath.index(FieldPath.join(path, "endpoints"), i)
            // A STATIC cluster's weights and health statuses are read by
            // `staticEndpoints` (the other kinds refuse them).
            let isStatic = cluster.type == .static
            try SupportedFields.require(locality, only: isStatic ? ["locality", "lb_endpoints", "priority", "load_balancing_weight"]
                                                                 : ["locality", "lb_endpoints", "priority"], at: lp)
            guard locality.priority == 0 else {
                throw .unsupported("priorities other than 0 are not implemented", at: FieldPath.join(lp, "priority"))
            }
            for (j, lbEndpoint) in locality.lbEndpoints.enumerated() {
                let ep = FieldPath.index(FieldPath.join(lp, "lb_endpoints"), j)
                try SupportedFields.require(lbEndpoint, only: isStatic ? ["endpoint", "metadata", "load_balancing_weight", "health_status"]
                                                                       : ["endpoint", "metadata"], at: ep)
                guard case .endpoint(let endpoint)? = lbEndpoint.hostIdentifier else {
                    throw .missing(at: FieldPath.join(ep, "endpoint"))
                }
                let endpointPath = FieldPath.join(ep, "endpoint")
                let address = try endpointAddress(endpoint, at: endpointPath)
                result.append((FieldPath.join(endpointPath, address.field), address.host, address.port, address.pipe))
            }
        }
        return result
    }

    /// A STATIC cluster whose endpoints say weights or health statuses:
    /// its endpoints as EDS would give them (nil when every one is a plain
    /// healthy host of weight 1).
    private static func weightedStaticEndpoints(_ cluster: Envoy_Config_Cluster_V3_Cluster,
                                                at path: String) throws(ConfigError) -> [EndpointConfig]? {
        let localities = cluster.loadAssignment.endpoints
        let plain = localities.allSatisfy { locality in
            !locality.hasLoadBalancingWeight
                && locality.lbEndpoints.allSatisfy {
                    !$0.hasLoadBalancingWeight && $0.healthStatus == .unknown && $0.endpoint.hostname.isEmpty
                }
        }
        guard !plain else { return nil }
        var assignment = cluster.loadAssignment
        assignment.clearPolicy()
        return try LoadAssignmentCompiler.compile(assignment, at: path)
    }

    /// (path, host, port, pipe path) of one endpoint's address; `address`
    /// and `hostname` are its only fields read.
    /// An endpoint's host and port (or pipe path), and the path of the
    /// field that named it relative to the endpoint (`field`, for the
    /// caller's later errors). `endpointPath` is built only for an error:
    /// EDS compiles this for every endpoint of a push.
    static func endpointAddress(_ endpoint: Envoy_Config_Endpoint_V3_Endpoint, at endpointPath: @autoclosure () -> String)
        throws(ConfigError) -> (field: String, host: String, port: UInt16, pipe: String?) {
        try SupportedFields.require(endpoint, only: ["address", "hostname"], at: endpointPath())
        func addrPath() -> String { FieldPath.join(endpointPath(), "address") }
        switch endpoint.address.address {
        case .socketAddress(let socket)?:
            func sp() -> String { FieldPath.join(addrPath(), "socket_address") }
            try SupportedFields.require(socket, only: ["address", "port_value", "protocol"], at: sp())
            guard socket.protocol == .tcp else {
                throw .unsupported("only TCP endpoints are implemented", at: FieldPath.join(sp(), "protocol"))
            }
            guard case .portValue(let port)? = socket.portSpecifier else {
                throw .missing(at: FieldPath.join(sp(), "port_value"))
            }
            guard port <= 65535 else {
                throw .invalid("port \(port) out of range (at most 65535)", at: FieldPath.join(sp(), "port_value"))
            }
            guard !socket.address.isEmpty else { throw .missing(at: FieldPath.join(sp(), "address")) }
            return ("address.socket_address.address", socket.address, UInt16(port), nil)
        case .pipe(let pipe)?:
            try SupportedFields.require(pipe, only: ["path"], at: FieldPath.join(addrPath(), "pipe"))
            return ("address.pipe", "", 0, pipe.path)
        case .envoyInternalAddress?:
            throw .unsupported("internal addresses are not implemented", at: FieldPath.join(addrPath(), "envoy_internal_address"))
        case nil:
            throw .missing(at: addrPath())
        }
    }
}
