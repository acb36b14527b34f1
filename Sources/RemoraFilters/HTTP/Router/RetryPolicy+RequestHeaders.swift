import RemoraConfig
import RemoraHTTP

extension RetryPolicy {
    /// Envoy's `createRetryState` / `RetryStateImpl`: the route's policy
    /// with the conditions of the request's `x-envoy-retry-on` (HTTP ones
    /// only) and `x-envoy-retry-grpc-on` (gRPC ones only) added, and
    /// `x-envoy-max-retries` replacing `num_retries` once some condition is
    /// set; nil when nothing asks for retries. The three headers are
    /// consumed (removed): they never reach the upstream. The connection
    /// manager already stripped them unless the request is internal.
    static func effective(route: RetryPolicy?, requestHeaders headers: inout HTTPHeaders) -> RetryPolicy? {
        let retryOn = headers.firstString(name: "x-envoy-retry-on")
        let grpcOn = headers.firstString(name: "x-envoy-retry-grpc-on")
        let maxRetries = headers.first(name: "x-envoy-max-retries")
        guard retryOn != nil || grpcOn != nil || maxRetries != nil else { return route }
        for name in ["x-envoy-retry-on", "x-envoy-retry-grpc-on", "x-envoy-max-retries"] { _ = headers.remove(name: name) }
        var policy = route
        if retryOn != nil || grpcOn != nil {
            var merged = route ?? .unconfigured
            if let retryOn { merged.retryOn.formUnion(RetryOn.parse(retryOn).subtracting(RetryOn.grpcConditions)) }
            if let grpcOn { merged.retryOn.formUnion(RetryOn.parse(grpcOn).intersection(RetryOn.grpcConditions)) }
            policy = merged
        }
        if var p = policy, !p.retryOn.isEmpty, let maxRetries,
           let n = maxRetries.withUnsafeBytes({ SimpleDecimal.parse($0) }), !n.negative {
            p.numRetries = UInt32(clamping: n.magnitude)
            policy = p
        }
        return policy
    }
}
