import RemoraCore

/// `http.<stat_prefix>.*` stats of the connection manager and the router,
/// with Envoy's names.
public enum HTTPStat: Int, StatName {
    case downstreamCxTotal, downstreamCxActive, downstreamCxHttp1Total, downstreamCxHttp1Active
    case downstreamCxDestroy, downstreamCxDestroyRemote, downstreamCxDestroyLocal
    case downstreamCxRxBytesTotal, downstreamCxTxBytesTotal, downstreamCxRxBytesBuffered, downstreamCxTxBytesBuffered
    case downstreamCxIdleTimeout, downstreamCxMaxRequestsReached, downstreamCxProtocolError
    case downstreamCxUpgradesTotal, downstreamCxUpgradesActive
    case downstreamRqTotal, downstreamRqHttp1Total, downstreamRqActive, downstreamRqCompleted
    case downstreamRq1xx, downstreamRq2xx, downstreamRq3xx, downstreamRq4xx, downstreamRq5xx
    case downstreamRqRxReset, downstreamRqTxReset, downstreamRqTimeout, downstreamRqIdleTimeout
    case downstreamRqHeaderTimeout, downstreamRqTooLarge, downstreamRqWsOnNonWsRoute
    case noRoute, noCluster, rqRedirect, rqDirectResponse, rqTotal
    case downstreamCxLengthMs, downstreamRqTime
    case downstreamFlowControlPausedReadingTotal, downstreamFlowControlResumedReadingTotal
    case downstreamCxDelayedCloseTimeout, downstreamCxDrainClose
    case downstreamCxHttp2Total, downstreamCxHttp2Active, downstreamRqHttp2Total, downstreamRqTooManyPrematureResets
    case downstreamRqMaxDurationReached, rqResetAfterDownstreamResponseStarted, downstreamCxMaxDurationReached
    case downstreamCxDestroyActiveRq, downstreamCxDestroyLocalActiveRq, downstreamCxDestroyRemoteActiveRq
    case downstreamCxSslTotal, downstreamCxSslActive, downstreamRqResponseBeforeRqComplete

    public var name: String {
        switch self {
        case .downstreamCxTotal: "downstream_cx_total"
        case .downstreamCxActive: "downstream_cx_active"
        case .downstreamCxHttp1Total: "downstream_cx_http1_total"
        case .downstreamCxHttp1Active: "downstream_cx_http1_active"
        case .downstreamCxDestroy: "downstream_cx_destroy"
        case .downstreamCxDestroyRemote: "downstream_cx_destroy_remote"
        case .downstreamCxDestroyLocal: "downstream_cx_destroy_local"
        case .downstreamCxRxBytesTotal: "downstream_cx_rx_bytes_total"
        case .downstreamCxTxBytesTotal: "downstream_cx_tx_bytes_total"
        case .downstreamCxRxBytesBuffered: "downstream_cx_rx_bytes_buffered"
        case .downstreamCxTxBytesBuffered: "downstream_cx_tx_bytes_buffered"
        case .downstreamCxIdleTimeout: "downstream_cx_idle_timeout"
        case .downstreamCxMaxRequestsReached: "downstream_cx_max_requests_reached"
        case .downstreamCxProtocolError: "downstream_cx_protocol_error"
        case .downstreamCxUpgradesTotal: "downstream_cx_upgrades_total"
        case .downstreamCxUpgradesActive: "downstream_cx_upgrades_active"
        case .downstreamRqTotal: "downstream_rq_total"
        case .downstreamRqHttp1Total: "downstream_rq_http1_total"
        case .downstreamRqActive: "downstream_rq_active"
        case .downstreamRqCompleted: "downstream_rq_completed"
        case .downstreamRq1xx: "downstream_rq_1xx"
        case .downstreamRq2xx: "downstream_rq_2xx"
        case .downstreamRq3xx: "downstream_rq_3xx"
        case .downstreamRq4xx: "downstream_rq_4xx"
        case .downstreamRq5xx: "downstream_rq_5xx"
        case .downstreamRqRxReset: "downstream_rq_rx_reset"
        case .downstreamRqTxReset: "downstream_rq_tx_reset"
        case .downstreamRqTimeout: "downstream_rq_timeout"
        case .downstreamRqIdleTimeout: "downstream_rq_idle_timeout"
        case .downstreamRqHeaderTimeout: "downstream_rq_header_timeout"
        case .downstreamRqTooLarge: "downstream_rq_too_large"
        case .downstreamRqWsOnNonWsRoute: "downstream_rq_ws_on_non_ws_route"
        case .noRoute: "no_route"
        case .noCluster: "no_cluster"
        case .rqRedirect: "rq_redirect"
        case .rqDirectResponse: "rq_direct_response"
        case .rqTotal: "rq_total"
        case .downstreamCxLengthMs: "downstream_cx_length_ms"
        case .downstreamRqTime: "downstream_rq_time"
        case .downstreamFlowControlPausedReadingTotal: "downstream_flow_control_paused_reading_total"
        case .downstreamFlowControlResumedReadingTotal: "downstream_flow_control_resumed_reading_total"
        case .downstreamCxDelayedCloseTimeout: "downstream_cx_delayed_close_timeout"
        case .downstreamCxDrainClose: "downstream_cx_drain_close"
        case .downstreamCxHttp2Total: "downstream_cx_http2_total"
        case .downstreamCxHttp2Active: "downstream_cx_http2_active"
        case .downstreamRqHttp2Total: "downstream_rq_http2_total"
        case .downstreamRqTooManyPrematureResets: "downstream_rq_too_many_premature_resets"
        case .downstreamRqMaxDurationReached: "downstream_rq_max_duration_reached"
        case .downstreamCxMaxDurationReached: "downstream_cx_max_duration_reached"
        case .rqResetAfterDownstreamResponseStarted: "rq_reset_after_downstream_response_started"
        case .downstreamCxDestroyActiveRq: "downstream_cx_destroy_active_rq"
        case .downstreamCxDestroyLocalActiveRq: "downstream_cx_destroy_local_active_rq"
        case .downstreamCxDestroyRemoteActiveRq: "downstream_cx_destroy_remote_active_rq"
        case .downstreamCxSslTotal: "downstream_cx_ssl_total"
        case .downstreamCxSslActive: "downstream_cx_ssl_active"
        case .downstreamRqResponseBeforeRqComplete: "downstream_rq_response_before_rq_complete"
        }
    }

    public var kind: StatKind {
        switch self {
        case .downstreamCxActive, .downstreamCxHttp1Active, .downstreamCxHttp2Active, .downstreamCxUpgradesActive, .downstreamRqActive,
             .downstreamCxSslActive, .downstreamCxRxBytesBuffered, .downstreamCxTxBytesBuffered: .gauge
        case .downstreamCxLengthMs, .downstreamRqTime: .histogram
        default: .counter
        }
    }

    public static func makeScope(statPrefix: String, in store: StatsStore) -> StatScope {
        store.makeScope(prefix: "http.\(statPrefix).", HTTPStat.self)
    }
}

extension Stats where S == HTTPStat {

    /// Counts a response sent downstream by its class.
    public func countDownstreamResponse(status: Int) {
        switch status / 100 {
        case 1: add(.downstreamRq1xx)
        case 2: add(.downstreamRq2xx)
        case 3: add(.downstreamRq3xx)
        case 4: add(.downstreamRq4xx)
        default: add(.downstreamRq5xx)
        }
    }
}

/// `listener.<address>.http.<stat_prefix>.*`: the connection manager's
/// response counters again, per listener, as Envoy keeps them.
public enum ListenerHTTPStat: Int, StatName {
    case downstreamRq1xx, downstreamRq2xx, downstreamRq3xx, downstreamRq4xx, downstreamRq5xx, downstreamRqCompleted

    public var name: String {
        switch self {
        case .downstreamRq1xx: "downstream_rq_1xx"
        case .downstreamRq2xx: "downstream_rq_2xx"
        case .downstreamRq3xx: "downstream_rq_3xx"
        case .downstreamRq4xx: "downstream_rq_4xx"
        case .downstreamRq5xx: "downstream_rq_5xx"
        case .downstreamRqCompleted: "downstream_rq_completed"
        }
    }

    public var kind: StatKind { .counter }

    public static func makeScope(listenerStatPrefix: String, statPrefix: String, in store: StatsStore) -> StatScope {
        store.makeScope(prefix: "listener.\(listenerStatPrefix).http.\(statPrefix).", ListenerHTTPStat.self)
    }
}

extension HTTPConnectionManager {
    /// Counts a response sent downstream (its head), by its class, and the
    /// request as completed, in the manager's stats and the listener's
    /// (Envoy's `chargeStats`: a stream reset before its response is not
    /// completed).
    func countDownstreamResponse(status: Int) {
        stats.countDownstreamResponse(status: status)
        stats.add(.downstreamRqCompleted)
        guard let listenerStats else { return }
        listenerStats.add(.downstreamRqCompleted)
        // The five class counters come first, in order; anything past 4xx counts as 5xx, as above.
        let classIndex = (1...4).contains(status / 100) ? status / 100 - 1 : 4
        listenerStats.add(ListenerHTTPStat(rawValue: classIndex).unsafelyUnwrapped)
    }
}
