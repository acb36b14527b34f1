import RemoraCore

/// `tcp.<stat_prefix>.*` stats, with Envoy's names.
public enum TcpProxyStat: Int, StatName {
    case downstreamCxTotal, downstreamCxNoRoute
    case downstreamCxRxBytesTotal, downstreamCxTxBytesTotal, downstreamCxRxBytesBuffered, downstreamCxTxBytesBuffered
    case downstreamFlowControlPausedReadingTotal, downstreamFlowControlResumedReadingTotal
    case idleTimeout, upstreamFlushTotal, upstreamFlushActive

    public var name: String {
        switch self {
        case .downstreamCxTotal: "downstream_cx_total"
        case .downstreamCxNoRoute: "downstream_cx_no_route"
        case .downstreamCxRxBytesTotal: "downstream_cx_rx_bytes_total"
        case .downstreamCxTxBytesTotal: "downstream_cx_tx_bytes_total"
        case .downstreamCxRxBytesBuffered: "downstream_cx_rx_bytes_buffered"
        case .downstreamCxTxBytesBuffered: "downstream_cx_tx_bytes_buffered"
        case .downstreamFlowControlPausedReadingTotal: "downstream_flow_control_paused_reading_total"
        case .downstreamFlowControlResumedReadingTotal: "downstream_flow_control_resumed_reading_total"
        case .idleTimeout: "idle_timeout"
        case .upstreamFlushTotal: "upstream_flush_total"
        case .upstreamFlushActive: "upstream_flush_active"
        }
    }

    public var kind: StatKind {
        switch self {
        case .upstreamFlushActive, .downstreamCxRxBytesBuffered, .downstreamCxTxBytesBuffered: .gauge
        default: .counter
        }
    }

    public static func makeScope(statPrefix: String, in store: StatsStore) -> StatScope {
        store.makeScope(prefix: "tcp.\(statPrefix).", TcpProxyStat.self)
    }
}

