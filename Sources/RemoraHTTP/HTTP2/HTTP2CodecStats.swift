import RemoraCore

/// The `http2.*` codec stats, with Envoy's names (`codec_stats.h`). A codec
/// counts them into the row of the scope its owner hands in (the listener's
/// or cluster's scope, on the connection's worker).
public enum HTTP2CodecStat: Int, StatName {
    case goawaySent, headerOverflow, headerListSizeTooLarge, headersCbNoStream
    case inboundEmptyFramesFlood, inboundPriorityFramesFlood, inboundWindowUpdateFramesFlood
    case keepaliveTimeout, outboundControlFlood, outboundFlood
    case rxMessagingError, rxReset, streamRefusedErrors, tooManyHeaderFrames, trailers, txReset
    case streamsActive, pendingSendBytes, outboundFramesActive, outboundControlFramesActive
    case droppedHeadersWithUnderscores, requestsRejectedWithUnderscoresInHeaders

    public var name: String {
        switch self {
        case .goawaySent: "goaway_sent"
        case .headerOverflow: "header_overflow"
        case .headerListSizeTooLarge: "header_list_size_too_large"
        case .headersCbNoStream: "headers_cb_no_stream"
        case .inboundEmptyFramesFlood: "inbound_empty_frames_flood"
        case .inboundPriorityFramesFlood: "inbound_priority_frames_flood"
        case .inboundWindowUpdateFramesFlood: "inbound_window_update_frames_flood"
        case .keepaliveTimeout: "keepalive_timeout"
        case .outboundControlFlood: "outbound_control_flood"
        case .outboundFlood: "outbound_flood"
        case .rxMessagingError: "rx_messaging_error"
        case .rxReset: "rx_reset"
        case .streamRefusedErrors: "stream_refused_errors"
        case .tooManyHeaderFrames: "too_many_header_frames"
        case .trailers: "trailers"
        case .txReset: "tx_reset"
        case .streamsActive: "streams_active"
        case .pendingSendBytes: "pending_send_bytes"
        case .outboundFramesActive: "outbound_frames_active"
        case .outboundControlFramesActive: "outbound_control_frames_active"
        case .droppedHeadersWithUnderscores: "dropped_headers_with_underscores"
        case .requestsRejectedWithUnderscoresInHeaders: "requests_rejected_with_underscores_in_headers"
        }
    }

    public var kind: StatKind {
        switch self {
        case .streamsActive, .pendingSendBytes, .outboundFramesActive, .outboundControlFramesActive: .gauge
        default: .counter
        }
    }
}
