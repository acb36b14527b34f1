import RemoraConfig

/// The router's timeouts for one request, fixed when its headers arrive
/// (Envoy's `FilterUtility::finalTimeout`), and what each attempt tells the
/// upstream about them (`setTimeoutHeaders`). A value, computed without
/// sockets; the router keeps one per request.
struct UpstreamTimeout: Equatable {
    /// The global timeout from the end of the request; 0 = none.
    var global: UInt64
    /// `per_try_timeout`; 0 = none (also when it is not below `global`).
    var perTry: UInt64
    /// Each attempt rewrites `grpc-timeout` to the expected timeout (a gRPC
    /// request on a route with `max_grpc_timeout`, old timeout scheme).
    var rewritesGRPCTimeout: Bool

    /// - Parameters:
    ///   - grpcTimeout: the request's parsed `grpc-timeout` (nil: absent or malformed).
    static func final(routeTimeout: UInt64, perTryTimeout: UInt64, grpc: GRPCRouteTimeouts, isGRPC: Bool,
                      grpcTimeout: UInt64?) -> UpstreamTimeout {
        var global: UInt64 = 0
        // A route with `max_stream_duration` has no router timeout at all:
        // Envoy leaves `global_timeout_` at 0 (checked against Envoy 1.40:
        // the route `timeout` no longer fires).
        if !grpc.usesStreamDuration {
            if isGRPC, let max = grpc.maxGrpcTimeoutMilliseconds {
                var timeout = grpcTimeout ?? 0
                // The offset only applies when it leaves something (0 would mean no timeout).
                if let offset = grpc.offsetMilliseconds, offset < timeout { timeout -= offset }
                if max != 0 && (timeout == 0 || timeout > max) { timeout = max }
                global = timeout
            } else {
                global = routeTimeout
            }
        }
        let perTry = perTryTimeout >= global && global != 0 ? 0 : perTryTimeout
        return UpstreamTimeout(global: global, perTry: perTry,
                               rewritesGRPCTimeout: isGRPC && !grpc.usesStreamDuration && grpc.maxGrpcTimeoutMilliseconds != nil)
    }

    /// `x-envoy-expected-rq-timeout-ms` (and, with `rewritesGRPCTimeout`,
    /// `grpc-timeout`) for an attempt started `elapsed` ms after the request
    /// ended: the per-try timeout, else the global one, never beyond what is
    /// left of the global one (1 ms once it is used up); nil = no timeout,
    /// nothing written.
    func expected(elapsed: UInt64) -> UInt64? {
        var expected = perTry == 0 ? global : perTry
        guard expected > 0 else { return nil }
        if global > 0 {
            expected = elapsed >= global ? 1 : min(expected, global - elapsed)
        }
        return expected
    }
}
