import RemoraAPI
import RemoraCore

/// The bootstrap's `stats_config` and `stats_flush_interval`, compiled.
/// Immutable; read by the admin handlers and the flush timer (main thread).
public struct StatsSettings: Sendable {
    /// Envoy's default `stats_flush_interval`.
    public static let defaultFlushIntervalMilliseconds: UInt64 = 5000
    /// Envoy's default histogram buckets (milliseconds).
    public static let defaultBuckets: [Double] = [
        0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
        300000, 600000, 1800000, 3600000,
    ]

    public var flushIntervalMilliseconds: UInt64 = defaultFlushIntervalMilliseconds
    public var tags: TagProducer = .make(useDefaults: true, custom: [])
    /// `stats_matcher`: which stats exist.
    public var matcher: Matcher = .all
    /// `histogram_bucket_settings`: the first matching entry's buckets.
    public var bucketSettings: [(match: StringMatcher, buckets: [Double])] = []
    /// `stats_sinks` with `envoy.stat_sinks.statsd` (UDP).
    public var statsd: Statsd?

    public struct Statsd: Sendable {
        public let address: SocketAddress
        /// Put before every name (`envoy` unless configured).
        public let prefix: String
    }

    public enum Matcher: Sendable {
        case all
        case none
        case inclusion([StringMatcher])
        case exclusion([StringMatcher])

        public func accepts(_ name: String) -> Bool {
            switch self {
            case .all: true
            case .none: false
            case .inclusion(let list): list.contains { $0.matches(name) }
            case .exclusion(let list): !list.contains { $0.matches(name) }
            }
        }
    }

    public init() {}

    /// The Prometheus buckets of histogram `name`.
    public func buckets(for name: String) -> [Double] {
        bucketSettings.first { $0.match.matches(name) }?.buckets ?? Self.defaultBuckets
    }
}

extension StatsSettings {
    static let statsdType = "envoy.config.metrics.v3.StatsdSink"

    /// `envoy.stat_sinks.statsd` with a UDP `address`; `tcp_cluster_name`
    /// (statsd over a cluster) is refused.
    static func compileStatsd(_ sink: Envoy_Config_Metrics_V3_StatsSink, at path: String) throws(ConfigError) -> Statsd {
        try SupportedFields.require(sink, only: ["name", "typed_config"], at: path)
        guard case .typedConfig(let any)? = sink.configType else { throw .missing(at: FieldPath.join(path, "typed_config")) }
        let tp = FieldPath.join(path, "typed_config")
        guard TypeURL.messageName(any.typeURL) == statsdType else {
            throw .unsupported("stats sink \(TypeURL.messageName(any.typeURL)) is not implemented (only \(statsdType))", at: tp)
        }
        let statsd = try TypeURL.unpack(Envoy_Config_Metrics_V3_StatsdSink.self, from: any, at: tp)
        try SupportedFields.require(statsd, only: ["address", "prefix"], at: tp)
        guard case .address(let address)? = statsd.statsdSpecifier else { throw .missing(at: FieldPath.join(tp, "address")) }
        let ap = FieldPath.join(tp, "address")
        guard case .socketAddress(let socket)? = address.address else {
            throw .unsupported("only a socket_address is implemented", at: ap)
        }
        let sp = FieldPath.join(ap, "socket_address")
        try SupportedFields.require(socket, only: ["address", "port_value", "protocol"], at: sp)
        guard case .portValue(let port)? = socket.portSpecifier, port <= 65535 else {
            throw .invalid("a port_value up to 65535 is required", at: FieldPath.join(sp, "port_value"))
        }
        guard let ip = SocketAddress.ip(socket.address, port: UInt16(port)) else {
            throw .invalid("malformed IP address: \(socket.address)", at: FieldPath.join(sp, "address"))
        }
        return Statsd(address: ip, prefix: statsd.prefix.isEmpty ? "envoy" : statsd.prefix)
    }

    /// Envoy's checks, and refusal of what Remora does not implement.
    static func compile(_ bootstrap: Envoy_Config_Bootstrap_V3_Bootstrap) throws(ConfigError) -> StatsSettings {
        var settings = StatsSettings()
        if bootstrap.hasStatsFlushInterval {
            let d = bootstrap.statsFlushInterval
            let ms = try ConfigCompiler.milliseconds(d, at: "stats_flush_interval")
            guard ms >= 1, d.seconds < 300 else {
                throw .invalid("must be at least 1ms and less than 300s", at: "stats_flush_interval")
            }
            settings.flushIntervalMilliseconds = ms
        }
        for (i, sink) in bootstrap.statsSinks.enumerated() {
            let sp = FieldPath.index("stats_sinks", i)
            guard i == 0 else { throw .unsupported("only one stats sink is implemented", at: sp) }
            settings.statsd = try compileStatsd(sink, at: sp)
        }
        guard bootstrap.hasStatsConfig else { return settings }
        let config = bootstrap.statsConfig
        let path = "stats_config"
        try SupportedFields.require(config, only: [
            "stats_tags", "use_all_default_tags", "stats_matcher", "histogram_bucket_settings",
        ], at: path)

        var custom: [TagProducer.CustomTag] = []
        for (i, spec) in config.statsTags.enumerated() {
            let sp = FieldPath.index(FieldPath.join(path, "stats_tags"), i)
            guard !spec.tagName.isEmpty else { throw .invalid("tag_name cannot be empty", at: FieldPath.join(sp, "tag_name")) }
            switch spec.tagValue {
            case .regex(let pattern)? where !pattern.isEmpty:
                // Envoy runs custom tag regexes with std::regex (ECMAScript);
                // Remora with RE2, whose syntax covers what tag regexes use
                // (no look-around or back-references: those are refused here).
                let regex: CompiledRegex
                do { regex = try CompiledRegex(pattern) } catch {
                    throw .invalid("invalid regex: \(error.message)", at: FieldPath.join(sp, "regex"))
                }
                custom.append(.init(name: spec.tagName, kind: .regex(regex)))
            case .fixedValue(let value)?:
                custom.append(.init(name: spec.tagName, kind: .fixed(value)))
            case .regex?, nil:
                guard TagProducer.defaultTagNames.contains(spec.tagName) else {
                    throw .invalid("No regex specified for tag specifier and no default regex for name: '\(spec.tagName)'", at: sp)
                }
                custom.append(.init(name: spec.tagName, kind: .defaultNamed))
            }
        }
        let useDefaults = !config.hasUseAllDefaultTags || config.useAllDefaultTags.value
        settings.tags = .make(useDefaults: useDefaults, custom: custom)

        if config.hasStatsMatcher {
            let mp = FieldPath.join(path, "stats_matcher")
            func list(_ l: Envoy_Type_Matcher_V3_ListStringMatcher, _ field: String) throws(ConfigError) -> [StringMatcher] {
                let lp = FieldPath.join(mp, field)
                try SupportedFields.require(l, only: ["patterns"], at: lp)
                guard !l.patterns.isEmpty else { throw .invalid("patterns must have at least 1 item", at: FieldPath.join(lp, "patterns")) }
                var out: [StringMatcher] = []
                for (i, p) in l.patterns.enumerated() {
                    out.append(try StringMatcher.compile(p, at: FieldPath.index(FieldPath.join(lp, "patterns"), i)))
                }
                return out
            }
            switch config.statsMatcher.statsMatcher {
            case .rejectAll(let reject)?: settings.matcher = reject ? .none : .all
            case .inclusionList(let l)?: settings.matcher = .inclusion(try list(l, "inclusion_list"))
            case .exclusionList(let l)?: settings.matcher = .exclusion(try list(l, "exclusion_list"))
            case nil: throw .missing(at: mp)
            }
        }

        for (i, setting) in config.histogramBucketSettings.enumerated() {
            let hp = FieldPath.index(FieldPath.join(path, "histogram_bucket_settings"), i)
            try SupportedFields.require(setting, only: ["match", "buckets"], at: hp)
            guard setting.hasMatch else { throw .missing(at: FieldPath.join(hp, "match")) }
            let match = try StringMatcher.compile(setting.match, at: FieldPath.join(hp, "match"))
            guard !setting.buckets.isEmpty else {
                throw .invalid("buckets must have at least 1 item", at: FieldPath.join(hp, "buckets"))
            }
            for (j, b) in setting.buckets.enumerated() where !(b > 0) {
                throw .invalid("value must be greater than 0", at: FieldPath.index(FieldPath.join(hp, "buckets"), j))
            }
            guard Set(setting.buckets).count == setting.buckets.count else {
                throw .invalid("buckets must contain unique items", at: FieldPath.join(hp, "buckets"))
            }
            settings.bucketSettings.append((match, setting.buckets.sorted()))
        }
        return settings
    }
}
