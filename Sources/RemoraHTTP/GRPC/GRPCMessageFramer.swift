import RemoraCore

/// gRPC's Length-Prefixed-Message framing
/// (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md#requests):
/// a 1-byte Compressed-Flag, a 4-byte big-endian Message-Length, then the
/// message. Sending side; pure functions, any loop may call them.
public enum GRPCMessageFramer {
    /// The prefix's size.
    public static let prefixBytes = 5

    /// One uncompressed message with its prefix, in one fresh buffer (one
    /// DATA payload for the codec). Messages of 4 GiB or more cannot be framed.
    public static func frame(_ message: some Collection<UInt8>) -> ByteSlice {
        precondition(message.count <= Int(UInt32.max), "a gRPC message is at most 4 GiB - 1")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(prefixBytes + message.count)
        let length = UInt32(message.count)
        bytes.append(0)
        bytes.append(UInt8(truncatingIfNeeded: length >> 24))
        bytes.append(UInt8(truncatingIfNeeded: length >> 16))
        bytes.append(UInt8(truncatingIfNeeded: length >> 8))
        bytes.append(UInt8(truncatingIfNeeded: length))
        bytes.append(contentsOf: message)
        return ByteSlice(copying: bytes)
    }
}
