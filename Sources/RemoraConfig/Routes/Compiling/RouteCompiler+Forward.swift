import RemoraAPI

extension RouteCompiler {
    /// Envoy's `DEFAULT_ROUTE_TIMEOUT_MS`.
    static let defaultRouteTimeoutMilliseconds: UInt64 = 15_000

    static func compileForward(
        _ config: Envoy_Config_Route_V3_RouteAction, at path: @autoclosure () -> String, context: inout RouteCompileContext,
        requestMutations: [HeaderMutation], responseMutations: [HeaderMutation]
    ) throws(ConfigError) -> ForwardAction {
        try SupportedFields.require(config, only: [
            "cluster", "cluster_header", "weighted_clusters", "cluster_not_found_response_code", "prefix_rewrite",
            "regex_rewrite", "host_rewrite_literal", "auto_host_rewrite", "host_rewrite_header", "host_rewrite_path_regex",
            "append_x_forwarded_host", "timeout", "idle_timeout", "retry_policy", "request_mirror_policies",
            "upgrade_configs", "max_stream_duration", "max_grpc_timeout", "grpc_timeout_offset",
        ], at: path())
        // `hash_policy` and `priority` (HIGH; DEFAULT is the unset value) are
        // refused by the list above until a balancer hashes and the router
        // picks circuit-breaker thresholds by priority: compiled and unused,
        // they would be ignored config.

        let cluster: ForwardAction.ClusterSpecifier
        switch config.clusterSpecifier {
        case .cluster(let name)?:
            guard !name.isEmpty else { throw .invalid("value length must be at least 1 characters", at: FieldPath.join(path(), "cluster")) }
            if let site = context.site {
                context.references.append(ClusterReference(cluster: name, kind: .route, virtualHostPath: site.virtualHostPath,
                                                           route: site.route, suffix: "route.cluster"))
            } else {
                context.references.append(ClusterReference(cluster: name, path: FieldPath.join(path(), "cluster"), kind: .route))
            }
            cluster = .cluster(name)
        case .clusterHeader(let header)?:
            cluster = .clusterHeader(try checkHeaderName(header, at: FieldPath.join(path(), "cluster_header")))
        case .weightedClusters(let weighted)?:
            cluster = .weighted(try compileWeighted(
                weighted, at: FieldPath.join(path(), "weighted_clusters"), context: &context,
                requestMutations: requestMutations, responseMutations: responseMutations))
        case .clusterSpecifierPlugin?, .inlineClusterSpecifierPlugin?:
            preconditionFailure("refused by SupportedFields")
        case nil:
            throw .invalid("one of cluster, cluster_header or weighted_clusters is required", at: path())
        }

        let notFound: Int
        switch config.clusterNotFoundResponseCode {
        case .serviceUnavailable: notFound = 503
        case .notFound: notFound = 404
        case .internalServerError: notFound = 500
        case .UNRECOGNIZED: throw .invalid("unknown cluster_not_found_response_code", at: FieldPath.join(path(), "cluster_not_found_response_code"))
        }

        if !config.prefixRewrite.isEmpty && config.hasRegexRewrite {
            throw .invalid("Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy", at: FieldPath.join(path(), "regex_rewrite"))
        }
        var pathRewrite: PathRewrite? = nil
        if !config.prefixRewrite.isEmpty {
            try checkHeaderValue(config.prefixRewrite, at: FieldPath.join(path(), "prefix_rewrite"))
            pathRewrite = .prefix(config.prefixRewrite)
        } else if config.hasRegexRewrite {
            pathRewrite = .regex(try RegexCompiler.compileSubstitution(config.regexRewrite, at: FieldPath.join(path(), "regex_rewrite")))
        }

        var hostRewrite: HostRewrite? = nil
        switch config.hostRewriteSpecifier {
        case .hostRewriteLiteral(let host)?:
            try checkHeaderValue(host, at: FieldPath.join(path(), "host_rewrite_literal"))
            if !host.isEmpty { hostRewrite = .literal(host) }
        case .autoHostRewrite(let flag)?:
            if flag.value { hostRewrite = .auto }
        case .hostRewriteHeader(let header)?:
            hostRewrite = .header(try checkHeaderName(header, at: FieldPath.join(path(), "host_rewrite_header")))
        case .hostRewritePathRegex(let spec)?:
            hostRewrite = .pathRegex(try RegexCompiler.compileSubstitution(spec, at: FieldPath.join(path(), "host_rewrite_path_regex")))
        case .hostRewrite?:
            preconditionFailure("refused by SupportedFields")
        case nil:
            break
        }

        let timeout = config.hasTimeout
            ? try ConfigCompiler.milliseconds(config.timeout, at: FieldPath.join(path(), "timeout")) : defaultRouteTimeoutMilliseconds
        let idle = config.hasIdleTimeout
            ? try ConfigCompiler.milliseconds(config.idleTimeout, at: FieldPath.join(path(), "idle_timeout")) : nil
        var maxStream: UInt64? = nil
        var grpcTimeouts = GRPCRouteTimeouts()
        if config.hasMaxStreamDuration {
            func mp() -> String { FieldPath.join(path(), "max_stream_duration") }
            let msd = config.maxStreamDuration
            try SupportedFields.require(msd, only: ["max_stream_duration", "grpc_timeout_header_max", "grpc_timeout_header_offset"], at: mp())
            grpcTimeouts.usesStreamDuration = true
            maxStream = try ConfigCompiler.milliseconds(
                msd.maxStreamDuration, ifSet: msd.hasMaxStreamDuration, at: FieldPath.join(mp(), "max_stream_duration"))
            grpcTimeouts.headerMaxMilliseconds = try ConfigCompiler.milliseconds(
                msd.grpcTimeoutHeaderMax, ifSet: msd.hasGrpcTimeoutHeaderMax, at: FieldPath.join(mp(), "grpc_timeout_header_max"))
            grpcTimeouts.headerOffsetMilliseconds = try ConfigCompiler.milliseconds(
                msd.grpcTimeoutHeaderOffset, ifSet: msd.hasGrpcTimeoutHeaderOffset, at: FieldPath.join(mp(), "grpc_timeout_header_offset"))
        }
        grpcTimeouts.maxGrpcTimeoutMilliseconds = try ConfigCompiler.milliseconds(
            config.maxGrpcTimeout, ifSet: config.hasMaxGrpcTimeout, at: FieldPath.join(path(), "max_grpc_timeout"))
        grpcTimeouts.offsetMilliseconds = try ConfigCompiler.milliseconds(
            config.grpcTimeoutOffset, ifSet: config.hasGrpcTimeoutOffset, at: FieldPath.join(path(), "grpc_timeout_offset"))

        let retry = config.hasRetryPolicy
            ? try compileRetryPolicy(config.retryPolicy, at: FieldPath.join(path(), "retry_policy")) : context.vhostRetryPolicy
        let ownMirrors = config.requestMirrorPolicies.isEmpty
            ? [] : try compileMirrors(config.requestMirrorPolicies, at: FieldPath.join(path(), "request_mirror_policies"))
        let mirrors = ownMirrors.isEmpty ? context.inheritedMirrors : ownMirrors
        recordMirrorReferences(mirrors, context: &context)

        var upgrades: [String: Bool] = [:]
        var terminatesConnect = false
        for (i, upgrade) in config.upgradeConfigs.enumerated() {
            let up = FieldPath.index(FieldPath.join(path(), "upgrade_configs"), i)
            try SupportedFields.require(upgrade, only: ["upgrade_type", "enabled", "connect_config"], at: up)
            let type = try compileUpgradeType(upgrade.upgradeType, at: FieldPath.join(up, "upgrade_type"))
            let enabled = upgrade.hasEnabled ? upgrade.enabled.value : true
            guard upgrades.updateValue(enabled, forKey: type) == nil else {
                throw .invalid("Duplicate upgrade \(upgrade.upgradeType)", at: up)
            }
            if upgrade.hasConnectConfig {
                let connectPath = FieldPath.join(up, "connect_config")
                guard type == "connect" else {
                    throw .invalid("connect_config applies to upgrade_type CONNECT only", at: connectPath)
                }
                try SupportedFields.require(upgrade.connectConfig, only: [], at: connectPath)
                terminatesConnect = enabled
            }
            // CONNECT enabled without `connect_config` (here or by the
            // connection manager): the router passes it on as a request.
        }

        return ForwardAction(
            cluster: cluster, clusterNotFoundResponseCode: notFound, pathRewrite: pathRewrite, hostRewrite: hostRewrite,
            appendXForwardedHost: config.appendXForwardedHost, timeoutMilliseconds: timeout, idleTimeoutMilliseconds: idle,
            maxStreamDurationMilliseconds: maxStream, retryPolicy: retry,
            mirrorPolicies: mirrors, upgrades: upgrades, grpcTimeouts: grpcTimeouts, terminatesConnect: terminatesConnect)
    }

    /// An upgrade type (lowercased; CONNECT is `connect`). CONNECT-UDP needs
    /// a UDP tunnelling runtime Remora does not have.
    static func compileUpgradeType(_ type: String, at path: String) throws(ConfigError) -> String {
        guard !type.isEmpty else { throw .invalid("value length must be at least 1 characters", at: path) }
        guard ASCIIBytes.isValidHeaderName(type) else { throw .invalid("invalid upgrade type '\(type)'", at: path) }
        let lowered = type.lowercased()
        if lowered == "connect-udp" {
            throw .unsupported("\(type) upgrades are not implemented", at: path)
        }
        return lowered
    }

    static func compileWeighted(
        _ config: Envoy_Config_Route_V3_WeightedCluster, at path: String, context: inout RouteCompileContext,
        requestMutations: [HeaderMutation], responseMutations: [HeaderMutation]
    ) throws(ConfigError) -> WeightedClusters {
        // `total_weight` is deprecated and ignored by Envoy (the sum of the weights is used);
        // `runtime_key_prefix` only names runtime keys, and Remora has no runtime layers.
        try SupportedFields.require(config, only: ["clusters", "total_weight", "runtime_key_prefix", "header_name"], at: path)
        guard !config.clusters.isEmpty else {
            throw .invalid("value must contain at least 1 item(s)", at: FieldPath.join(path, "clusters"))
        }
        var entries: [WeightedClusters.Entry] = []
        var total: UInt64 = 0
        for (i, cluster) in config.clusters.enumerated() {
            let cp = FieldPath.index(FieldPath.join(path, "clusters"), i)
            try SupportedFields.require(cluster, only: [
                "name", "cluster_header", "weight", "request_headers_to_add", "request_headers_to_remove",
                "response_headers_to_add", "response_headers_to_remove", "host_rewrite_literal",
            ], at: cp)
            if !cluster.name.isEmpty && !cluster.clusterHeader.isEmpty {
                throw .invalid("Only one of name or cluster_header can be specified", at: cp)
            }
            if cluster.name.isEmpty && cluster.clusterHeader.isEmpty {
                throw .invalid("At least one of name or cluster_header need to be specified", at: cp)
            }
            var header: String? = nil
            if !cluster.clusterHeader.isEmpty {
                header = try checkHeaderName(cluster.clusterHeader, at: FieldPath.join(cp, "cluster_header"))
            } else {
                context.references.append(ClusterReference(cluster: cluster.name, path: FieldPath.join(cp, "name"), kind: .weighted))
            }
            let ownRequest = try HeaderMutationCompiler.compile(
                add: cluster.requestHeadersToAdd, remove: cluster.requestHeadersToRemove,
                addPath: FieldPath.join(cp, "request_headers_to_add"), removePath: FieldPath.join(cp, "request_headers_to_remove"))
            let ownResponse = try HeaderMutationCompiler.compile(
                add: cluster.responseHeadersToAdd, remove: cluster.responseHeadersToRemove,
                addPath: FieldPath.join(cp, "response_headers_to_add"), removePath: FieldPath.join(cp, "response_headers_to_remove"))
            var hostLiteral: String? = nil
            if case .hostRewriteLiteral(let host)? = cluster.hostRewriteSpecifier, !host.isEmpty {
                try checkHeaderValue(host, at: FieldPath.join(cp, "host_rewrite_literal"))
                hostLiteral = host
            }
            let weight = cluster.hasWeight ? cluster.weight.value : 0
            total += UInt64(weight)
            // Envoy applies the entry's own mutations before the route's (`WeightedClusterEntry::finalizeRequestHeaders`).
            entries.append(WeightedClusters.Entry(
                name: cluster.name, clusterHeader: header, weight: weight, hostRewriteLiteral: hostLiteral,
                requestHeaderMutations: (ownRequest.isEmpty ? [] : [ownRequest]) + requestMutations,
                responseHeaderMutations: (ownResponse.isEmpty ? [] : [ownResponse]) + responseMutations))
        }
        guard total > 0 else {
            throw .invalid("Sum of weights in the weighted_cluster must be greater than 0.", at: FieldPath.join(path, "clusters"))
        }
        var randomHeader: String? = nil
        if case .headerName(let name)? = config.randomValueSpecifier, !name.isEmpty {
            randomHeader = try checkHeaderName(name, at: FieldPath.join(path, "header_name"))
        }
        return WeightedClusters(entries: entries, totalWeight: total, randomValueHeader: randomHeader)
    }
}
