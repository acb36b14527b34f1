import RemoraConfig
import RemoraHTTP

/// How long a stream may last once its route is known (Envoy's
/// `ConnectionManagerImpl::ActiveStream::refreshDurationTimeout`): the
/// route's `max_stream_duration`, or a `grpc-timeout` capped and offset by
/// the route, or the connection manager's `max_stream_duration`; and what
/// becomes of the request's `grpc-timeout`. Pure; the stream applies it.
enum StreamDuration: Equatable {
    /// No limit: stop the timer. `removeGRPCTimeout`: drop the request's
    /// `grpc-timeout` (Envoy does so only when a timer was running).
    case unlimited(removeGRPCTimeout: Bool)
    /// The stream ends `milliseconds` after it started; `grpcTimeout`, when
    /// set, replaces the request's `grpc-timeout`.
    case limited(milliseconds: UInt64, grpcTimeout: String?)

    /// - Parameters:
    ///   - grpcTimeout: the request's parsed `grpc-timeout` (nil: absent or
    ///     malformed). Envoy honours it whatever the content type; only the
    ///     header rewrite is for gRPC requests.
    ///   - timerRunning: the stream already has a duration timer (the
    ///     connection manager's `max_stream_duration`).
    static func decide(routeMaxStreamDuration: UInt64?, grpc: GRPCRouteTimeouts, connectionManagerMax: UInt64?,
                       grpcTimeout: UInt64?, isGRPC: Bool, timerRunning: Bool) -> StreamDuration {
        let timeout: UInt64
        if let header = grpcTimeout, let max = grpc.headerMaxMilliseconds {
            var t = header
            if max != 0 && t > max { t = max }
            if t != 0, let offset = grpc.headerOffsetMilliseconds {
                // An offset that uses the whole timeout leaves 0: the stream ends at once.
                t = offset < t ? t - offset : 0
            }
            timeout = t
        } else if let route = routeMaxStreamDuration {
            guard route != 0 else { return .unlimited(removeGRPCTimeout: timerRunning && grpc.usesStreamDuration && isGRPC) }
            timeout = route
        } else if let hcm = connectionManagerMax, hcm != 0 {
            timeout = hcm
        } else {
            return .unlimited(removeGRPCTimeout: timerRunning && grpc.usesStreamDuration && isGRPC)
        }
        let rewrite = grpc.usesStreamDuration && isGRPC ? GRPCTimeout.encode(milliseconds: timeout) : nil
        return .limited(milliseconds: timeout, grpcTimeout: rewrite)
    }
}
