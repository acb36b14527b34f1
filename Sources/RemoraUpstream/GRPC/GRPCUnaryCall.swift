import RemoraHTTP

/// How a unary call failed: its status and message.
public struct GRPCCallFailure: Error, Equatable {
    public let status: GRPCStatus
    public let message: String

    public init(status: GRPCStatus, message: String) {
        self.status = status
        self.message = message
    }
}

/// The callbacks of `GRPCAsyncClient.send` (Envoy's `AsyncRequestImpl`):
/// keeps the last response message and reports once when the call closes.
/// Owned by its stream, on the client's loop.
final class GRPCUnaryCall: GRPCStreamCallbacks {
    private var completion: ((Result<[UInt8], GRPCCallFailure>) -> Void)?
    private var response: [UInt8]?

    init(completion: @escaping (Result<[UInt8], GRPCCallFailure>) -> Void) {
        self.completion = completion
    }

    func onReceiveInitialMetadata(_ metadata: HTTPHeaders) {}
    func onReceiveTrailingMetadata(_ metadata: HTTPHeaders) {}

    func onReceiveMessage(_ message: [UInt8]) {
        response = message
    }

    func onRemoteClose(status: GRPCStatus, message: String) {
        guard let completion else { return }
        self.completion = nil
        if status != .ok {
            completion(.failure(GRPCCallFailure(status: status, message: message)))
        } else if let response {
            completion(.success(response))
        } else {
            completion(.failure(GRPCCallFailure(status: .internal, message: "")))
        }
    }
}
