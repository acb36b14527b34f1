import RemoraCore

/// Why a received stream of gRPC frames cannot be read on.
public struct GRPCDeframeError: Error, Equatable, CustomStringConvertible {
    private enum Code: Equatable {
        case flags(UInt8)
        case compressed
        case tooLarge(length: UInt64, limit: Int)
    }

    private let code: Code

    /// A flags byte other than 0 or 1 (Envoy's decoder refuses it).
    public static func invalidFlags(_ flags: UInt8) -> GRPCDeframeError { GRPCDeframeError(code: .flags(flags)) }
    /// A compressed message: this client announces no `grpc-encoding`, so a
    /// peer must not compress (Envoy's `AsyncStreamImpl` ends the stream INTERNAL).
    public static let compressed = GRPCDeframeError(code: .compressed)
    /// A message longer than the receive limit (`max_receive_message_length`).
    public static func tooLarge(length: UInt64, limit: Int) -> GRPCDeframeError {
        GRPCDeframeError(code: .tooLarge(length: length, limit: limit))
    }

    /// The status a client ends the call with: RESOURCE_EXHAUSTED for an
    /// over-limit message, INTERNAL for bad framing (as Envoy's async client).
    public var status: GRPCStatus {
        if case .tooLarge = code { return .resourceExhausted }
        return .internal
    }

    public var description: String {
        switch code {
        case .flags(let flags): "invalid gRPC frame flags \(flags)"
        case .compressed: "compressed gRPC message without grpc-encoding"
        case .tooLarge(let length, let limit): "gRPC message of \(length) bytes is over the limit of \(limit)"
        }
    }
}

/// Reads gRPC messages out of DATA chunks as they arrive: a prefix or a
/// message may be split across chunks, and one chunk may hold several
/// messages. Socket-free; owned by one stream (one loop). Messages are
/// copied out of the read buffers (they go to a protobuf decoder on the
/// control plane, not back on the wire).
public struct GRPCMessageDeframer {
    /// The largest message accepted; 0 means no limit.
    public let maxMessageBytes: Int
    private var prefix: [UInt8] = []
    private var expected = 0
    private var message: [UInt8] = []
    private var inMessage = false
    private var failed: GRPCDeframeError?

    public init(maxMessageBytes: Int = 0) {
        self.maxMessageBytes = maxMessageBytes
        prefix.reserveCapacity(GRPCMessageFramer.prefixBytes)
    }

    /// Whether bytes of an unfinished prefix or message are held (a stream
    /// ending now ends mid-message).
    public var hasPartialMessage: Bool { inMessage || !prefix.isEmpty }

    /// Feeds a chunk; `onMessage` gets each message completed by it, in
    /// order. After an error nothing more is read (the same error returns).
    public mutating func append(_ bytes: UnsafeRawBufferPointer, onMessage: ([UInt8]) -> Void) -> GRPCDeframeError? {
        if let failed { return failed }
        var i = 0
        while i < bytes.count {
            if !inMessage {
                let take = min(GRPCMessageFramer.prefixBytes - prefix.count, bytes.count - i)
                prefix.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)]))
                i += take
                guard prefix.count == GRPCMessageFramer.prefixBytes else { break }
                if let error = startMessage() {
                    failed = error
                    return error
                }
                if expected == 0 {
                    finishMessage(onMessage)
                }
                continue
            }
            let take = min(expected - message.count, bytes.count - i)
            message.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)]))
            i += take
            if message.count == expected { finishMessage(onMessage) }
        }
        return nil
    }

    public mutating func append(_ chunk: ByteSlice, onMessage: ([UInt8]) -> Void) -> GRPCDeframeError? {
        chunk.withUnsafeBytes { append($0, onMessage: onMessage) }
    }

    private mutating func startMessage() -> GRPCDeframeError? {
        let flags = prefix[0]
        guard flags & ~1 == 0 else { return .invalidFlags(flags) }
        let length = UInt64(prefix[1]) << 24 | UInt64(prefix[2]) << 16 | UInt64(prefix[3]) << 8 | UInt64(prefix[4])
        if maxMessageBytes > 0 && length > UInt64(maxMessageBytes) {
            return .tooLarge(length: length, limit: maxMessageBytes)
        }
        // An empty message may carry the flag (nothing is compressed).
        if flags == 1 && length > 0 { return .compressed }
        expected = Int(length)
        inMessage = true
        message = []
        // Grown as bytes come, not trusted from the peer's length.
        message.reserveCapacity(min(expected, 64 * 1024))
        return nil
    }

    private mutating func finishMessage(_ onMessage: ([UInt8]) -> Void) {
        let done = message
        message = []
        prefix.removeAll(keepingCapacity: true)
        inMessage = false
        expected = 0
        onMessage(done)
    }
}
