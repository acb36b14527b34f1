/// `envoy.config.core.v3.HttpProtocolOptions` (`common_http_protocol_options`),
/// downstream (connection manager) or upstream (cluster).
public struct HTTPProtocolOptions: Sendable, Equatable {
    public enum HeadersWithUnderscoresAction: Sendable, Equatable {
        /// Envoy's default.
        case allow
        case rejectRequest
        case dropHeader
    }

    /// `idle_timeout`: close a connection with no active stream after this
    /// long. Envoy's default is 1 hour; nil when configured as 0 (disabled).
    public var idleTimeoutMilliseconds: UInt64?
    /// `max_connection_duration`; nil = unlimited.
    public var maxConnectionDurationMilliseconds: UInt64?
    /// `max_headers_count`; Envoy's default 100.
    public var maxHeadersCount: UInt32
    /// `max_stream_duration`; nil = unlimited.
    public var maxStreamDurationMilliseconds: UInt64?
    public var headersWithUnderscoresAction: HeadersWithUnderscoresAction
    /// `max_requests_per_connection`; 0 = unlimited (Envoy's default).
    public var maxRequestsPerConnection: UInt32
    /// `max_response_headers_kb` (upstream only); Envoy's default 60.
    public var maxResponseHeadersKB: UInt32

    public static let defaultIdleTimeoutMilliseconds: UInt64 = 3_600_000

    public init(
        idleTimeoutMilliseconds: UInt64? = defaultIdleTimeoutMilliseconds, maxConnectionDurationMilliseconds: UInt64? = nil,
        maxHeadersCount: UInt32 = 100, maxStreamDurationMilliseconds: UInt64? = nil,
        headersWithUnderscoresAction: HeadersWithUnderscoresAction = .allow, maxRequestsPerConnection: UInt32 = 0,
        maxResponseHeadersKB: UInt32 = 60
    ) {
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        self.maxConnectionDurationMilliseconds = maxConnectionDurationMilliseconds
        self.maxHeadersCount = maxHeadersCount
        self.maxStreamDurationMilliseconds = maxStreamDurationMilliseconds
        self.headersWithUnderscoresAction = headersWithUnderscoresAction
        self.maxRequestsPerConnection = maxRequestsPerConnection
        self.maxResponseHeadersKB = maxResponseHeadersKB
    }
}

/// `envoy.config.core.v3.Http1ProtocolOptions`.
public struct HTTP1ProtocolOptions: Sendable, Equatable {
    /// `allow_absolute_url` (default true).
    public var allowAbsoluteURL: Bool
    /// `accept_http_10` (default false: HTTP/1.0 requests get 426).
    public var acceptHTTP10: Bool
    /// `default_host_for_http_10`: Host for HTTP/1.0 requests that have none.
    public var defaultHostForHTTP10: String?
    public var enableTrailers: Bool
    public var allowChunkedLength: Bool
    /// `override_stream_error_on_invalid_http_message`; nil = the connection manager's setting.
    public var overrideStreamErrorOnInvalidHTTPMessage: Bool?
    public var allowCustomMethods: Bool
    /// `send_fully_qualified_url` (upstream): absolute-form request targets.
    public var sendFullyQualifiedURL: Bool

    public init(allowAbsoluteURL: Bool = true, acceptHTTP10: Bool = false, defaultHostForHTTP10: String? = nil,
                enableTrailers: Bool = false, allowChunkedLength: Bool = false,
                overrideStreamErrorOnInvalidHTTPMessage: Bool? = nil, allowCustomMethods: Bool = false,
                sendFullyQualifiedURL: Bool = false) {
        self.allowAbsoluteURL = allowAbsoluteURL
        self.acceptHTTP10 = acceptHTTP10
        self.defaultHostForHTTP10 = defaultHostForHTTP10
        self.enableTrailers = enableTrailers
        self.allowChunkedLength = allowChunkedLength
        self.overrideStreamErrorOnInvalidHTTPMessage = overrideStreamErrorOnInvalidHTTPMessage
        self.allowCustomMethods = allowCustomMethods
        self.sendFullyQualifiedURL = sendFullyQualifiedURL
    }
}
