/// A cluster's HTTP settings: `typed_extension_protocol_options
/// ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]` and the
/// deprecated cluster-level `max_requests_per_connection`.
public struct UpstreamHTTPConfig: Sendable, Equatable {
    public enum ProtocolSelection: Sendable, Equatable {
        /// `explicit_http_config.http_protocol_options` (and the default without any options): HTTP/1.1.
        case http1
        /// `explicit_http_config.http2_protocol_options` (or the deprecated
        /// cluster-level `http2_protocol_options`): HTTP/2 with prior knowledge.
        case http2
        /// `use_downstream_protocol_config`: the downstream request's protocol
        /// (HTTP/2 only when `http2_protocol_options` is given there).
        case useDownstreamProtocol
        /// `auto_config`: the upstream TLS offers ALPN `h2,http/1.1` (unless
        /// its context names its own), and each host is spoken to in the
        /// protocol its server picked (HTTP/1.1 without ALPN).
        case alpn
    }

    public var protocolSelection: ProtocolSelection
    /// `common_http_protocol_options` (upstream defaults: idle timeout 1 h,
    /// 100 headers, 60 KiB of response headers, unlimited requests per connection).
    public var common: HTTPProtocolOptions
    public var http1: HTTP1ProtocolOptions
    /// The HTTP/2 settings; nil when the cluster never speaks HTTP/2
    /// (`use_downstream_protocol_config` without `http2_protocol_options`
    /// sends HTTP/2 requests upstream as HTTP/1.1, as Envoy does).
    public var http2: HTTP2ProtocolOptions?
    /// `upstream_http_protocol_options`: per-request TLS names for the
    /// cluster's `UpstreamTlsContext`; nil without the message.
    public var upstreamTLSNames: UpstreamTLSNames?

    public init(protocolSelection: ProtocolSelection = .http1, common: HTTPProtocolOptions = HTTPProtocolOptions(),
                http1: HTTP1ProtocolOptions = HTTP1ProtocolOptions(), http2: HTTP2ProtocolOptions? = nil) {
        self.protocolSelection = protocolSelection
        self.common = common
        self.http1 = http1
        self.http2 = http2
    }

    /// The protocol of an upstream request whose downstream spoke HTTP/2
    /// (`downstreamHTTP2`) or not; with `auto_config`, whether the host's
    /// server picked `h2` (`negotiatedHTTP2`, false while unknown).
    public func usesHTTP2(downstreamHTTP2: Bool, negotiatedHTTP2: Bool = false) -> Bool {
        switch protocolSelection {
        case .http1: false
        case .http2: true
        case .useDownstreamProtocol: downstreamHTTP2 && http2 != nil
        case .alpn: negotiatedHTTP2
        }
    }
}

/// `envoy.config.core.v3.UpstreamHttpProtocolOptions`: the router takes
/// the upstream SNI (`auto_sni`) and the name the server's certificate must
/// carry (`auto_san_validation`) from each request's host (after the
/// route's host rewrite), or from `override_auto_sni_header` when the
/// request has it, as Envoy's router does.
public struct UpstreamTLSNames: Sendable, Equatable {
    public var autoSNI: Bool
    public var autoSANValidation: Bool
    /// Lowercased header name; nil for none.
    public var overrideHeader: String?

    public init(autoSNI: Bool = false, autoSANValidation: Bool = false, overrideHeader: String? = nil) {
        self.autoSNI = autoSNI
        self.autoSANValidation = autoSANValidation
        self.overrideHeader = overrideHeader
    }
}

/// `circuit_breakers`: one set of thresholds per routing priority.
public struct CircuitBreakers: Sendable, Equatable {
    public var defaultPriority: CircuitBreakerThresholds
    public var highPriority: CircuitBreakerThresholds

    public init(defaultPriority: CircuitBreakerThresholds = .init(), highPriority: CircuitBreakerThresholds = .init()) {
        self.defaultPriority = defaultPriority
        self.highPriority = highPriority
    }

    public func thresholds(for priority: RoutingPriority) -> CircuitBreakerThresholds {
        priority == .high ? highPriority : defaultPriority
    }
}

/// `CircuitBreakers.Thresholds`, with Envoy's defaults
/// (`ClusterInfoImpl::ResourceManagers::load`).
public struct CircuitBreakerThresholds: Sendable, Equatable {
    public var maxConnections: UInt32
    public var maxPendingRequests: UInt32
    public var maxRequests: UInt32
    public var maxRetries: UInt32
    /// `track_remaining`: publish `remaining_*` gauges.
    public var trackRemaining: Bool

    public init(maxConnections: UInt32 = 1024, maxPendingRequests: UInt32 = 1024, maxRequests: UInt32 = 1024,
                maxRetries: UInt32 = 3, trackRemaining: Bool = false) {
        self.maxConnections = maxConnections
        self.maxPendingRequests = maxPendingRequests
        self.maxRequests = maxRequests
        self.maxRetries = maxRetries
        self.trackRemaining = trackRemaining
    }
}

/// `envoy.config.core.v3.RoutingPriority`: which circuit-breaker thresholds
/// a threshold entry sets. Routes cannot ask for HIGH yet (their `priority`
/// is refused), so only the DEFAULT thresholds are enforced.
public enum RoutingPriority: Sendable, Equatable {
    case `default`
    case high
}
