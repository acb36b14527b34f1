public import RemoraCore

/// A subscription's stats, with Envoy's names (`config/subscription.h`),
/// under the prefix its user gives: `listener_manager.lds.`,
/// `cluster_manager.cds.`, `http.<prefix>.rds.<route_config>.`,
/// `cluster.<name>.` for EDS, `sds.<secret>.`. The text readout
/// `version_text` (the last accepted `version_info`) is set beside them.
public enum XDSSubscriptionStat: Int, StatName {
    case initFetchTimeout, updateAttempt, updateFailure, updateRejected, updateSuccess, updateTime, version
    case updateDuration

    public var name: String {
        switch self {
        case .initFetchTimeout: "init_fetch_timeout"
        case .updateAttempt: "update_attempt"
        case .updateFailure: "update_failure"
        case .updateRejected: "update_rejected"
        case .updateSuccess: "update_success"
        case .updateTime: "update_time"
        case .version: "version"
        case .updateDuration: "update_duration"
        }
    }

    public var kind: StatKind {
        switch self {
        case .updateTime, .version: .gauge
        case .updateDuration: .histogram
        default: .counter
        }
    }
}
