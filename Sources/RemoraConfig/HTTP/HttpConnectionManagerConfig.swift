import RemoraCore

/// `envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
/// compiled: the terminal network filter of an HTTP filter chain.
///
/// Immutable and `Sendable`; built on the main thread as part of a
/// `ListenerConfig`, read by the workers' connection managers. Timeouts are
/// milliseconds, 0 meaning "disabled" where Envoy says so.
public struct HttpConnectionManagerConfig: Sendable {
    public enum CodecType: Sendable, Equatable {
        /// Envoy's default: HTTP/2 when the client opens with the HTTP/2
        /// connection preface (prior knowledge; ALPN `h2` once TLS lands),
        /// HTTP/1 otherwise.
        case auto
        case http1
        case http2
    }

    public enum ServerHeaderTransformation: Sendable, Equatable {
        /// Envoy's default: set `server` to `serverName` on every response.
        case overwrite
        case appendIfAbsent
        case passThrough
    }

    public enum PathWithEscapedSlashesAction: Sendable, Equatable {
        /// Envoy's default (`IMPLEMENTATION_SPECIFIC_DEFAULT` resolves to this).
        case keepUnchanged
        case rejectRequest
        case unescapeAndRedirect
        case unescapeAndForward
    }

    public enum StripPortMode: Sendable, Equatable {
        case none
        /// `strip_matching_host_port`: drop the Host port when it equals the listener's port.
        case matchingHost
        /// `strip_any_host_port`.
        case any
    }

    /// `stat_prefix`: stats are `http.<statPrefix>.*`.
    public var statPrefix: String
    public var codec: CodecType
    /// The inline `route_config`, or the `rds` table it names.
    public var routes: RouteSource

    /// The inline `route_config` (nil with `rds`).
    public var routeTable: RouteTable? {
        if case .inline(let table) = routes { return table }
        return nil
    }
    /// `http_filters`, in decode order, filters marked `is_optional` that
    /// Remora lacks already dropped. When not empty, the last is the router.
    public var httpFilters: [HTTPFilterConfig]
    /// `server_name`; Envoy's default `envoy`.
    public var serverName: String
    public var serverHeaderTransformation: ServerHeaderTransformation
    /// `use_remote_address` (default false): the peer address, not `x-forwarded-for`, is the client.
    public var useRemoteAddress: Bool
    public var xffNumTrustedHops: UInt32
    public var skipXffAppend: Bool
    /// `via`: value appended to `via` on requests and responses; nil = none.
    public var via: String?
    /// `generate_request_id` (default true).
    public var generateRequestId: Bool
    /// `forward_client_cert_details` / `set_current_client_cert_details`.
    public var forwardClientCert = ForwardClientCertConfig()
    public var preserveExternalRequestId: Bool
    public var alwaysSetRequestIdInResponse: Bool
    /// `internal_address_config`: which peers count as internal. Empty by
    /// default: since Envoy 1.36 no address is internal unless configured.
    public var internalAddresses: InternalAddressConfig
    /// `stream_idle_timeout`; Envoy's default 5 minutes; 0 disables.
    public var streamIdleTimeoutMilliseconds: UInt64
    /// `request_timeout` for the whole request to arrive; default 0 (disabled).
    public var requestTimeoutMilliseconds: UInt64
    /// `request_headers_timeout`; default 0 (disabled).
    public var requestHeadersTimeoutMilliseconds: UInt64
    /// `drain_timeout`; Envoy's default 5 s.
    public var drainTimeoutMilliseconds: UInt64
    /// `delayed_close_timeout`; Envoy's default 1 s; 0 disables.
    public var delayedCloseTimeoutMilliseconds: UInt64
    /// `common_http_protocol_options` (downstream).
    public var common: HTTPProtocolOptions
    /// `http_protocol_options` (HTTP/1).
    public var http1: HTTP1ProtocolOptions
    /// `http2_protocol_options`.
    public var http2 = HTTP2ProtocolOptions()
    /// `max_request_headers_kb`; Envoy's default 60, at most 8192.
    public var maxRequestHeadersKB: UInt32
    /// `upgrade_configs`, in order; types lowercase.
    public var upgrades: [UpgradeConfig]
    /// `normalize_path` (default false: Envoy's runtime default).
    public var normalizePath: Bool
    public var mergeSlashes: Bool
    public var pathWithEscapedSlashesAction: PathWithEscapedSlashesAction
    public var stripPortMode: StripPortMode
    public var stripTrailingHostDot: Bool
    /// `stream_error_on_invalid_http_message` (default false: close the connection).
    public var streamErrorOnInvalidHTTPMessage: Bool
    /// `access_log`: one line per request, written when the stream ends.
    public var accessLogs = AccessLogList.none

    /// The router's settings (the last filter), if the chain has one.
    public var router: RouterFilterConfig? {
        guard case .router(let router)? = httpFilters.last else { return nil }
        return router
    }

    /// Whether the chain has a `health_check` filter (its stats exist only then).
    public var hasHealthCheckFilter: Bool {
        httpFilters.contains { if case .healthCheck = $0 { return true } else { return false } }
    }

    /// Whether `type` (lowercase) upgrades are allowed by default (a route may override).
    public func upgradeEnabled(_ type: String) -> Bool? {
        upgrades.first { $0.type == type }?.enabled
    }
}

/// Where a connection manager's routes come from.
public enum RouteSource: Sendable {
    /// `route_config`: compiled with the listener.
    case inline(RouteTable)
    /// `rds`: the table of that name, fetched from its config source and
    /// shared by every connection manager naming it.
    case rds(RDSReference)
}

/// An HCM's `rds`: which route configuration, from where.
public struct RDSReference: Hashable, Sendable {
    public var routeConfigName: String
    public var source: ConfigSourceConfig

    public init(routeConfigName: String, source: ConfigSourceConfig) {
        self.routeConfigName = routeConfigName
        self.source = source
    }
}

/// An entry of `http_filters`.
public enum HTTPFilterConfig: Sendable {
    case router(RouterFilterConfig)
    /// `envoy.filters.http.health_check`.
    case healthCheck(HealthCheckFilterConfig)
}

/// `envoy.extensions.filters.http.router.v3.Router`.
public struct RouterFilterConfig: Sendable, Equatable {
    /// `dynamic_stats` (default true).
    public var dynamicStats: Bool
    /// `suppress_envoy_headers`: no `x-envoy-*` headers added.
    public var suppressEnvoyHeaders: Bool
    /// `strict_check_headers`: request headers to validate strictly (lowercase).
    public var strictCheckHeaders: [String]
    public var respectExpectedRequestTimeout: Bool
    public var suppressGrpcRequestFailureCodeStats: Bool

    public init(dynamicStats: Bool = true, suppressEnvoyHeaders: Bool = false, strictCheckHeaders: [String] = [],
                respectExpectedRequestTimeout: Bool = false, suppressGrpcRequestFailureCodeStats: Bool = false) {
        self.dynamicStats = dynamicStats
        self.suppressEnvoyHeaders = suppressEnvoyHeaders
        self.strictCheckHeaders = strictCheckHeaders
        self.respectExpectedRequestTimeout = respectExpectedRequestTimeout
        self.suppressGrpcRequestFailureCodeStats = suppressGrpcRequestFailureCodeStats
    }
}

/// `HttpConnectionManager.UpgradeConfig`.
public struct UpgradeConfig: Sendable, Equatable {
    /// Lowercase upgrade type, e.g. `websocket`.
    public var type: String
    /// `enabled` (default true).
    public var enabled: Bool
}

/// `HttpConnectionManager.InternalAddressConfig`.
public struct InternalAddressConfig: Sendable, Equatable {
    public var unixSockets: Bool
    public var cidrRanges: [CIDRRange]

    public init(unixSockets: Bool = false, cidrRanges: [CIDRRange] = []) {
        self.unixSockets = unixSockets
        self.cidrRanges = cidrRanges
    }

    public func isInternal(_ address: SocketAddress) -> Bool {
        if case .unix = address { return unixSockets }
        return cidrRanges.contains { $0.contains(address) }
    }
}

/// `envoy.config.core.v3.CidrRange`: an IP prefix.
public struct CIDRRange: Sendable, Hashable {
    /// The network address (host bits cleared), port 0.
    public let address: SocketAddress
    public let prefixLength: Int

    /// Nil when the address is not an IP literal or the length exceeds 32 (IPv4) / 128 (IPv6).
    public init?(_ text: String, prefixLength: Int) {
        guard let ip = SocketAddress.ip(text, port: 0) else { return nil }
        switch ip {
        case .v4(let a, _):
            guard prefixLength >= 0, prefixLength <= 32 else { return nil }
            let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefixLength)
            address = .v4(a & mask, port: 0)
        case .v6(let h, let l, _):
            guard prefixLength >= 0, prefixLength <= 128 else { return nil }
            let (mh, ml) = Self.mask6(prefixLength)
            address = .v6(high: h & mh, low: l & ml, port: 0)
        case .unix:
            return nil
        }
        self.prefixLength = prefixLength
    }

    public func contains(_ other: SocketAddress) -> Bool {
        switch (address, other) {
        case (.v4(let net, _), .v4(let a, _)):
            let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefixLength)
            return a & mask == net
        case (.v6(let nh, let nl, _), .v6(let h, let l, _)):
            let (mh, ml) = Self.mask6(prefixLength)
            return h & mh == nh && l & ml == nl
        default:
            return false
        }
    }

    private static func mask6(_ length: Int) -> (UInt64, UInt64) {
        if length == 0 { return (0, 0) }
        if length <= 64 { return (~UInt64(0) << UInt64(64 - length), 0) }
        if length == 128 { return (~0, ~0) }
        return (~0, ~UInt64(0) << UInt64(128 - length))
    }
}

/// What the connection manager does with `x-forwarded-client-cert`.
public struct ForwardClientCertConfig: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// Envoy's default: the header is removed.
        case sanitize
        /// Passed on as it came, on mutual-TLS connections only.
        case forwardOnly
        /// The client certificate's details are appended (mTLS only).
        case appendForward
        /// Replaced by the client certificate's details (mTLS only).
        case sanitizeSet
        /// Passed on as it came, whatever the connection.
        case alwaysForwardOnly
    }

    public enum Detail: Sendable, Equatable {
        case subject, uri, cert, chain, dns
    }

    public var mode = Mode.sanitize
    public var details: [Detail] = []

    public init() {}
}

/// A chain's compiled `HttpConnectionManagerConfig`, held once: each
/// connection manager keeps a reference to it rather than its own copy of
/// the ~50 fields (about 450 bytes per connection, and as many retains to
/// copy them at accept). Immutable, so `Sendable`.
public final class SharedHttpConnectionManagerConfig: Sendable {
    public let config: HttpConnectionManagerConfig

    public init(_ config: HttpConnectionManagerConfig) {
        self.config = config
    }
}
