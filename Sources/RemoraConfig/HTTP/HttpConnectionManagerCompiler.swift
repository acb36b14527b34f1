import RemoraAPI
import RemoraCore
import SwiftProtobuf

/// `HttpConnectionManager` (a network filter's `typed_config`) → `HttpConnectionManagerConfig`.
enum HttpConnectionManagerCompiler {
    static let routerType = Envoy_Extensions_Filters_Http_Router_V3_Router.protoMessageName
    /// Envoy's `StreamIdleTimeoutMs`.
    static let defaultStreamIdleTimeoutMilliseconds: UInt64 = 300_000
    /// Envoy's `DEFAULT_MAX_REQUEST_HEADERS_KB`.
    static let defaultMaxRequestHeadersKB: UInt32 = 60

    /// `forward_client_cert_details` and `set_current_client_cert_details`
    /// (the details in the order Envoy 1.40 writes them: Cert, Chain, Subject, URI, DNS).
    static func compileForwardClientCert(
        _ config: Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager, at path: String
    ) throws(ConfigError) -> ForwardClientCertConfig {
        var result = ForwardClientCertConfig()
        switch config.forwardClientCertDetails {
        case .sanitize: result.mode = .sanitize
        case .forwardOnly: result.mode = .forwardOnly
        case .appendForward: result.mode = .appendForward
        case .sanitizeSet: result.mode = .sanitizeSet
        case .alwaysForwardOnly: result.mode = .alwaysForwardOnly
        case .UNRECOGNIZED(let raw):
            throw .invalid("unknown forward_client_cert_details \(raw)", at: FieldPath.join(path, "forward_client_cert_details"))
        }
        if config.hasSetCurrentClientCertDetails {
            let details = config.setCurrentClientCertDetails
            try SupportedFields.require(details, only: ["subject", "cert", "chain", "dns", "uri"],
                                        at: FieldPath.join(path, "set_current_client_cert_details"))
            if details.cert { result.details.append(.cert) }
            if details.chain { result.details.append(.chain) }
            if details.hasSubject && details.subject.value { result.details.append(.subject) }
            if details.uri { result.details.append(.uri) }
            if details.dns { result.details.append(.dns) }
        }
        return result
    }

    static func compile(
        _ config: Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager, hasADS: Bool = false,
        at path: String
    ) throws(ConfigError) -> HttpConnectionManagerConfig {
        try SupportedFields.require(config, only: [
            "codec_type", "stat_prefix", "route_config", "rds", "http_filters", "common_http_protocol_options",
            "http_protocol_options", "http2_protocol_options", "server_name", "server_header_transformation", "max_request_headers_kb",
            "stream_idle_timeout", "request_timeout", "request_headers_timeout", "drain_timeout", "delayed_close_timeout",
            "use_remote_address", "xff_num_trusted_hops", "internal_address_config", "skip_xff_append", "via",
            "generate_request_id", "preserve_external_request_id", "always_set_request_id_in_response",
            "upgrade_configs", "normalize_path", "merge_slashes", "path_with_escaped_slashes_action",
            "strip_matching_host_port", "strip_any_host_port", "strip_trailing_host_dot",
            "stream_error_on_invalid_http_message", "access_log",
            "forward_client_cert_details", "set_current_client_cert_details",
        ], at: path)
        guard !config.statPrefix.isEmpty else { throw .missing(at: FieldPath.join(path, "stat_prefix")) }

        let codec: HttpConnectionManagerConfig.CodecType
        switch config.codecType {
        case .auto: codec = .auto
        case .http1: codec = .http1
        case .http2: codec = .http2
        case .http3: throw .unsupported("HTTP/3 is not implemented", at: FieldPath.join(path, "codec_type"))
        case .UNRECOGNIZED: throw .invalid("unknown codec_type", at: FieldPath.join(path, "codec_type"))
        }

        let routes: RouteSource
        switch config.routeSpecifier {
        case .routeConfig(let table)?:
            routes = .inline(try RouteTableCompiler.compile(table, at: FieldPath.join(path, "route_config")))
        case .rds(let rds)?:
            let rp = FieldPath.join(path, "rds")
            try SupportedFields.require(rds, only: ["config_source", "route_config_name"], at: rp)
            guard rds.hasConfigSource else { throw .missing(at: FieldPath.join(rp, "config_source")) }
            let source = try ConfigSourceCompiler.compile(rds.configSource, hasADS: hasADS, at: FieldPath.join(rp, "config_source"))
            routes = .rds(RDSReference(routeConfigName: rds.routeConfigName, source: source))
        case .scopedRoutes?:
            preconditionFailure("refused by SupportedFields")
        case nil:
            throw .missing(at: FieldPath.join(path, "route_config"))
        }

        let filters = try compileFilters(config.httpFilters, at: FieldPath.join(path, "http_filters"))

        let serverTransformation: HttpConnectionManagerConfig.ServerHeaderTransformation
        switch config.serverHeaderTransformation {
        case .overwrite: serverTransformation = .overwrite
        case .appendIfAbsent: serverTransformation = .appendIfAbsent
        case .passThrough: serverTransformation = .passThrough
        case .UNRECOGNIZED: throw .invalid("unknown server_header_transformation", at: FieldPath.join(path, "server_header_transformation"))
        }
        if !config.serverName.isEmpty {
            try RouteCompiler.checkHeaderValue(config.serverName, at: FieldPath.join(path, "server_name"))
        }
        if !config.via.isEmpty {
            try RouteCompiler.checkHeaderValue(config.via, at: FieldPath.join(path, "via"))
        }

        var maxHeadersKB = defaultMaxRequestHeadersKB
        if config.hasMaxRequestHeadersKb {
            let kb = config.maxRequestHeadersKb.value
            guard kb > 0 && kb <= 8192 else {
                throw .invalid("value must be inside range (0, 8192]", at: FieldPath.join(path, "max_request_headers_kb"))
            }
            maxHeadersKB = kb
        }

        func ms(_ d: SwiftProtobuf.Google_Protobuf_Duration, _ field: String) throws(ConfigError) -> UInt64 {
            try ConfigCompiler.milliseconds(d, at: FieldPath.join(path, field))
        }
        let streamIdle = config.hasStreamIdleTimeout ? try ms(config.streamIdleTimeout, "stream_idle_timeout") : defaultStreamIdleTimeoutMilliseconds
        let requestTimeout = config.hasRequestTimeout ? try ms(config.requestTimeout, "request_timeout") : 0
        let headersTimeout = config.hasRequestHeadersTimeout ? try ms(config.requestHeadersTimeout, "request_headers_timeout") : 0
        let drain = config.hasDrainTimeout ? try ms(config.drainTimeout, "drain_timeout") : 5000
        let delayedClose = config.hasDelayedCloseTimeout ? try ms(config.delayedCloseTimeout, "delayed_close_timeout") : 1000

        let common = config.hasCommonHTTPProtocolOptions
            ? try HTTPProtocolOptionsCompiler.compileCommon(config.commonHTTPProtocolOptions, side: .downstream,
                                                            at: FieldPath.join(path, "common_http_protocol_options"))
            : HTTPProtocolOptions()
        let http1 = config.hasHTTPProtocolOptions
            ? try HTTPProtocolOptionsCompiler.compileHTTP1(config.httpProtocolOptions, side: .downstream,
                                                           at: FieldPath.join(path, "http_protocol_options"))
            : HTTP1ProtocolOptions()

        var upgrades: [UpgradeConfig] = []
        for (i, upgrade) in config.upgradeConfigs.enumerated() {
            let up = FieldPath.index(FieldPath.join(path, "upgrade_configs"), i)
            try SupportedFields.require(upgrade, only: ["upgrade_type", "enabled", "filters"], at: up)
            if !upgrade.filters.isEmpty {
                throw .unsupported("per-upgrade filter chains are not implemented", at: FieldPath.join(up, "filters"))
            }
            let type = try RouteCompiler.compileUpgradeType(upgrade.upgradeType, at: FieldPath.join(up, "upgrade_type"))
            guard !upgrades.contains(where: { $0.type == type }) else {
                throw .invalid("Error: multiple upgrade configs with the same name: '\(upgrade.upgradeType)'", at: up)
            }
            upgrades.append(UpgradeConfig(type: type, enabled: upgrade.hasEnabled ? upgrade.enabled.value : true))
        }

        let escaped: HttpConnectionManagerConfig.PathWithEscapedSlashesAction
        switch config.pathWithEscapedSlashesAction {
        case .implementationSpecificDefault, .keepUnchanged: escaped = .keepUnchanged
        case .rejectRequest: escaped = .rejectRequest
        case .unescapeAndRedirect: escaped = .unescapeAndRedirect
        case .unescapeAndForward: escaped = .unescapeAndForward
        case .UNRECOGNIZED: throw .invalid("unknown path_with_escaped_slashes_action", at: FieldPath.join(path, "path_with_escaped_slashes_action"))
        }

        var stripAny = false
        if case .stripAnyHostPort(let flag)? = config.stripPortMode { stripAny = flag }
        if stripAny && config.stripMatchingHostPort {
            throw .invalid("Error: Only one of `strip_matching_host_port` or `strip_any_host_port` can be set.",
                           at: FieldPath.join(path, "strip_any_host_port"))
        }

        var compiled = HttpConnectionManagerConfig(
            statPrefix: config.statPrefix, codec: codec, routes: routes, httpFilters: filters,
            serverName: config.serverName.isEmpty ? "envoy" : config.serverName,
            serverHeaderTransformation: serverTransformation,
            useRemoteAddress: config.hasUseRemoteAddress ? config.useRemoteAddress.value : false,
            xffNumTrustedHops: config.xffNumTrustedHops, skipXffAppend: config.skipXffAppend,
            via: config.via.isEmpty ? nil : config.via,
            generateRequestId: config.hasGenerateRequestID ? config.generateRequestID.value : true,
            preserveExternalRequestId: config.preserveExternalRequestID,
            alwaysSetRequestIdInResponse: config.alwaysSetRequestIDInResponse,
            internalAddresses: config.hasInternalAddressConfig
                ? try compileInternalAddresses(config.internalAddressConfig, at: FieldPath.join(path, "internal_address_config"))
                : InternalAddressConfig(),
            streamIdleTimeoutMilliseconds: streamIdle, requestTimeoutMilliseconds: requestTimeout,
            requestHeadersTimeoutMilliseconds: headersTimeout, drainTimeoutMilliseconds: drain,
            delayedCloseTimeoutMilliseconds: delayedClose, common: common, http1: http1,
            maxRequestHeadersKB: maxHeadersKB, upgrades: upgrades,
            normalizePath: config.hasNormalizePath ? config.normalizePath.value : false,
            mergeSlashes: config.mergeSlashes, pathWithEscapedSlashesAction: escaped,
            stripPortMode: stripAny ? .any : (config.stripMatchingHostPort ? .matchingHost : .none),
            stripTrailingHostDot: config.stripTrailingHostDot,
            streamErrorOnInvalidHTTPMessage: config.hasStreamErrorOnInvalidHTTPMessage
                ? config.streamErrorOnInvalidHTTPMessage.value : false)
        compiled.accessLogs = try AccessLogCompiler.compile(config.accessLog, at: FieldPath.join(path, "access_log"))
        compiled.forwardClientCert = try compileForwardClientCert(config, at: path)
        if config.hasHTTP2ProtocolOptions {
            compiled.http2 = try HTTPProtocolOptionsCompiler.compileHTTP2(
                config.http2ProtocolOptions, at: FieldPath.join(path, "http2_protocol_options"))
        }
        return compiled
    }

    /// `http_filters`: Envoy's `FilterChainHelper::processFilters`. A filter
    /// type Remora lacks is an error unless `is_optional` (then it is
    /// skipped, as Envoy skips an optional filter it has no factory for).
    static func compileFilters(
        _ filters: [Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter], at path: String
    ) throws(ConfigError) -> [HTTPFilterConfig] {
        var result: [HTTPFilterConfig] = []
        for (i, filter) in filters.enumerated() {
            let fp = FieldPath.index(path, i)
            try SupportedFields.require(filter, only: ["name", "typed_config", "is_optional", "disabled"], at: fp)
            guard !filter.name.isEmpty else { throw .missing(at: FieldPath.join(fp, "name")) }
            guard case .typedConfig(let any)? = filter.configType else {
                throw .missing(at: FieldPath.join(fp, "typed_config"))
            }
            let typePath = FieldPath.join(fp, "typed_config")
            let typeName = TypeURL.messageName(any.typeURL)
            let isLast = i == filters.count - 1
            switch typeName {
            case routerType:
                let router = try TypeURL.unpack(Envoy_Extensions_Filters_Http_Router_V3_Router.self, from: any, at: typePath)
                let compiled = try compileRouter(router, at: typePath)
                guard isLast else {
                    throw .invalid("Error: terminal filter named \(filter.name) of type envoy.filters.http.router must be the last filter in a http filter chain.", at: fp)
                }
                if filter.disabled {
                    throw .invalid("Error: the last (terminal) filter (\(filter.name)) in the chain cannot be disabled by default.",
                                   at: FieldPath.join(fp, "disabled"))
                }
                result.append(.router(compiled))
            case HealthCheckFilterCompiler.typeName:
                let config = try TypeURL.unpack(Envoy_Extensions_Filters_Http_HealthCheck_V3_HealthCheck.self, from: any, at: typePath)
                let compiled = try HealthCheckFilterCompiler.compile(config, at: typePath)
                // A filter disabled by default runs only where a route
                // enables it (`typed_per_filter_config`, which Remora
                // refuses): here, never.
                if !filter.disabled { result.append(.healthCheck(compiled)) }
            default:
                if filter.isOptional { continue }
                throw .unsupported("unsupported type \(typeName)", at: typePath)
            }
        }
        return result
    }

    static func compileRouter(_ config: Envoy_Extensions_Filters_Http_Router_V3_Router, at path: String) throws(ConfigError) -> RouterFilterConfig {
        // `start_child_span` only matters with tracing, which Remora does not do.
        try SupportedFields.require(config, only: [
            "dynamic_stats", "start_child_span", "suppress_envoy_headers", "strict_check_headers",
            "respect_expected_rq_timeout", "suppress_grpc_request_failure_code_stats",
        ], at: path)
        let allowed: Set<String> = [
            "x-envoy-upstream-rq-timeout-ms", "x-envoy-upstream-rq-per-try-timeout-ms", "x-envoy-max-retries",
            "x-envoy-retry-grpc-on", "x-envoy-retry-on",
        ]
        for (i, header) in config.strictCheckHeaders.enumerated() where !allowed.contains(header) {
            throw .invalid("value must be in list \(allowed.sorted())", at: FieldPath.index(FieldPath.join(path, "strict_check_headers"), i))
        }
        // Accepted only where Remora does what Envoy does with them.
        if !config.strictCheckHeaders.isEmpty {
            throw .unsupported("strict checking of x-envoy-* request headers is not implemented",
                               at: FieldPath.join(path, "strict_check_headers"))
        }
        if config.hasDynamicStats && !config.dynamicStats.value {
            throw .unsupported("turning off the router's dynamic stats is not implemented", at: FieldPath.join(path, "dynamic_stats"))
        }
        if config.respectExpectedRqTimeout {
            throw .unsupported("x-envoy-expected-rq-timeout-ms is not honoured yet",
                               at: FieldPath.join(path, "respect_expected_rq_timeout"))
        }
        return RouterFilterConfig(
            dynamicStats: config.hasDynamicStats ? config.dynamicStats.value : true,
            suppressEnvoyHeaders: config.suppressEnvoyHeaders,
            strictCheckHeaders: config.strictCheckHeaders,
            respectExpectedRequestTimeout: config.respectExpectedRqTimeout,
            suppressGrpcRequestFailureCodeStats: config.suppressGrpcRequestFailureCodeStats)
    }

    static func compileInternalAddresses(
        _ config: Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.InternalAddressConfig,
        at path: String
    ) throws(ConfigError) -> InternalAddressConfig {
        try SupportedFields.require(config, only: ["unix_sockets", "cidr_ranges"], at: path)
        var ranges: [CIDRRange] = []
        for (i, range) in config.cidrRanges.enumerated() {
            ranges.append(try compileCIDR(range, at: FieldPath.index(FieldPath.join(path, "cidr_ranges"), i)))
        }
        return InternalAddressConfig(unixSockets: config.unixSockets, cidrRanges: ranges)
    }

    static func compileCIDR(_ config: Envoy_Config_Core_V3_CidrRange, at path: String) throws(ConfigError) -> CIDRRange {
        try SupportedFields.require(config, only: ["address_prefix", "prefix_len"], at: path)
        guard !config.addressPrefix.isEmpty else { throw .missing(at: FieldPath.join(path, "address_prefix")) }
        let length = config.hasPrefixLen ? Int(config.prefixLen.value) : 0
        guard let range = CIDRRange(config.addressPrefix, prefixLength: length) else {
            throw .invalid("invalid CIDR range \(config.addressPrefix)/\(length)", at: path)
        }
        return range
    }
}

extension HttpConnectionManagerConfig {
    /// Compiles a connection manager config on its own (tests of other
    /// modules, tools). Error paths start at its root. Unknown clusters are
    /// not checked here (see `ListenerCompiler.validateRouteClusters`).
    public static func compile(
        _ config: Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager
    ) throws(ConfigError) -> HttpConnectionManagerConfig {
        try HttpConnectionManagerCompiler.compile(config, at: "")
    }
}
