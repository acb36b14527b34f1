/// `envoy.config.route.v3.RetryPolicy`, compiled.
public struct RetryPolicy: Sendable {
    /// `retry_on`, parsed (Envoy's `RetryStateImpl::parseRetryOn` and
    /// `parseRetryGrpcOn`; unknown names are ignored, as Envoy does).
    public var retryOn: RetryOn
    /// `num_retries`; Envoy's default 1.
    public var numRetries: UInt32
    /// `per_try_timeout`; 0 = none (the route timeout covers all tries).
    public var perTryTimeoutMilliseconds: UInt64
    /// `per_try_idle_timeout`; 0 = none.
    public var perTryIdleTimeoutMilliseconds: UInt64
    /// `retriable_status_codes` (used with `retriable-status-codes`).
    public var retriableStatusCodes: [UInt32]
    /// `retry_back_off.base_interval`; Envoy's default 25 ms (at least 1 ms).
    public var backOffBaseMilliseconds: UInt64
    /// `retry_back_off.max_interval`; Envoy's default 10 × base.
    public var backOffMaxMilliseconds: UInt64
    /// `retry_host_predicate`.
    public var hostPredicates: [RetryHostPredicate]
    /// `host_selection_retry_max_attempts`; Envoy's default 1.
    public var hostSelectionRetryMaxAttempts: Int64
    /// `retriable_headers`: response headers that make a response retriable (with `retriable-headers`).
    public var retriableHeaders: [HeaderMatcher]
    /// `retriable_request_headers`: only requests matching all of these are retried.
    public var retriableRequestHeaders: [HeaderMatcher]

    /// Envoy's `RetryPolicyImpl` defaults: what a route without
    /// `retry_policy` retries with when an internal request's
    /// `x-envoy-retry-on`/`x-envoy-retry-grpc-on` asks for retries.
    public static let unconfigured = RetryPolicy(
        retryOn: [], numRetries: 1, perTryTimeoutMilliseconds: 0, perTryIdleTimeoutMilliseconds: 0, retriableStatusCodes: [],
        backOffBaseMilliseconds: 25, backOffMaxMilliseconds: 250, hostPredicates: [], hostSelectionRetryMaxAttempts: 1,
        retriableHeaders: [], retriableRequestHeaders: [])
}

public enum RetryHostPredicate: Sendable, Equatable {
    /// `envoy.retry_host_predicates.previous_hosts`: skip hosts already tried.
    case previousHosts
}

/// The `retry_on` conditions.
public struct RetryOn: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let fiveXX = RetryOn(rawValue: 1 << 0)
    public static let gatewayError = RetryOn(rawValue: 1 << 1)
    public static let reset = RetryOn(rawValue: 1 << 2)
    public static let connectFailure = RetryOn(rawValue: 1 << 3)
    public static let retriable4xx = RetryOn(rawValue: 1 << 4)
    public static let refusedStream = RetryOn(rawValue: 1 << 5)
    public static let retriableStatusCodes = RetryOn(rawValue: 1 << 6)
    public static let retriableHeaders = RetryOn(rawValue: 1 << 7)
    public static let envoyRateLimited = RetryOn(rawValue: 1 << 8)
    public static let resetBeforeRequest = RetryOn(rawValue: 1 << 9)
    public static let http3PostConnectFailure = RetryOn(rawValue: 1 << 10)
    public static let grpcCancelled = RetryOn(rawValue: 1 << 16)
    public static let grpcDeadlineExceeded = RetryOn(rawValue: 1 << 17)
    public static let grpcResourceExhausted = RetryOn(rawValue: 1 << 18)
    public static let grpcUnavailable = RetryOn(rawValue: 1 << 19)
    public static let grpcInternal = RetryOn(rawValue: 1 << 20)

    static let names: [String: RetryOn] = [
        "5xx": .fiveXX, "gateway-error": .gatewayError, "reset": .reset, "connect-failure": .connectFailure,
        "retriable-4xx": .retriable4xx, "refused-stream": .refusedStream,
        "retriable-status-codes": .retriableStatusCodes, "retriable-headers": .retriableHeaders,
        "envoy-ratelimited": .envoyRateLimited, "reset-before-request": .resetBeforeRequest,
        "http3-post-connect-failure": .http3PostConnectFailure,
        "cancelled": .grpcCancelled, "deadline-exceeded": .grpcDeadlineExceeded,
        "resource-exhausted": .grpcResourceExhausted, "unavailable": .grpcUnavailable, "internal": .grpcInternal,
    ]

    /// Parses a comma-separated list, trimming spaces and skipping empty
    /// and unknown items (Envoy's `StringUtil::splitToken(config, ",", false, true)`).
    public static func parse(_ text: String) -> RetryOn {
        var result: RetryOn = []
        for item in text.split(separator: ",") {
            var name = item
            while let f = name.first, f == " " || f == "\t" { name = name.dropFirst() }
            while let l = name.last, l == " " || l == "\t" { name = name.dropLast() }
            if let flag = names[String(name)] { result.insert(flag) }
        }
        return result
    }
}

