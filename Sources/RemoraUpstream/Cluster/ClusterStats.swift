import RemoraCore

/// `cluster.<name>.*` stats, with Envoy's names. The raw value is the index
/// in the scope, so an update is one array offset.
public enum ClusterStat: Int, StatName {
    case upstreamCxTotal, upstreamCxActive, upstreamCxConnectFail, upstreamCxConnectTimeout
    case upstreamCxConnectAttemptsExceeded, upstreamCxNoneHealthy, upstreamCxOverflow
    case upstreamCxDestroy, upstreamCxDestroyLocal, upstreamCxDestroyRemote
    case upstreamCxDestroyWithActiveRq, upstreamCxDestroyLocalWithActiveRq, upstreamCxDestroyRemoteWithActiveRq
    case upstreamCxRxBytesTotal, upstreamCxTxBytesTotal, upstreamCxRxBytesBuffered, upstreamCxTxBytesBuffered
    case upstreamCxCloseNotify, upstreamRqPendingFailureEject, upstreamRqPerCx
    case upstreamFlowControlPausedReadingTotal, upstreamFlowControlResumedReadingTotal
    case upstreamFlowControlBackedUpTotal, upstreamFlowControlDrainedTotal
    case membershipTotal, membershipHealthy, membershipChange, membershipDegraded, membershipExcluded, lbHealthyPanic
    // Envoy's `ClusterConfigUpdateStats`, which every cluster lists.
    case updateAttempt, updateSuccess, updateFailure, updateEmpty, updateNoRebuild
    case assignmentStale, assignmentTimeoutReceived, assignmentUseCached, version, warmingState
    case upstreamCxConnectMs, upstreamCxLengthMs
    // HTTP requests.
    case upstreamCxHttp1Total, upstreamCxHttp2Total, upstreamCxMaxRequests, upstreamCxIdleTimeout, upstreamCxProtocolError
    case upstreamRqTotal, upstreamRqActive, upstreamRqCompleted
    case upstreamRqPendingTotal, upstreamRqPendingActive, upstreamRqPendingOverflow, upstreamRqActiveOverflow
    case upstreamRq1xx, upstreamRq2xx, upstreamRq3xx, upstreamRq4xx, upstreamRq5xx
    case upstreamRqTimeout, upstreamRqPerTryTimeout
    case upstreamRqRetry, upstreamRqRetrySuccess, upstreamRqRetryOverflow, upstreamRqRetryLimitExceeded
    case upstreamRqRetryBackoffExponential, upstreamRqRetryBackoffRatelimited
    case upstreamRqRxReset, upstreamRqTxReset, upstreamRqCancelled, retryOrShadowAbandoned
    case upstreamRqTime, externalUpstreamRqTime, internalUpstreamRqTime
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
        case .upstreamCxRxBytesBuffered: "upstream_cx_rx_bytes_buffered"
        case .upstreamCxTxBytesBuffered: "upstream_cx_tx_bytes_buffered"
        case .upstreamCxCloseNotify: "upstream_cx_close_notify"
        case .upstreamRqPendingFailureEject: "upstream_rq_pending_failure_eject"
        case .upstreamRqPerCx: "upstream_rq_per_cx"
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
        case .updateEmpty: "update_empty"
        case .updateNoRebuild: "update_no_rebuild"
        case .assignmentStale: "assignment_stale"
        case .assignmentTimeoutReceived: "assignment_timeout_received"
        case .assignmentUseCached: "assignment_use_cached"
        case .version: "version"
        case .warmingState: "warming_state"
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
        case .retryOrShadowAbandoned: "retry_or_shadow_abandoned"
        case .upstreamRqTime: "upstream_rq_time"
        case .externalUpstreamRqTime: "external.upstream_rq_time"
        case .internalUpstreamRqTime: "internal.upstream_rq_time"
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
             .cbDefaultRqRetryOpen, .cbHighCxOpen, .cbHighCxPoolOpen, .cbHighRqOpen, .cbHighRqPendingOpen, .cbHighRqRetryOpen,
             .version, .warmingState, .upstreamCxRxBytesBuffered, .upstreamCxTxBytesBuffered: .gauge
        case .upstreamCxConnectMs, .upstreamCxLengthMs, .upstreamRqPerCx, .upstreamRqTime, .externalUpstreamRqTime, .internalUpstreamRqTime: .histogram
        // Envoy creates the class counters on first use, as the code ones.
        case .upstreamRq1xx, .upstreamRq2xx, .upstreamRq3xx, .upstreamRq4xx, .upstreamRq5xx: .sparseCounter
        default: .counter
        }
    }

    /// The lazy counters follow the fixed stats, from `statusCodeBase` on,
    /// listed only once used: the per-code ones (`upstream_rq_200`), those
    /// of retried responses (`retry.*`), and Envoy's split of every charged
    /// response by whether the downstream request was internal
    /// (`external.*`, `internal.*`).
    public static let statusCodeBase = allCases.count

    /// Offsets from `statusCodeBase`: a block of codes is the 500 codes
    /// 100…599; a block of classes is `upstream_rq_1xx`…`_5xx` then
    /// `upstream_rq_completed`. A category's classes sit in one chunk (with
    /// the retry ones), so an external 200 touches three chunks.
    enum LazyBlock {
        static let codes = 0
        static let retryCodes = 500
        static let retryClasses = 1000
        static let externalClasses = 1006
        static let internalClasses = 1012
        static let externalCodes = 1018
        static let internalCodes = 1518
    }

    /// One layout for every cluster's scope (about two thousand stats: a
    /// copy per cluster was most of the memory a mesh-sized config took).
    /// The lazy counters cost a row one pointer per hundred of them, and a
    /// worker allocates a hundred when it first counts one (1,000 idle
    /// clusters' rows of a thousand slots each were 16 MiB of zeros).
    static let layout: StatLayout = {
        func codes(_ prefix: String) -> [(String, StatKind)] {
            (100...599).map { ("\(prefix)upstream_rq_\($0)", StatKind.sparseCounter) }
        }
        func classes(_ prefix: String) -> [(String, StatKind)] {
            (1...5).map { ("\(prefix)upstream_rq_\($0)xx", StatKind.sparseCounter) }
                + [("\(prefix)upstream_rq_completed", StatKind.sparseCounter)]
        }
        let lazy = codes("") + codes("retry.") + classes("retry.") + classes("external.") + classes("internal.")
            + codes("external.") + codes("internal.")
        precondition(lazy.count == LazyBlock.internalCodes + 500)
        // The router's histograms, and `upstream_rq_per_cx` (recorded when
        // an HTTP connection closes), take a row slot until a worker's
        // first sample (an idle cluster records none).
        return StatLayout(allCases.map { ($0.name, $0.kind) } + lazy, lazyFrom: statusCodeBase,
                          indirectHistograms: ["upstream_rq_time", "external.upstream_rq_time", "internal.upstream_rq_time",
                                               "upstream_rq_per_cx"])
    }()

    public static func makeScope(cluster: String, in store: StatsStore) -> StatScope {
        // The router makes the `upstream_rq_time` histograms with the first
        // response it times (Envoy's `CodeStats`): they are not listed before.
        store.makeScope(prefix: "cluster.\(cluster).", layout: layout,
                        onFirstUse: ["upstream_rq_time", "external.upstream_rq_time", "internal.upstream_rq_time"])
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
        let base = ClusterStat.statusCodeBase
        slots.add(base + ClusterStat.LazyBlock.retryClasses + 5, 1)
        guard codes else { return }
        slots.add(base + ClusterStat.LazyBlock.retryCodes + status - 100, 1)
        slots.add(base + ClusterStat.LazyBlock.retryClasses + status / 100 - 1, 1)
    }

    /// Charges a response (or a local reply standing for one) to the
    /// cluster, as Envoy's `CodeStatsImpl::chargeResponseStat` does:
    /// `upstream_rq_completed`, `upstream_rq_<code>` and `upstream_rq_<class>xx`
    /// (not the last two with `codes: false`, a gRPC request under
    /// `suppress_grpc_request_failure_code_stats`), and the same three
    /// under `internal.` or `external.`, whether the downstream request was
    /// internal (`x-envoy-internal: true`) or not; Envoy charges those even
    /// with `codes: false`.
    public func chargeResponse(status: Int, internal isInternal: Bool, codes: Bool = true) {
        add(.upstreamRqCompleted)
        let base = ClusterStat.statusCodeBase
        let classes = base + (isInternal ? ClusterStat.LazyBlock.internalClasses : ClusterStat.LazyBlock.externalClasses)
        slots.add(classes + 5, 1)
        guard status >= 100 && status <= 599 else { return }
        let category = base + (isInternal ? ClusterStat.LazyBlock.internalCodes : ClusterStat.LazyBlock.externalCodes)
        slots.add(category + status - 100, 1)
        slots.add(classes + status / 100 - 1, 1)
        guard codes else { return }
        slots.add(base + ClusterStat.LazyBlock.codes + status - 100, 1)
        switch status / 100 {
        case 1: add(.upstreamRq1xx)
        case 2: add(.upstreamRq2xx)
        case 3: add(.upstreamRq3xx)
        case 4: add(.upstreamRq4xx)
        default: add(.upstreamRq5xx)
        }
    }

    /// Envoy's `chargeResponseTiming`: `upstream_rq_time` and its
    /// `internal.`/`external.` twin, from the end of the downstream request
    /// to the end of the response.
    public func recordResponseTime(milliseconds: UInt64, internal isInternal: Bool) {
        record(.upstreamRqTime, milliseconds: milliseconds)
        record(isInternal ? .internalUpstreamRqTime : .externalUpstreamRqTime, milliseconds: milliseconds)
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

/// An EDS cluster's subscription stats beyond the config-update ones of
/// `ClusterStat` (`update_attempt`, `version`, …), which every cluster has
/// (Envoy keeps both under `cluster.<name>.`).
public enum EDSClusterStat: Int, StatName {
    case updateRejected, initFetchTimeout, updateTime, updateDuration

    public var name: String {
        switch self {
        case .updateRejected: "update_rejected"
        case .initFetchTimeout: "init_fetch_timeout"
        case .updateTime: "update_time"
        case .updateDuration: "update_duration"
        }
    }

    /// One layout for every EDS cluster's scope; `update_duration` (the main
    /// thread's alone) takes a slot per row until its first sample.
    static let layout = StatLayout(allCases.map { ($0.name, $0.kind) }, indirectHistograms: ["update_duration"])

    public var kind: StatKind {
        switch self {
        case .updateTime: .gauge
        case .updateDuration: .histogram
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
