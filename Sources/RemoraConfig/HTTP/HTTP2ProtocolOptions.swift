/// `envoy.config.core.v3.Http2ProtocolOptions`, compiled: the settings and
/// limits of every HTTP/2 connection of a connection manager (downstream)
/// or a cluster (upstream). Envoy's defaults; `nil` where Envoy leaves a
/// setting to the codec. The HTTP layer maps this onto its codec options.
public struct HTTP2ProtocolOptions: Sendable, Equatable {
    public var hpackTableSize: UInt32 = 4096
    /// SETTINGS_MAX_CONCURRENT_STREAMS announced (Envoy: 2^31-1).
    public var maxConcurrentStreams: UInt32 = 2_147_483_647
    /// SETTINGS_INITIAL_WINDOW_SIZE announced (Envoy: 256 MiB).
    public var initialStreamWindowSize: UInt32 = 268_435_456
    public var initialConnectionWindowSize: UInt32 = 268_435_456
    /// `allow_connect`: extended CONNECT (RFC 8441) announced and accepted.
    public var allowConnect = false
    public var maxOutboundFrames: UInt32 = 10_000
    public var maxOutboundControlFrames: UInt32 = 1000
    public var maxConsecutiveInboundFramesWithEmptyPayload: UInt32 = 1
    public var maxInboundPriorityFramesPerStream: UInt32 = 100
    public var maxInboundWindowUpdateFramesPerDataFrameSent: UInt32 = 10
    /// `override_stream_error_on_invalid_http_message` (or the deprecated
    /// `stream_error_on_invalid_http_messaging`); nil: the connection
    /// manager's `stream_error_on_invalid_http_message` decides.
    public var overrideStreamErrorOnInvalidHTTPMessage: Bool?
    /// `connection_keepalive`: a PING every `interval` (jittered), the
    /// connection closed when its ACK takes longer than `timeout`.
    public var keepalive: Keepalive?

    public struct Keepalive: Sendable, Equatable {
        /// 0: no periodic PING (only `connection_idle_interval` ones).
        public var intervalMilliseconds: UInt64
        public var timeoutMilliseconds: UInt64
        /// `interval_jitter` in percent (Envoy's default 15).
        public var jitterPercent: Double
        /// `connection_idle_interval`: a PING before using a connection idle this long.
        public var connectionIdleIntervalMilliseconds: UInt64?

        public init(intervalMilliseconds: UInt64, timeoutMilliseconds: UInt64, jitterPercent: Double = 15,
                    connectionIdleIntervalMilliseconds: UInt64? = nil) {
            self.intervalMilliseconds = intervalMilliseconds
            self.timeoutMilliseconds = timeoutMilliseconds
            self.jitterPercent = jitterPercent
            self.connectionIdleIntervalMilliseconds = connectionIdleIntervalMilliseconds
        }
    }

    public init() {}
}
