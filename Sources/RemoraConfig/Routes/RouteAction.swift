/// What a matched route does.
public enum RouteAction: Sendable {
    /// Proxy to a cluster (`route`).
    case forward(ForwardAction)
    /// Answer with a redirect (`redirect`).
    case redirect(RedirectAction)
    /// Answer with a fixed status and body (`direct_response`).
    case directResponse(DirectResponse)
}

/// `envoy.config.route.v3.RouteAction`, as far as Remora implements it.
/// A class: the router keeps it per request, and a reference is one
/// retain where the fields would be a dozen.
public final class ForwardAction: Sendable {
    public enum ClusterSpecifier: Sendable {
        case cluster(String)
        /// `cluster_header`: the cluster named by this request header (lowercase name; first value).
        case clusterHeader(String)
        case weighted(WeightedClusters)
    }

    public let cluster: ClusterSpecifier
    /// `cluster_not_found_response_code`: 503 (default), 404 or 500.
    public let clusterNotFoundResponseCode: Int
    public let pathRewrite: PathRewrite?
    public let hostRewrite: HostRewrite?
    /// `append_x_forwarded_host`: append the original host to `x-forwarded-host` when rewriting it.
    public let appendXForwardedHost: Bool
    /// `timeout`: upstream response timeout; Envoy's default 15 s; 0 disables.
    public let timeoutMilliseconds: UInt64
    /// `idle_timeout`: nil = the connection manager's `stream_idle_timeout`; 0 disables.
    public let idleTimeoutMilliseconds: UInt64?
    /// `max_stream_duration.max_stream_duration`; nil = the connection manager's.
    public let maxStreamDurationMilliseconds: UInt64?
    /// gRPC's timeout settings of the route (`max_stream_duration.grpc_timeout_header_*`, `max_grpc_timeout`, `grpc_timeout_offset`).
    public let grpcTimeouts: GRPCRouteTimeouts
    /// The route's retry policy, else the virtual host's; nil = no retries.
    public let retryPolicy: RetryPolicy?
    /// The route's mirror policies, else the virtual host's, else the route configuration's.
    public let mirrorPolicies: [MirrorPolicy]
    /// Per-route `upgrade_configs`: lowercase upgrade type → enabled. A type
    /// listed here overrides the connection manager's setting for this route.
    public let upgrades: [String: Bool]
    /// The route's `upgrade_configs` entry for CONNECT has a
    /// `connect_config`: the proxy terminates CONNECT requests and carries
    /// their payload to the upstream as raw TCP.
    public let terminatesConnect: Bool

    public init(
        cluster: ClusterSpecifier, clusterNotFoundResponseCode: Int, pathRewrite: PathRewrite?,
        hostRewrite: HostRewrite?, appendXForwardedHost: Bool, timeoutMilliseconds: UInt64,
        idleTimeoutMilliseconds: UInt64?, maxStreamDurationMilliseconds: UInt64?, retryPolicy: RetryPolicy?,
        mirrorPolicies: [MirrorPolicy], upgrades: [String: Bool], grpcTimeouts: GRPCRouteTimeouts = GRPCRouteTimeouts(),
        terminatesConnect: Bool = false) {
        self.terminatesConnect = terminatesConnect
        self.cluster = cluster
        self.clusterNotFoundResponseCode = clusterNotFoundResponseCode
        self.pathRewrite = pathRewrite
        self.hostRewrite = hostRewrite
        self.appendXForwardedHost = appendXForwardedHost
        self.timeoutMilliseconds = timeoutMilliseconds
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        self.maxStreamDurationMilliseconds = maxStreamDurationMilliseconds
        self.grpcTimeouts = grpcTimeouts
        self.retryPolicy = retryPolicy
        self.mirrorPolicies = mirrorPolicies
        self.upgrades = upgrades
    }
}

/// A route's timeout settings for gRPC requests (and Envoy's switch between
/// the two timeout schemes).
public struct GRPCRouteTimeouts: Sendable, Equatable {
    /// The route has a `max_stream_duration` message (Envoy's
    /// `usingNewTimeouts`): the router then has no global timeout (the route
    /// `timeout` and `max_grpc_timeout` do not apply) and the connection
    /// manager's stream-duration timer bounds the stream.
    public var usesStreamDuration: Bool
    /// `max_stream_duration.grpc_timeout_header_max`: when set, a request's
    /// `grpc-timeout` bounds the stream, capped to this (0 = no cap).
    public var headerMaxMilliseconds: UInt64?
    /// `max_stream_duration.grpc_timeout_header_offset`.
    public var headerOffsetMilliseconds: UInt64?
    /// `max_grpc_timeout` (deprecated, still honoured by Envoy 1.40): when
    /// set, a gRPC request's `grpc-timeout` (capped to this; 0 = no cap)
    /// replaces the route `timeout`.
    public var maxGrpcTimeoutMilliseconds: UInt64?
    /// `grpc_timeout_offset`.
    public var offsetMilliseconds: UInt64?

    public init(usesStreamDuration: Bool = false, headerMaxMilliseconds: UInt64? = nil, headerOffsetMilliseconds: UInt64? = nil,
                maxGrpcTimeoutMilliseconds: UInt64? = nil, offsetMilliseconds: UInt64? = nil) {
        self.usesStreamDuration = usesStreamDuration
        self.headerMaxMilliseconds = headerMaxMilliseconds
        self.headerOffsetMilliseconds = headerOffsetMilliseconds
        self.maxGrpcTimeoutMilliseconds = maxGrpcTimeoutMilliseconds
        self.offsetMilliseconds = offsetMilliseconds
    }
}

/// The `weighted_clusters` of a route.
public struct WeightedClusters: Sendable {
    public struct Entry: Sendable {
        /// The cluster's name; empty when the entry names a `clusterHeader` instead.
        public let name: String
        /// `cluster_header`: take the cluster name from this request header (lowercase), if present.
        public let clusterHeader: String?
        public let weight: UInt32
        /// `host_rewrite_literal` of this entry (a route-level host rewrite, if any, wins).
        public let hostRewriteLiteral: String?
        /// This entry's header mutations followed by the route's, in application order.
        public let requestHeaderMutations: [HeaderMutation]
        public let responseHeaderMutations: [HeaderMutation]
    }

    public let entries: [Entry]
    /// Sum of the weights (> 0).
    public let totalWeight: UInt64
    /// `header_name`: a request header whose integer value replaces the random value.
    public let randomValueHeader: String?

    /// Envoy's `pickWeightedCluster`: `value % total` falls in one entry's
    /// range `[sum of earlier weights, + weight)`.
    public func pick(randomValue: UInt64) -> Int {
        let selected = randomValue % totalWeight
        var begin: UInt64 = 0
        for (i, entry) in entries.enumerated() {
            let end = begin + UInt64(entry.weight)
            if selected >= begin && selected < end { return i }
            begin = end
        }
        preconditionFailure("weights sum to totalWeight")
    }
}

/// Path rewrite of a forwarded request.
public enum PathRewrite: Sendable {
    /// `prefix_rewrite`: replaces the matched prefix (or path; or the whole
    /// path without query for a regex route), keeping the rest and the query.
    case prefix(String)
    /// `regex_rewrite`: substitution on the path without its query; the query is kept.
    case regex(RegexSubstitution)
}

/// Host (`:authority`) rewrite of a forwarded request.
public enum HostRewrite: Sendable {
    case literal(String)
    /// `auto_host_rewrite`: the chosen upstream host's hostname (from its
    /// endpoint config, or the DNS name of a STRICT_DNS cluster); done by the
    /// router after host selection, only when that name is non-empty.
    case auto
    /// `host_rewrite_header`: the first value of this request header (lowercase), when non-empty.
    case header(String)
    /// `host_rewrite_path_regex`: substitution on the path without its query.
    case pathRegex(RegexSubstitution)
}

/// `envoy.config.route.v3.RedirectAction`.
public struct RedirectAction: Sendable {
    public enum PathRewrite: Sendable {
        /// `path_redirect`: the new path (its query, if any, wins over the request's).
        case path(String)
        case prefix(String)
        case regex(RegexSubstitution)
    }

    /// `scheme_redirect`, or "https" for `https_redirect`; nil keeps the request's scheme.
    public var scheme: String?
    public var host: String?
    public var port: UInt32?
    public var path: PathRewrite?
    /// 301 (default), 302, 303, 307 or 308.
    public var responseCode: Int
    public var stripQuery: Bool
}

/// `envoy.config.route.v3.DirectResponseAction`.
public struct DirectResponse: Sendable {
    public var status: Int
    /// The body (`inline_string`, `inline_bytes`, or a file read at compile
    /// time); nil when none is configured.
    public var body: [UInt8]?
}

/// `request_mirror_policies` entry: shadow a share of requests to another cluster.
public struct MirrorPolicy: Sendable {
    public enum Target: Sendable {
        case cluster(String)
        /// Lowercase request header naming the cluster.
        case clusterHeader(String)
    }

    public var target: Target
    /// `runtime_fraction.default_value`; 100% when unset.
    public var fraction: FractionalPercent
    /// `runtime_fraction.runtime_key` (Remora has no runtime layers: the default always applies).
    public var runtimeKey: String
    /// `disable_shadow_host_suffix_append`: keep the host as is instead of appending `-shadow`.
    public var disableShadowHostSuffixAppend: Bool
    /// `host_rewrite_literal` for the shadow request.
    public var hostRewriteLiteral: String?
    /// Where the policy was configured, for `validate_clusters`.
    var fieldPath: String
}

/// `envoy.type.v3.FractionalPercent`.
public struct FractionalPercent: Sendable, Equatable {
    public var numerator: UInt32
    /// 100, 10 000 or 1 000 000.
    public var denominator: UInt32

    public static let all = FractionalPercent(numerator: 100, denominator: 100)

    public init(numerator: UInt32, denominator: UInt32) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// Envoy's `ProtobufPercentHelper::evaluateFractionalPercent`: `random % denominator < numerator`.
    public func isSampled(randomValue: UInt64) -> Bool {
        randomValue % UInt64(denominator) < UInt64(numerator)
    }
}
