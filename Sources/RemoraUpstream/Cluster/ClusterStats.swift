import RemoraCore

/// `cluster.<name>.*` stats, with Envoy's names. The raw value is the index
/// in the scope, so an update is one array offset.
public enum ClusterStat: Int, CaseIterable, Sendable {
    case upstreamCxTotal, upstreamCxActive, upstreamCxConnectFail, upstreamCxConnectTimeout
    case upstreamCxConnectAttemptsExceeded, upstreamCxNoneHealthy, upstreamCxOverflow
    case upstreamCxDestroy, upstreamCxDestroyLocal, upstreamCxDestroyRemote
    case upstreamCxRxBytesTotal, upstreamCxTxBytesTotal
    case upstreamFlowControlPausedReadingTotal, upstreamFlowControlResumedReadingTotal
    case membershipTotal, membershipHealthy, membershipChange
    case updateAttempt, updateSuccess, updateFailure
    case upstreamCxConnectMs, upstreamCxLengthMs

    public var name: String {
        switch self {
        case .upstreamCxTotal: "upstream_cx_total"
        case .upstreamCxActive: "upstream_cx_active"
        case .upstreamCxConnectFail: "upstream_cx_connect_fail"
        case .upstreamCxConnectTimeout: "upstream_cx_connect_timeout"
        case .upstreamCxConnectAttemptsExceeded: "upstream_cx_connect_attempts_exceeded"
        case .upstreamCxNoneHealthy: "upstream_cx_none_healthy"
        case .upstreamCxOverflow: "upstream_cx_overflow"
        case .upstreamCxDestroy: "upstream_cx_destroy"
        case .upstreamCxDestroyLocal: "upstream_cx_destroy_local"
        case .upstreamCxDestroyRemote: "upstream_cx_destroy_remote"
        case .upstreamCxRxBytesTotal: "upstream_cx_rx_bytes_total"
        case .upstreamCxTxBytesTotal: "upstream_cx_tx_bytes_total"
        case .upstreamFlowControlPausedReadingTotal: "upstream_flow_control_paused_reading_total"
        case .upstreamFlowControlResumedReadingTotal: "upstream_flow_control_resumed_reading_total"
        case .membershipTotal: "membership_total"
        case .membershipHealthy: "membership_healthy"
        case .membershipChange: "membership_change"
        case .updateAttempt: "update_attempt"
        case .updateSuccess: "update_success"
        case .updateFailure: "update_failure"
        case .upstreamCxConnectMs: "upstream_cx_connect_ms"
        case .upstreamCxLengthMs: "upstream_cx_length_ms"
        }
    }

    public var kind: StatKind {
        switch self {
        case .upstreamCxActive, .membershipTotal, .membershipHealthy: .gauge
        case .upstreamCxConnectMs, .upstreamCxLengthMs: .histogram
        default: .counter
        }
    }

    public static func makeScope(cluster: String, in store: StatsStore) -> StatScope {
        store.makeScope(prefix: "cluster.\(cluster).", stats: allCases.map { ($0.name, $0.kind) })
    }
}

extension StatSlots {
    @inline(__always)
    public func add(_ stat: ClusterStat, _ delta: Int64 = 1) { add(stat.rawValue, delta) }
    public func record(_ stat: ClusterStat, milliseconds: UInt64) { record(stat.rawValue, milliseconds: milliseconds) }
}
