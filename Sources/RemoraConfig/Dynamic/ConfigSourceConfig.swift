import RemoraAPI

/// Where one kind of resource comes from: Envoy's `ConfigSource`, compiled.
/// Used by `dynamic_resources.lds_config`/`cds_config`, an HCM's `rds`, an
/// EDS cluster's `eds_config` and an SDS secret's `sds_config`.
public struct ConfigSourceConfig: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// `ads: {}`: the bootstrap's `ads_config` stream.
        case ads
        /// `path_config_source`: a file holding a `DiscoveryResponse`, read again
        /// when it is moved into place (or anything is moved in `watched_directory`).
        case path(String, watchedDirectory: String?)
        /// `api_config_source` with `GRPC` or `DELTA_GRPC` over `envoy_grpc` to a static cluster.
        case grpc(GRPCSourceConfig)
    }

    public var kind: Kind
    /// `initial_fetch_timeout` (Envoy's default 15 s; 0 means wait forever).
    public var initialFetchTimeoutMilliseconds: UInt64

    public init(kind: Kind, initialFetchTimeoutMilliseconds: UInt64 = 15_000) {
        self.kind = kind
        self.initialFetchTimeoutMilliseconds = initialFetchTimeoutMilliseconds
    }

    /// The gRPC stream of an `api_config_source`, if this is one.
    public var grpcSource: GRPCSourceConfig? {
        if case .grpc(let source) = kind { return source }
        return nil
    }
}

/// One gRPC xDS stream: `ads_config` or an `api_config_source`.
public struct GRPCSourceConfig: Hashable, Sendable {
    /// `GRPC` (state of the world) or `DELTA_GRPC` (incremental).
    public var delta: Bool
    /// `grpc_services[0].envoy_grpc.cluster_name`: a static cluster.
    public var clusterName: String
    /// `grpc_services[0].envoy_grpc.authority`, when set.
    public var authority: String?
    /// `set_node_on_first_message_only`.
    public var setNodeOnFirstMessageOnly: Bool
    /// `grpc_services[0].envoy_grpc.max_receive_message_length`, or
    /// `defaultMaxReceiveMessageBytes` when it is unset or 0: a longer
    /// response ends the stream RESOURCE_EXHAUSTED (and it reconnects).
    public var maxReceiveMessageBytes: Int
    /// `grpc_services[0].envoy_grpc.retry_policy.retry_back_off` (ms): the
    /// stream's re-connection back-off; nil: Envoy's 500 ms to 30 s.
    public var retryBackOff: BackOffIntervals?
    /// `rate_limit_settings`: a token bucket on the requests sent; nil: none.
    public var rateLimit: RateLimitSettings?
    /// `grpc_services[0].initial_metadata`: headers on every stream's head.
    public var initialMetadata: [Header] = []

    public struct Header: Hashable, Sendable {
        public var name: String
        public var value: String
    }

    public struct BackOffIntervals: Hashable, Sendable {
        public var baseMilliseconds: UInt64
        public var maxMilliseconds: UInt64
    }

    /// Envoy's `RateLimitSettings` (`max_tokens` default 100, `fill_rate`
    /// default 10 a second).
    public struct RateLimitSettings: Hashable, Sendable {
        public var maxTokens: UInt32 = 100
        public var fillRatePerSecond: Double = 10
    }

    /// Envoy reads 0 (its default) as no limit, so a control plane can make
    /// it buffer a message of any length the 4-byte gRPC prefix can state
    /// (4 GiB). Remora bounds it: 256 MiB holds a state-of-the-world CDS
    /// response for a mesh of ~100,000 clusters; set the field to go higher.
    public static let defaultMaxReceiveMessageBytes = 256 << 20

    public init(delta: Bool, clusterName: String, authority: String? = nil, setNodeOnFirstMessageOnly: Bool = false,
                maxReceiveMessageBytes: Int = GRPCSourceConfig.defaultMaxReceiveMessageBytes,
                retryBackOff: BackOffIntervals? = nil, rateLimit: RateLimitSettings? = nil) {
        self.retryBackOff = retryBackOff
        self.rateLimit = rateLimit
        self.delta = delta
        self.clusterName = clusterName
        self.authority = authority
        self.setNodeOnFirstMessageOnly = setNodeOnFirstMessageOnly
        self.maxReceiveMessageBytes = maxReceiveMessageBytes
    }
}

/// The bootstrap's `dynamic_resources`.
public struct DynamicResourcesConfig: Sendable {
    public var lds: ConfigSourceConfig?
    public var cds: ConfigSourceConfig?
    /// `ads_config`, needed when any source says `ads: {}`.
    public var ads: GRPCSourceConfig?

    public init(lds: ConfigSourceConfig? = nil, cds: ConfigSourceConfig? = nil, ads: GRPCSourceConfig? = nil) {
        self.lds = lds
        self.cds = cds
        self.ads = ads
    }
}

public enum ConfigSourceCompiler {
    /// Compiles a `ConfigSource`; `ads: {}` needs `hasADS` (the bootstrap's `ads_config`).
    public static func compile(_ source: Envoy_Config_Core_V3_ConfigSource, hasADS: Bool, at path: String) throws(ConfigError) -> ConfigSourceConfig {
        try SupportedFields.require(source, only: [
            "path_config_source", "api_config_source", "ads", "initial_fetch_timeout", "resource_api_version",
        ], at: path)
        // resource_api_version: Envoy 1.40 asks for V3 resources whatever it
        // says (V2 included), so it is read and has no effect.
        let timeout = try ConfigCompiler.milliseconds(source.initialFetchTimeout, ifSet: source.hasInitialFetchTimeout,
                                                      at: FieldPath.join(path, "initial_fetch_timeout")) ?? 15_000
        switch source.configSourceSpecifier {
        case .ads?:
            guard hasADS else {
                throw .invalid("ads: {} needs dynamic_resources.ads_config in the bootstrap", at: FieldPath.join(path, "ads"))
            }
            return ConfigSourceConfig(kind: .ads, initialFetchTimeoutMilliseconds: timeout)
        case .pathConfigSource(let p)?:
            let pp = FieldPath.join(path, "path_config_source")
            try SupportedFields.require(p, only: ["path", "watched_directory"], at: pp)
            guard !p.path.isEmpty else { throw .missing(at: FieldPath.join(pp, "path")) }
            let watched = p.hasWatchedDirectory ? p.watchedDirectory.path : nil
            if let watched, watched.isEmpty { throw .missing(at: FieldPath.join(pp, "watched_directory.path")) }
            return ConfigSourceConfig(kind: .path(p.path, watchedDirectory: watched), initialFetchTimeoutMilliseconds: timeout)
        case .apiConfigSource(let api)?:
            let grpc = try compileGRPC(api, at: FieldPath.join(path, "api_config_source"), aggregated: false)
            return ConfigSourceConfig(kind: .grpc(grpc), initialFetchTimeoutMilliseconds: timeout)
        case .path?:
            throw .unsupported("the deprecated 'path' is not implemented; use path_config_source", at: FieldPath.join(path, "path"))
        case .self_p?:
            throw .unsupported("self config sources are not implemented", at: FieldPath.join(path, "self"))
        case nil:
            throw .missing(at: FieldPath.join(path, "config_source_specifier"))
        }
    }

    /// An `ApiConfigSource` (an `api_config_source`, or the bootstrap's `ads_config`).
    public static func compileGRPC(_ api: Envoy_Config_Core_V3_ApiConfigSource, at path: String, aggregated: Bool) throws(ConfigError) -> GRPCSourceConfig {
        // refresh_delay and request_timeout are REST's: Envoy reads neither
        // for a gRPC source.
        try SupportedFields.require(api, only: [
            "api_type", "transport_api_version", "grpc_services", "set_node_on_first_message_only", "rate_limit_settings",
            "refresh_delay", "request_timeout",
        ], at: path)
        let delta: Bool
        switch api.apiType {
        case .grpc: delta = false
        case .deltaGrpc: delta = true
        case .aggregatedGrpc where aggregated: delta = false
        case .aggregatedDeltaGrpc where aggregated: delta = true
        default:
            throw .unsupported("api_type \(api.apiType) is not implemented (GRPC and DELTA_GRPC are)", at: FieldPath.join(path, "api_type"))
        }
        guard api.transportApiVersion == .v3 else {
            throw .invalid("transport_api_version must be V3", at: FieldPath.join(path, "transport_api_version"))
        }
        guard api.grpcServices.count == 1 else {
            throw .invalid("exactly one grpc_services entry is needed (got \(api.grpcServices.count))", at: FieldPath.join(path, "grpc_services"))
        }
        let service = api.grpcServices[0]
        let sp = FieldPath.join(path, "grpc_services[0]")
        // `timeout` bounds a unary call; Envoy's xDS streams are opened
        // without one, so it has no effect on them (checked with Envoy 1.40).
        try SupportedFields.require(service, only: ["envoy_grpc", "timeout", "initial_metadata"], at: sp)
        var metadata: [GRPCSourceConfig.Header] = []
        for (i, header) in service.initialMetadata.enumerated() {
            let hp = FieldPath.join(sp, "initial_metadata[\(i)]")
            try SupportedFields.require(header, only: ["key", "value", "raw_value"], at: hp)
            let name = header.key.lowercased()
            guard !name.isEmpty, !name.hasPrefix(":"), name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }) else {
                throw .invalid("'\(header.key)' is not a valid header name", at: FieldPath.join(hp, "key"))
            }
            let value = header.rawValue.isEmpty ? header.value : String(decoding: header.rawValue, as: UTF8.self)
            guard !value.utf8.contains(where: { $0 == 0 || $0 == 0x0A || $0 == 0x0D }) else {
                throw .invalid("a header value cannot hold NUL, CR or LF", at: FieldPath.join(hp, "value"))
            }
            metadata.append(.init(name: name, value: value))
        }
        guard case .envoyGrpc(let envoy)? = service.targetSpecifier else {
            throw .unsupported("only envoy_grpc is implemented", at: FieldPath.join(sp, "google_grpc"))
        }
        let ep = FieldPath.join(sp, "envoy_grpc")
        try SupportedFields.require(envoy, only: ["cluster_name", "authority", "max_receive_message_length", "retry_policy"],
                                    at: ep)
        guard !envoy.clusterName.isEmpty else { throw .missing(at: FieldPath.join(sp, "envoy_grpc.cluster_name")) }
        let limit = Int(envoy.maxReceiveMessageLength.value)
        var backOff: GRPCSourceConfig.BackOffIntervals?
        if envoy.hasRetryPolicy {
            backOff = try compileRetryBackOff(envoy.retryPolicy, at: FieldPath.join(ep, "retry_policy"))
        }
        var rateLimit: GRPCSourceConfig.RateLimitSettings?
        if api.hasRateLimitSettings {
            rateLimit = try compileRateLimit(api.rateLimitSettings, at: FieldPath.join(path, "rate_limit_settings"))
        }
        var source = GRPCSourceConfig(delta: delta, clusterName: envoy.clusterName,
                                      authority: envoy.authority.isEmpty ? nil : envoy.authority,
                                      setNodeOnFirstMessageOnly: api.setNodeOnFirstMessageOnly,
                                      maxReceiveMessageBytes: limit > 0 ? limit : GRPCSourceConfig.defaultMaxReceiveMessageBytes,
                                      retryBackOff: backOff, rateLimit: rateLimit)
        source.initialMetadata = metadata
        return source
    }

    /// `envoy_grpc.retry_policy`: for an xDS stream Envoy reads only
    /// `retry_back_off` (`num_retries` has no meaning for a stream that is
    /// always re-opened, and is ignored as Envoy ignores it).
    static func compileRetryBackOff(_ policy: Envoy_Config_Core_V3_RetryPolicy,
                                    at path: String) throws(ConfigError) -> GRPCSourceConfig.BackOffIntervals? {
        try SupportedFields.require(policy, only: ["retry_back_off", "num_retries"], at: path)
        guard policy.hasRetryBackOff else { return nil }
        let bp = FieldPath.join(path, "retry_back_off")
        let backOff = policy.retryBackOff
        try SupportedFields.require(backOff, only: ["base_interval", "max_interval"], at: bp)
        guard backOff.hasBaseInterval else { throw .missing(at: FieldPath.join(bp, "base_interval")) }
        let base = try ConfigCompiler.milliseconds(backOff.baseInterval, at: FieldPath.join(bp, "base_interval"))
        guard base >= 1 else { throw .invalid("must be at least 1ms", at: FieldPath.join(bp, "base_interval")) }
        var max = base * 10
        if backOff.hasMaxInterval {
            max = try ConfigCompiler.milliseconds(backOff.maxInterval, at: FieldPath.join(bp, "max_interval"))
            guard max > 0 else { throw .invalid("must be greater than 0", at: FieldPath.join(bp, "max_interval")) }
        }
        guard max >= base else {
            throw .invalid("max_interval must be greater than or equal to the base_interval", at: FieldPath.join(bp, "max_interval"))
        }
        return GRPCSourceConfig.BackOffIntervals(baseMilliseconds: base, maxMilliseconds: max)
    }

    /// `rate_limit_settings` (Envoy's `Utility::parseRateLimitSettings`).
    static func compileRateLimit(_ settings: Envoy_Config_Core_V3_RateLimitSettings,
                                 at path: String) throws(ConfigError) -> GRPCSourceConfig.RateLimitSettings {
        try SupportedFields.require(settings, only: ["max_tokens", "fill_rate"], at: path)
        var limit = GRPCSourceConfig.RateLimitSettings()
        if settings.hasMaxTokens { limit.maxTokens = settings.maxTokens.value }
        if settings.hasFillRate {
            let rate = settings.fillRate.value
            guard !rate.isNaN && !rate.isInfinite else {
                throw .invalid("The value of fill_rate in RateLimitSettings (\(rate)) must not be NaN nor Inf",
                               at: FieldPath.join(path, "fill_rate"))
            }
            guard rate > 0 else { throw .invalid("must be greater than 0", at: FieldPath.join(path, "fill_rate")) }
            limit.fillRatePerSecond = rate
        }
        return limit
    }

    /// The bootstrap's `dynamic_resources`.
    public static func compileDynamicResources(_ d: Envoy_Config_Bootstrap_V3_Bootstrap.DynamicResources) throws(ConfigError) -> DynamicResourcesConfig {
        let path = "dynamic_resources"
        try SupportedFields.require(d, only: ["lds_config", "cds_config", "ads_config"], at: path)
        var config = DynamicResourcesConfig()
        if d.hasAdsConfig {
            config.ads = try compileGRPC(d.adsConfig, at: FieldPath.join(path, "ads_config"), aggregated: true)
        }
        if d.hasLdsConfig {
            config.lds = try compile(d.ldsConfig, hasADS: config.ads != nil, at: FieldPath.join(path, "lds_config"))
        }
        if d.hasCdsConfig {
            config.cds = try compile(d.cdsConfig, hasADS: config.ads != nil, at: FieldPath.join(path, "cds_config"))
        }
        return config
    }
}
