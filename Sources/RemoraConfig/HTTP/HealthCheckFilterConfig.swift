import RemoraAPI
import Synchronization

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
    /// `cache_time` (pass-through mode only): the last health check's
    /// answer, shared by every worker.
    public var cache: HealthCheckResponseCache?
}

/// Envoy's `HealthCheckCacheManager`: the status (and `x-envoy-degraded`)
/// of the last health check's response, answered again to health checks
/// until the next tick of a `cache_time` period. Shared by the workers
/// (a lock taken once per health check, never per ordinary request).
public final class HealthCheckResponseCache: Sendable {
    public let periodMilliseconds: UInt64
    private struct State {
        /// When the periods started (the first health check; Envoy: the filter's creation).
        var start: UInt64?
        /// The period in which a response was stored, if any.
        var storedInPeriod: UInt64?
        var status = 200
        var degraded = false
    }
    private let state = Mutex(State())

    public init(periodMilliseconds: UInt64) {
        self.periodMilliseconds = periodMilliseconds
    }

    /// The stored answer, while the period it was stored in lasts.
    public func cached(now: UInt64) -> (status: Int, degraded: Bool)? {
        state.withLock { s in
            let start = s.start ?? now
            s.start = start
            guard s.storedInPeriod == (now &- start) / periodMilliseconds else { return nil }
            return (s.status, s.degraded)
        }
    }

    /// The last stored answer, whatever its period (200 before any).
    public var lastStored: (status: Int, degraded: Bool) {
        state.withLock { ($0.status, $0.degraded) }
    }

    public func store(status: Int, degraded: Bool, now: UInt64) {
        state.withLock { s in
            let start = s.start ?? now
            s.start = start
            s.storedInPeriod = (now &- start) / periodMilliseconds
            s.status = status
            s.degraded = degraded
        }
    }
}

enum HealthCheckFilterCompiler {
    static let typeName = Envoy_Extensions_Filters_Http_HealthCheck_V3_HealthCheck.protoMessageName

    static func compile(
        _ config: Envoy_Extensions_Filters_Http_HealthCheck_V3_HealthCheck, at path: String
    ) throws(ConfigError) -> HealthCheckFilterConfig {
        try SupportedFields.require(config, only: ["pass_through_mode", "headers", "cluster_min_healthy_percentages", "cache_time"],
                                    at: path)
        guard config.hasPassThroughMode else { throw .missing(at: FieldPath.join(path, "pass_through_mode")) }
        let passThrough = config.passThroughMode.value
        var cache: HealthCheckResponseCache?
        if config.hasCacheTime {
            let milliseconds = try ConfigCompiler.milliseconds(config.cacheTime, at: FieldPath.join(path, "cache_time"))
            if milliseconds > 0 {
                guard passThrough else {
                    throw .invalid("cache_time_ms must not be set when path_through_mode is disabled", at: FieldPath.join(path, "cache_time"))
                }
                cache = HealthCheckResponseCache(periodMilliseconds: milliseconds)
            }
        }
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
                                       clusterMinHealthyPercentages: passThrough ? [] : percentages, cache: cache)
    }
}
