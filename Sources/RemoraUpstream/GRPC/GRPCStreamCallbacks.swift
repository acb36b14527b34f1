import RemoraHTTP

/// What a gRPC call's owner hears (Envoy's `Grpc::RawAsyncStreamCallbacks`),
/// on the client's loop, never from inside `startStream`. After
/// `onRemoteClose` nothing more comes; a call the owner reset itself hears
/// nothing at all.
public protocol GRPCStreamCallbacks: AnyObject {
    /// The response head's fields (pseudo-headers removed); empty for a
    /// trailers-only response.
    func onReceiveInitialMetadata(_ metadata: HTTPHeaders)
    /// One whole message, copied out of the read buffers.
    func onReceiveMessage(_ message: [UInt8])
    /// The trailers (or a trailers-only head), `grpc-status` included.
    func onReceiveTrailingMetadata(_ metadata: HTTPHeaders)
    /// The call is over: the server's status, or one the client chose for a
    /// failure (UNAVAILABLE for a connect failure, a reset before the
    /// response head or the timeout, as Envoy's async client reports them).
    func onRemoteClose(status: GRPCStatus, message: String)
}
