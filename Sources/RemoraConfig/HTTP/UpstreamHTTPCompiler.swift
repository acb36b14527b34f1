import RemoraAPI

/// A cluster's HTTP protocol options and circuit breakers.
enum UpstreamHTTPCompiler {
    static let protocolOptionsType = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.protoMessageName
    /// Keys Envoy accepts for the HTTP protocol options (the type name, and the extension's registered name).
    static let protocolOptionsKeys: Set<String> = [protocolOptionsType, "envoy.upstreams.http.http_protocol_options"]

    static func compile(_ cluster: Envoy_Config_Cluster_V3_Cluster, at path: String) throws(ConfigError) -> UpstreamHTTPConfig {
        var config = UpstreamHTTPConfig()
        let optionsPath = FieldPath.join(path, "typed_extension_protocol_options")
        var found = false
        for key in cluster.typedExtensionProtocolOptions.keys.sorted() {
            let kp = FieldPath.key(optionsPath, key)
            guard protocolOptionsKeys.contains(key), let any = cluster.typedExtensionProtocolOptions[key] else {
                throw .unsupported("unsupported protocol options '\(key)'", at: kp)
            }
            let type = TypeURL.messageName(any.typeURL)
            guard type == protocolOptionsType else { throw .unsupported("unsupported type \(type)", at: kp) }
            guard !found else { throw .invalid("HTTP protocol options given twice", at: kp) }
            found = true
            let options = try TypeURL.unpack(Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.self, from: any, at: kp)
            config = try compileOptions(options, at: kp)
        }
        if cluster.hasHTTP2ProtocolOptions {
            // The deprecated v3 field Envoy still honours: HTTP/2 upstream.
            let hp = FieldPath.join(path, "http2_protocol_options")
            guard !found else {
                throw .invalid("cannot use both http2_protocol_options and typed_extension_protocol_options", at: hp)
            }
            config.protocolSelection = .http2
            config.http2 = try HTTPProtocolOptionsCompiler.compileHTTP2(cluster.http2ProtocolOptions, at: hp)
        }
        if cluster.hasMaxRequestsPerConnection {
            if found && config.common.maxRequestsPerConnection != 0 {
                throw .invalid("Only one of max_requests_per_connection from Cluster or HttpProtocolOptions can be specified",
                               at: FieldPath.join(path, "max_requests_per_connection"))
            }
            config.common.maxRequestsPerConnection = cluster.maxRequestsPerConnection.value
        }
        return config
    }

    static func compileOptions(
        _ options: Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions, at path: String
    ) throws(ConfigError) -> UpstreamHTTPConfig {
        try SupportedFields.require(options, only: [
            "common_http_protocol_options", "explicit_http_config", "use_downstream_protocol_config",
            "upstream_http_protocol_options", "auto_config",
        ], at: path)
        var config = UpstreamHTTPConfig()
        if options.hasUpstreamHTTPProtocolOptions {
            let up = options.upstreamHTTPProtocolOptions
            let upPath = FieldPath.join(path, "upstream_http_protocol_options")
            try SupportedFields.require(up, only: ["auto_sni", "auto_san_validation", "override_auto_sni_header"], at: upPath)
            let header = up.overrideAutoSniHeader
            if !header.isEmpty {
                // The proto's rule: a well-known header name.
                guard ASCIIBytes.isValidHeaderName(header) else {
                    throw .invalid("invalid header name '\(header)'", at: FieldPath.join(upPath, "override_auto_sni_header"))
                }
            }
            config.upstreamTLSNames = UpstreamTLSNames(autoSNI: up.autoSni, autoSANValidation: up.autoSanValidation,
                                                       overrideHeader: header.isEmpty ? nil : header.lowercased())
        }
        if options.hasCommonHTTPProtocolOptions {
            config.common = try HTTPProtocolOptionsCompiler.compileCommon(
                options.commonHTTPProtocolOptions, side: .upstream, at: FieldPath.join(path, "common_http_protocol_options"))
        }
        switch options.upstreamProtocolOptions {
        case .explicitHTTPConfig(let explicit)?:
            let ep = FieldPath.join(path, "explicit_http_config")
            try SupportedFields.require(explicit, only: ["http_protocol_options", "http2_protocol_options"], at: ep)
            switch explicit.protocolConfig {
            case .httpProtocolOptions(let http1)?:
                config.protocolSelection = .http1
                config.http1 = try HTTPProtocolOptionsCompiler.compileHTTP1(http1, side: .upstream, at: FieldPath.join(ep, "http_protocol_options"))
            case .http2ProtocolOptions(let http2)?:
                config.protocolSelection = .http2
                config.http2 = try HTTPProtocolOptionsCompiler.compileHTTP2(http2, at: FieldPath.join(ep, "http2_protocol_options"))
            case .http3ProtocolOptions?:
                preconditionFailure("refused by SupportedFields")
            case nil:
                throw .invalid("one of http_protocol_options, http2_protocol_options or http3_protocol_options is required", at: ep)
            }
        case .useDownstreamProtocolConfig(let downstream)?:
            let dp = FieldPath.join(path, "use_downstream_protocol_config")
            try SupportedFields.require(downstream, only: ["http_protocol_options", "http2_protocol_options"], at: dp)
            config.protocolSelection = .useDownstreamProtocol
            if downstream.hasHTTP2ProtocolOptions {
                config.http2 = try HTTPProtocolOptionsCompiler.compileHTTP2(
                    downstream.http2ProtocolOptions, at: FieldPath.join(dp, "http2_protocol_options"))
            }
            if downstream.hasHTTPProtocolOptions {
                config.http1 = try HTTPProtocolOptionsCompiler.compileHTTP1(
                    downstream.httpProtocolOptions, side: .upstream, at: FieldPath.join(dp, "http_protocol_options"))
            }
        case .autoConfig(let auto)?:
            // HTTP/2 or HTTP/1.1, whichever the server picks by ALPN (the
            // cluster's TLS transport is checked by ClusterCompiler).
            let ap = FieldPath.join(path, "auto_config")
            try SupportedFields.require(auto, only: ["http_protocol_options", "http2_protocol_options"], at: ap)
            config.protocolSelection = .alpn
            config.http2 = auto.hasHTTP2ProtocolOptions
                ? try HTTPProtocolOptionsCompiler.compileHTTP2(auto.http2ProtocolOptions, at: FieldPath.join(ap, "http2_protocol_options"))
                : HTTP2ProtocolOptions()
            if auto.hasHTTPProtocolOptions {
                config.http1 = try HTTPProtocolOptionsCompiler.compileHTTP1(
                    auto.httpProtocolOptions, side: .upstream, at: FieldPath.join(ap, "http_protocol_options"))
            }
        case nil:
            throw .invalid("one of explicit_http_config, use_downstream_protocol_config or auto_config is required", at: path)
        }
        return config
    }

    static func compileCircuitBreakers(_ breakers: Envoy_Config_Cluster_V3_CircuitBreakers, at path: String) throws(ConfigError) -> CircuitBreakers {
        try SupportedFields.require(breakers, only: ["thresholds"], at: path)
        var result = CircuitBreakers()
        var seen: Set<RoutingPriority> = []
        for (i, threshold) in breakers.thresholds.enumerated() {
            let tp = FieldPath.index(FieldPath.join(path, "thresholds"), i)
            try SupportedFields.require(threshold, only: [
                "priority", "max_connections", "max_pending_requests", "max_requests", "max_retries",
                "track_remaining",
            ], at: tp)
            let priority: RoutingPriority
            switch threshold.priority {
            case .default: priority = .default
            case .high: priority = .high
            case .UNRECOGNIZED: throw .invalid("unknown priority", at: FieldPath.join(tp, "priority"))
            }
            // Envoy takes the first thresholds of each priority (`std::find_if`).
            guard seen.insert(priority).inserted else { continue }
            var t = CircuitBreakerThresholds()
            if threshold.hasMaxConnections { t.maxConnections = threshold.maxConnections.value }
            if threshold.hasMaxPendingRequests { t.maxPendingRequests = threshold.maxPendingRequests.value }
            if threshold.hasMaxRequests { t.maxRequests = threshold.maxRequests.value }
            if threshold.hasMaxRetries { t.maxRetries = threshold.maxRetries.value }
            t.trackRemaining = threshold.trackRemaining
            if priority == .high { result.highPriority = t } else { result.defaultPriority = t }
        }
        return result
    }
}
