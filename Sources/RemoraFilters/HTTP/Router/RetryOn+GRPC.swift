import RemoraConfig
import RemoraHTTP

extension RetryOn {
    /// The `retry_on` conditions read from a response's `grpc-status`.
    static let grpcConditions: RetryOn = [.grpcCancelled, .grpcDeadlineExceeded, .grpcResourceExhausted,
                                          .grpcUnavailable, .grpcInternal]

    /// Envoy's `RetryStateImpl::wouldRetryFromHeaders` for the gRPC
    /// conditions: the response headers carry a `grpc-status` (a
    /// trailers-only response) that one of them names. Envoy reads it
    /// whatever the request's content type and the response's HTTP status;
    /// a `grpc-status` in trailers is never retried (the response has started).
    func retriesGRPC(_ responseHeaders: HTTPHeaders) -> Bool {
        guard !isDisjoint(with: Self.grpcConditions), let status = GRPCStatus(headers: responseHeaders) else { return false }
        switch status {
        case .cancelled: return contains(.grpcCancelled)
        case .deadlineExceeded: return contains(.grpcDeadlineExceeded)
        case .resourceExhausted: return contains(.grpcResourceExhausted)
        case .unavailable: return contains(.grpcUnavailable)
        case .internal: return contains(.grpcInternal)
        default: return false
        }
    }
}
