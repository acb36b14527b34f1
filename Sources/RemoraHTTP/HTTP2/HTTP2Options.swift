/// The settings and limits of one HTTP/2 codec, with Envoy's defaults
/// (`config.core.v3.Http2ProtocolOptions`, `max_request_headers_kb`,
/// `max_headers_count`). Immutable; shared by every connection of a listener
/// or cluster.
public struct HTTP2Options: Sendable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS sent to the peer.
    public var maxConcurrentStreams: UInt32 = 2_147_483_647
    /// SETTINGS_INITIAL_WINDOW_SIZE sent to the peer (256 MiB).
    public var initialStreamWindowSize: UInt32 = 268_435_456
    /// The connection's receive window (256 MiB).
    public var initialConnectionWindowSize: UInt32 = 268_435_456
    /// SETTINGS_HEADER_TABLE_SIZE: our HPACK decoder's dynamic table.
    public var hpackTableSize: UInt32 = 4096
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441), server side.
    public var allowConnect = false
    /// Frames queued for the peer (written or not) before the peer counts as
    /// not reading: `outbound_flood`.
    public var maxOutboundFrames = 10_000
    /// PING/SETTINGS ACKs and RST_STREAMs queued: `outbound_control_flood`.
    public var maxOutboundControlFrames = 1000
    /// Consecutive HEADERS/CONTINUATION/DATA frames with no payload and no
    /// END_STREAM: `inbound_empty_frames_flood`.
    public var maxConsecutiveInboundFramesWithEmptyPayload = 1
    /// PRIORITY frames allowed per stream opened (plus one stream's worth).
    public var maxInboundPriorityFramesPerStream = 100
    /// WINDOW_UPDATE frames allowed per DATA frame sent (plus 5 and one).
    public var maxInboundWindowUpdateFramesPerDataFrameSent = 10
    /// Invalid HTTP messaging (bad header, content-length mismatch) resets the
    /// stream instead of closing the connection (Envoy's
    /// `stream_error_on_invalid_http_messaging`, default false).
    public var streamErrorOnInvalidHTTPMessaging = false
    /// Header list limits of a received head or trailers: bytes (names plus
    /// values) and fields. Over either, `header_overflow` and the stream is
    /// reset.
    public var maxHeaderListBytes = 60 * 1024
    public var maxHeadersCount = 100
    /// Received fields whose name has an underscore (server side:
    /// `headers_with_underscores_action`): a refusal resets the stream
    /// (INTERNAL_ERROR), as Envoy's codec does.
    public var headersWithUnderscores: HeadersWithUnderscoresAction = .allow
    /// High watermark of each stream's queue of body bytes to send (Envoy's
    /// stream buffer limit, `per_connection_buffer_limit_bytes`: 1 MiB).
    public var streamBufferHighWatermark = 1024 * 1024
    /// nghttp2's RST_STREAM rate limit (CVE-2023-44487): a token bucket of
    /// `burst` resets refilled at `ratePerSecond`; past it the session ends
    /// with GOAWAY.
    public var streamResetBurst: UInt64 = 1000
    public var streamResetRatePerSecond: UInt64 = 33
    /// CONTINUATION frames allowed after a HEADERS frame. Envoy 1.40 sets no
    /// such limit (a probe with 50 one-field CONTINUATIONs was accepted):
    /// CONTINUATION floods (CVE-2024-27316 class) meet the header list
    /// limits above and the empty-frame limit. Debian's nghttp2 would stop at
    /// 8, so the default lifts it.
    public var maxContinuations = Int(Int32.max)

    public init() {}
}
