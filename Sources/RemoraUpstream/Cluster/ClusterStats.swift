import RemoraCore

/// `cluster.<name>.*` stats, with Envoy's names. The raw value is the index
/// in the scope, so an update is one array offset.
public enum ClusterStat: Int, StatName {
    case upstreamCxTotal, upstreamCxActive, upstreamCxConnectFail, upstreamCxConnectTimeout
    case upstreamCxConnectAttemptsExceeded, upstreamCxNoneHealthy, upstreamCxOverflow
    case upstreamCxDestroy, upstreamCxDestroyLocal, upstreamCxDestroyRemote
    case upstreamCxDestroyWithActiveRq, upstreamCxDestroyLocalWithActiveRq, upstreamCxDestroyRemoteWithActiveRq
    case upstreamCxRxBytesTotal, upstreamCxTxBytesTotal
    case upstreamFlowControlPausedReadingTotal, upstreamFlowControlResumedReadingTotal
    case upstreamFlowControlBackedUpTotal, upstreamFlowControlDrainedTotal
    case membershipTotal, membershipHealthy, membershipChange, membershipDegraded, membershipExcluded, lbHealthyPanic
    case updateAttempt, updateSuccess, updateFailure
    case upstreamCxConnectMs, upstreamCxLengthMs
    // HTTP requests.
    case upstreamCxHttp1Total, upstreamCxHttp2Total, upstreamCxMaxRequests, upstreamCxIdleTimeout, upstreamCxProtocolError
    case upstreamRqTotal, upstreamRqActive, upstreamRqCompleted
    case upstreamRqPendingTotal, upstreamRqPendingActive, upstreamRqPendingOverflow, upstreamRqActiveOverflow
    case upstreamRq1xx, upstreamRq2xx, upstreamRq3xx, upstreamRq4xx, upstreamRq5xx
    case upstreamRqTimeout, upstreamRqPerTryTimeout
    case upstreamRqRetry, upstreamRqRetrySuccess, upstreamRqRetryOverflow, upstreamRqRetryLimitExceeded
    case upstreamRqRetryBackoffExponential, upstreamRqRetryBackoffRatelimited
    case upstreamRqRxReset, upstreamRqTxReset, upstreamRqCancelled
    case upstreamRqTime
    // Circuit breakers (`circuit_breakers.<priority>.*_open`).
    case cbDefaultCxOpen, cbDefaultCxPoolOpen, cbDefaultRqOpen, cbDefaultRqPendingOpen, cbDefaultRqRetryOpen
    case cbHighCxOpen, cbHighCxPoolOpen, cbHighRqOpen, cbHighRqPendingOpen, cbHighRqRetryOpen

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
        case .upstreamCxDestroyWithActiveRq: "upstream_cx_destroy_with_active_rq"
        case .upstreamCxDestroyLocalWithActiveRq: "upstream_cx_destroy_local_with_active_rq"
        case .upstreamCxDestroyRemoteWithActiveRq: "upstream_cx_destroy_remote_with_active_rq"
        case .upstreamCxRxBytesTotal: "upstream_cx_rx_bytes_total"
        case .upstreamCxTxBytesTotal: "upstream_cx_tx_bytes_total"
        case .upstreamFlowControlPausedReadingTotal: "upstream_flow_control_paused_reading_total"
        case .upstreamFlowControlResumedReadingTotal: "upstream_flow_control_resumed_reading_total"
        case .upstreamFlowControlBackedUpTotal: "upstream_flow_control_backed_up_total"
        case .upstreamFlowControlDrainedTotal: "upstream_flow_control_drained_total"
        case .membershipTotal: "membership_total"
        case .membershipHealthy: "membership_healthy"
        case .membershipChange: "membership_change"
        case .membershipDegraded: "membership_degraded"
        case .membershipExcluded: "membership_excluded"
        case .lbHealthyPanic: "lb_healthy_panic"
        case .updateAttempt: "update_attempt"
        case .updateSuccess: "update_success"
        case .updateFailure: "update_failure"
        case .upstreamCxConnectMs: "upstream_cx_connect_ms"
        case .upstreamCxLengthMs: "upstream_cx_length_ms"
        case .upstreamCxHttp1Total: "upstream_cx_http1_total"
        case .upstreamCxHttp2Total: "upstream_cx_http2_total"
        case .upstreamCxMaxRequests: "upstream_cx_max_requests"
        case .upstreamCxIdleTimeout: "upstream_cx_idle_timeout"
        case .upstreamCxProtocolError: "upstream_cx_protocol_error"
        case .upstreamRqTotal: "upstream_rq_total"
        case .upstreamRqActive: "upstream_rq_active"
        case .upstreamRqCompleted: "upstream_rq_completed"
        case .upstreamRqPendingTotal: "upstream_rq_pending_total"
        case .upstreamRqPendingActive: "upstream_rq_pending_active"
        case .upstreamRqPendingOverflow: "upstream_rq_pending_overflow"
        case .upstreamRqActiveOverflow: "upstream_rq_active_overflow"
        case .upstreamRq1xx: "upstream_rq_1xx"
        case .upstreamRq2xx: "upstream_rq_2xx"
        case .upstreamRq3xx: "upstream_rq_3xx"
        case .upstreamRq4xx: "upstream_rq_4xx"
        case .upstreamRq5xx: "upstream_rq_5xx"
        case .upstreamRqTimeout: "upstream_rq_timeout"
        case .upstreamRqPerTryTimeout: "upstream_rq_per_try_timeout"
        case .upstreamRqRetry: "upstream_rq_retry"
        case .upstreamRqRetryBackoffExponential: "upstream_rq_retry_backoff_exponential"
        case .upstreamRqRetryBackoffRatelimited: "upstream_rq_retry_backoff_ratelimited"
        case .upstreamRqRetrySuccess: "upstream_rq_retry_success"
        case .upstreamRqRetryOverflow: "upstream_rq_retry_overflow"
        case .upstreamRqRetryLimitExceeded: "upstream_rq_retry_limit_exceeded"
        case .upstreamRqRxReset: "upstream_rq_rx_reset"
        case .upstreamRqTxReset: "upstream_rq_tx_reset"
        case .upstreamRqCancelled: "upstream_rq_cancelled"
        case .upstreamRqTime: "upstream_rq_time"
        case .cbDefaultCxOpen: "circuit_breakers.default.cx_open"
        case .cbDefaultCxPoolOpen: "circuit_breakers.default.cx_pool_open"
        case .cbDefaultRqOpen: "circuit_breakers.default.rq_open"
        case .cbDefaultRqPendingOpen: "circuit_breakers.default.rq_pending_open"
        case .cbDefaultRqRetryOpen: "circuit_breakers.default.rq_retry_open"
        case .cbHighCxOpen: "circuit_breakers.high.cx_open"
        case .cbHighCxPoolOpen: "circuit_breakers.high.cx_pool_open"
        case .cbHighRqOpen: "circuit_breakers.high.rq_open"
        case .cbHighRqPendingOpen: "circuit_breakers.high.rq_pending_open"
        case .cbHighRqRetryOpen: "circuit_breakers.high.rq_retry_open"
        }
    }

    public var kind: StatKind {
        switch self {
        case .upstreamCxActive, .membershipTotal, .membershipHealthy, .membershipDegraded, .membershipExcluded, .upstreamRqActive,
             .upstreamRqPendingActive, .cbDefaultCxOpen, .cbDefaultCxPoolOpen, .cbDefaultRqOpen, .cbDefaultRqPendingOpen,
             .cbDefaultRqRetryOpen, .cbHighCxOpen, .cbHighCxPoolOpen, .cbHighRqOpen, .cbHighRqPendingOpen, .cbHighRqRetryOpen: .gauge
        case .upstreamCxConnectMs, .upstreamCxLengthMs, .upstreamRqTime: .histogram
        // Envoy creates the class counters on first use, as the code ones.
        case .upstreamRq1xx, .upstreamRq2xx, .upstreamRq3xx, .upstreamRq4xx, .upstreamRq5xx: .sparseCounter
        default: .counter
        }
    }

    /// Per-status-code counters (`upstream_rq_200`) follow the fixed stats,
    /// at index `statusCodeBase + code - 100`, listed only once used.
    public static let statusCodeBase = allCases.count

    /// One layout for every cluster's scope (about a thousand stats: a copy
    /// per cluster was most of the memory a mesh-sized config took). The
    /// per-code counters are lazy: a row holds one pointer per hundred of
    /// them and a worker allocates a hundred when it first counts one (1,000
    /// idle clusters' rows of a thousand slots each were 16 MiB of zeros).
    static let layout: StatLayout = {
        let codes = (100...599).map { ("upstream_rq_\($0)", StatKind.sparseCounter) }
        let retryCodes = (100...599).map { ("retry.upstream_rq_\($0)", StatKind.sparseCounter) }
        let retryClasses = (1...5).map { ("retry.upstream_rq_\($0)xx", StatKind.sparseCounter) }
        let retryCompleted = [("retry.upstream_rq_completed", StatKind.sparseCounter)]
        return StatLayout(allCases.map { ($0.name, $0.kind) } + codes + retryCodes + retryClasses + retryCompleted,
                          lazyFrom: statusCodeBase)
    }()

    public static func makeScope(cluster: String, in store: StatsStore) -> StatScope {
        // The router makes `upstream_rq_time` with the first response it
        // charges (Envoy's `CodeStats`): it is not listed before.
        store.makeScope(prefix: "cluster.\(cluster).", layout: layout, onFirstUse: ["upstream_rq_time"])
    }
}

extension Stats where S == ClusterStat {

    /// Counts a response that is retried: `retry.upstream_rq_<code>`,
    /// `retry.upstream_rq_<class>xx` and `retry.upstream_rq_completed`
    /// (Envoy's `chargeBasicResponseStat` under the `retry` prefix, kept out
    /// of the plain ones).
    /// `codes: false` (a gRPC request under `suppress_grpc_request_failure_code_stats`)
    /// counts only `retry.upstream_rq_completed`.
    public func countRetriedResponse(status: Int, codes: Bool = true) {
        guard status >= 100 && status <= 599 else { return }
        slots.add(ClusterStat.statusCodeBase + 1005, 1)
        guard codes else { return }
        slots.add(ClusterStat.statusCodeBase + 500 + status - 100, 1)
        slots.add(ClusterStat.statusCodeBase + 1000 + status / 100 - 1, 1)
    }

    /// Counts a response: `upstream_rq_<code>` and `upstream_rq_<class>xx`.
    public func countUpstreamResponse(status: Int) {
        guard status >= 100 && status <= 599 else { return }
        slots.add(ClusterStat.statusCodeBase + status - 100, 1)
        switch status / 100 {
        case 1: add(.upstreamRq1xx)
        case 2: add(.upstreamRq2xx)
        case 3: add(.upstreamRq3xx)
        case 4: add(.upstreamRq4xx)
        default: add(.upstreamRq5xx)
        }
    }
}

/// `cluster_manager.*`, with Envoy's names.
public enum ClusterManagerStat: Int, StatName {
    case clusterAdded, clusterModified, clusterRemoved, clusterUpdated, activeClusters, warmingClusters

    public var name: String {
        switch self {
        case .clusterAdded: "cluster_added"
        case .clusterModified: "cluster_modified"
        case .clusterRemoved: "cluster_removed"
        case .clusterUpdated: "cluster_updated"
        case .activeClusters: "active_clusters"
        case .warmingClusters: "warming_clusters"
        }
    }

    public var kind: StatKind {
        switch self {
        case .activeClusters, .warmingClusters: .gauge
        default: .counter
        }
    }
}

/// An EDS cluster's subscription stats beyond `ClusterStat`'s
/// `update_attempt`/`update_success`/`update_failure` (Envoy keeps both
/// under `cluster.<name>.`).
public enum EDSClusterStat: Int, StatName {
    case updateRejected, updateNoRebuild, updateEmpty, initFetchTimeout, updateTime, version

    public var name: String {
        switch self {
        case .updateRejected: "update_rejected"
        case .updateNoRebuild: "update_no_rebuild"
        case .updateEmpty: "update_empty"
        case .initFetchTimeout: "init_fetch_timeout"
        case .updateTime: "update_time"
        case .version: "version"
        }
    }

    public var kind: StatKind {
        switch self {
        case .updateTime, .version: .gauge
        default: .counter
        }
    }
}

/// `cluster.<name>.circuit_breakers.<priority>.remaining_*`, published
/// when the thresholds ask for them (`track_remaining`).
public enum CircuitBreakerRemainingStat: Int, StatName {
    case remainingCx, remainingPending, remainingRq, remainingRetries

    public var name: String {
        switch self {
        case .remainingCx: "remaining_cx"
        case .remainingPending: "remaining_pending"
        case .remainingRq: "remaining_rq"
        case .remainingRetries: "remaining_retries"
        }
    }

    public var kind: StatKind { .gauge }

    static func makeScope(cluster: String, priority: String, in store: StatsStore) -> StatScope {
        store.makeScope(prefix: "cluster.\(cluster).circuit_breakers.\(priority).", CircuitBreakerRemainingStat.self)
    }
}

extension Stats where S == ClusterStat {
    /// An established connection closed: who closed it
    /// (`upstream_cx_destroy_{local,remote}`) and, when requests were still
    /// on it, `upstream_cx_destroy{,_local,_remote}_with_active_rq`, as
    /// Envoy's pools count them.
    public func countConnectionClosed(remote: Bool, withActiveRequests: Bool) {
        add(remote ? .upstreamCxDestroyRemote : .upstreamCxDestroyLocal)
        guard withActiveRequests else { return }
        add(.upstreamCxDestroyWithActiveRq)
        add(remote ? .upstreamCxDestroyRemoteWithActiveRq : .upstreamCxDestroyLocalWithActiveRq)
    }
}
