/// One compiled `envoy.config.route.v3.Route`: what it matches and what it does.
///
/// Immutable; built on the main thread, read by every worker.
public final class RouteEntry: Sendable {
    /// `name` (may be empty).
    public let name: String
    public let path: PathMatch
    /// `headers`: all must match.
    public let headers: [HeaderMatcher]
    /// `query_parameters`: all must match.
    public let queryParameters: [QueryParameterMatcher]
    /// `runtime_fraction.default_value`: the route matches only this share of requests.
    public let runtimeFraction: FractionalPercent?
    /// `grpc: {}`: only requests with a gRPC content type match.
    public let grpcOnly: Bool
    public let action: RouteAction
    /// Route, virtual host and route configuration mutations, in the order
    /// Envoy applies them: most specific first, unless the route
    /// configuration sets `most_specific_header_mutations_wins` (then least
    /// specific first, so that the most specific is applied last and wins).
    public let requestHeaderMutations: [HeaderMutation]
    public let responseHeaderMutations: [HeaderMutation]
    /// `per_request_buffer_limit_bytes` (route, else virtual host), for retries and shadowing.
    public let perRequestBufferLimitBytes: UInt32?
    /// `connect_matcher`: only CONNECT requests match.
    let connectOnly: Bool

    init(name: String, path: PathMatch, headers: [HeaderMatcher], queryParameters: [QueryParameterMatcher],
         runtimeFraction: FractionalPercent?, grpcOnly: Bool, action: RouteAction,
         requestHeaderMutations: [HeaderMutation], responseHeaderMutations: [HeaderMutation],
         perRequestBufferLimitBytes: UInt32?) {
        self.name = name
        self.path = path
        self.connectOnly = path.isConnect
        self.headers = headers
        self.queryParameters = queryParameters
        self.runtimeFraction = runtimeFraction
        self.grpcOnly = grpcOnly
        self.action = action
        self.requestHeaderMutations = requestHeaderMutations
        self.responseHeaderMutations = responseHeaderMutations
        self.perRequestBufferLimitBytes = perRequestBufferLimitBytes
    }

    /// Envoy's `matchRoute` plus the path check; the path is compared first
    /// because it is the cheapest and usually decides.
    func matches<R: RouteRequest>(_ request: R, path: UnsafeRawBufferPointer, randomValue: UInt64, ignorePathParameters: Bool) -> Bool {
        guard self.path.matches(path, ignorePathParameters: ignorePathParameters) else { return false }
        if connectOnly && request.headerValue(lowercasedName: ":method") != "CONNECT" { return false }
        if let runtimeFraction, !runtimeFraction.isSampled(randomValue: randomValue) { return false }
        if grpcOnly, !Self.isGrpc(request.headerValue(lowercasedName: "content-type")) { return false }
        for matcher in headers where !matcher.matches(request) { return false }
        for matcher in queryParameters where !matcher.matches(path: path) { return false }
        return true
    }

    /// Envoy's `Grpc::Common::hasGrpcContentType`.
    static func isGrpc(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        return contentType == "application/grpc" || contentType.hasPrefix("application/grpc+")
            || contentType.hasPrefix("application/grpc;")
    }
}

/// One compiled `envoy.config.route.v3.VirtualHost`.
public final class VirtualHost: Sendable {
    public let name: String
    /// Lowercase domains as configured.
    public let domains: [String]
    public let routes: [RouteEntry]
    /// `include_request_attempt_count`: send `x-envoy-attempt-count` upstream.
    public let includeRequestAttemptCount: Bool
    /// `include_attempt_count_in_response`: send `x-envoy-attempt-count` downstream.
    public let includeAttemptCountInResponse: Bool

    init(name: String, domains: [String], routes: [RouteEntry], includeRequestAttemptCount: Bool,
         includeAttemptCountInResponse: Bool) {
        self.name = name
        self.domains = domains
        self.routes = routes
        self.includeRequestAttemptCount = includeRequestAttemptCount
        self.includeAttemptCountInResponse = includeAttemptCountInResponse
    }
}
