import RemoraCore

/// `http.<stat_prefix>.health_check.*`, Envoy's names. They follow the
/// connection manager's own stats in its scope, which has them only when
/// one of its connection managers has the filter (Envoy makes them with
/// the filter's config).
public enum HealthCheckStat: Int, CaseIterable, Sendable {
    case requestTotal, failed, ok, cachedResponse, failedClusterNotFound, failedClusterEmpty, failedClusterUnhealthy, degraded

    public var name: String {
        switch self {
        case .requestTotal: "request_total"
        case .failed: "failed"
        case .ok: "ok"
        case .cachedResponse: "cached_response"
        case .failedClusterNotFound: "failed_cluster_not_found"
        case .failedClusterEmpty: "failed_cluster_empty"
        case .failedClusterUnhealthy: "failed_cluster_unhealthy"
        case .degraded: "degraded"
        }
    }

    /// Index of the first one in an `HTTPStat` scope.
    static let base = HTTPStat.allCases.count

    /// The scope entries that follow `HTTPStat`'s.
    static var scopeEntries: [(String, StatKind)] { allCases.map { ("health_check.\($0.name)", .counter) } }
}

extension HTTPStat {
    /// The scope of one stat prefix, with the health-check filter's stats
    /// when `healthCheck`.
    public static func makeScope(statPrefix: String, healthCheck: Bool, in store: StatsStore) -> StatScope {
        store.makeScope(prefix: "http.\(statPrefix).", HTTPStat.self, extra: healthCheck ? HealthCheckStat.scopeEntries : [])
    }
}

extension Stats where S == HTTPStat {
    /// Counts a health-check stat; the scope must have been made with them.
    func add(_ stat: HealthCheckStat) { slots.add(HealthCheckStat.base + stat.rawValue, 1) }
}
