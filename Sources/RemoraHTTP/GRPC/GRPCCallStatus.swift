/// How a gRPC client reads the end of a call from what the server sent,
/// as Envoy's `Grpc::AsyncStreamImpl` does (checked against Envoy 1.40).
/// Pure functions on header bytes; any loop may call them.
public enum GRPCCallStatus {
    /// What a response head means for the call.
    public enum HeadOutcome: Equatable {
        /// A 200 head with more to come: initial metadata.
        case proceed
        /// The head also ends the call (trailers-only, or a non-200 head
        /// that ends the stream and carries `grpc-status`): read it as trailers.
        case trailersOnly
        /// A non-200 head without a usable `grpc-status`: the call ends with
        /// the status mapped from the HTTP one (`Grpc::Utility::httpToGrpcStatus`;
        /// Envoy 1.40 gives a 503 as UNAVAILABLE with an empty message).
        case failed(GRPCStatus)
    }

    public static func head(httpStatus: Int?, headers: HTTPHeaders, endStream: Bool) -> HeadOutcome {
        guard let httpStatus, httpStatus == 200 else {
            if endStream && GRPCStatus(headers: headers) != nil { return .trailersOnly }
            return .failed(GRPCStatus(httpStatus: httpStatus ?? 0))
        }
        return endStream ? .trailersOnly : .proceed
    }

    /// The status and message trailers (or a trailers-only head) give:
    /// `grpc-status` (UNKNOWN when absent, Envoy's invalid code -1 when it is
    /// not a known code) and `grpc-message` as sent (Envoy does not
    /// percent-decode it for its callbacks).
    public static func trailers(_ trailers: HTTPHeaders) -> (status: GRPCStatus, message: String) {
        let status = GRPCStatus(headers: trailers) ?? .unknown
        return (status, trailers.firstString(name: "grpc-message") ?? "")
    }

    /// The message of a call that ended because its stream was reset or
    /// never opened before any response head: Envoy's router answers its
    /// async client with a 503 local reply, seen as UNAVAILABLE with this
    /// text (e.g. `... reset reason: remote connection failure`).
    public static func resetBeforeHeadersMessage(_ reason: String) -> String {
        "upstream connect error or disconnect/reset before headers. reset reason: \(reason)"
    }

    /// Envoy's words for a stream reset reason, as in `reset reason: …`.
    public static func resetReasonText(_ reason: HTTPStreamResetReason) -> String {
        switch reason {
        case .localReset: "local reset"
        case .localRefusedStreamReset: "local refused stream reset"
        case .remoteReset: "remote reset"
        case .remoteRefusedStreamReset: "remote refused stream reset"
        case .connectionTermination: "connection termination"
        case .protocolError: "protocol error"
        case .connectError: "remote reset"
        case .overflow: "overflow"
        }
    }
}
