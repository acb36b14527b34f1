import RemoraAPI

/// `envoy.extensions.filters.http.health_check.v3.HealthCheck`, compiled:
/// which requests are health checks, and how they are answered.
///
/// Immutable and `Sendable`; read by every worker's streams.
public struct HealthCheckFilterConfig: Sendable {
    /// `pass_through_mode`: health checks go on to the upstream unless the
    /// server is failed (`/healthcheck/fail`).
    public var passThrough: Bool
    /// `headers`: a request is a health check when every matcher matches
    /// (an empty list matches every request, as in Envoy).
    public var headers: [HeaderMatcher]
    /// `cluster_min_healthy_percentages`, sorted by cluster name (Envoy
    /// keeps them in a `std::map`), the percentage truncated to an integer
    /// as Envoy compares it. Empty in pass-through mode, where Envoy ignores it.
    public var clusterMinHealthyPercentages: [(cluster: String, percent: UInt64)]
}

enum HealthCheckFilterCompiler {
    static let typeName = Envoy_Extensions_Filters_Http_HealthCheck_V3_HealthCheck.protoMessageName

    static func compile(
        _ config: Envoy_Extensions_Filters_Http_HealthCheck_V3_HealthCheck, at path: String
    ) throws(ConfigError) -> HealthCheckFilterConfig {
        // `cache_time` (a cached upstream answer per worker) is not implemented.
        try SupportedFields.require(config, only: ["pass_through_mode", "headers", "cluster_min_healthy_percentages"], at: path)
        guard config.hasPassThroughMode else { throw .missing(at: FieldPath.join(path, "pass_through_mode")) }
        let passThrough = config.passThroughMode.value
        var headers: [HeaderMatcher] = []
        for (i, matcher) in config.headers.enumerated() {
            headers.append(try HeaderMatcher.compile(matcher, at: FieldPath.index(FieldPath.join(path, "headers"), i)))
        }
        var percentages: [(cluster: String, percent: UInt64)] = []
        for (name, percent) in config.clusterMinHealthyPercentages.sorted(by: { $0.key < $1.key }) {
            let at = FieldPath.key(FieldPath.join(path, "cluster_min_healthy_percentages"), name)
            try SupportedFields.require(percent, only: ["value"], at: at)
            guard percent.value >= 0, percent.value <= 100 else {
                throw .invalid("value must be inside range [0, 100]", at: FieldPath.join(at, "value"))
            }
            percentages.append((name, UInt64(percent.value)))
        }
        return HealthCheckFilterConfig(passThrough: passThrough, headers: headers,
                                       clusterMinHealthyPercentages: passThrough ? [] : percentages)
    }
}
