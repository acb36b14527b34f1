/// Reads protobuf wire format field by field: tag, then the value's bytes,
/// without knowing the message type (`ProtobufWireTree`, for the fuzzer).
struct ProtobufWireReader {
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case lengthDelimited(ArraySlice<UInt8>)
    }

    private let bytes: ArraySlice<UInt8>
    private var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    var isAtEnd: Bool { index >= bytes.endIndex }

    /// The next field (number and value), or nil at the end or on malformed
    /// input (truncated varint or value, field number 0, group wire types).
    mutating func next() -> (number: UInt64, value: Value)? {
        guard let tag = varint(), tag >> 3 != 0 else { return nil }
        switch tag & 7 {
        case 0:
            return varint().map { (tag >> 3, .varint($0)) }
        case 1:
            return fixed(8).map { (tag >> 3, .fixed64($0)) }
        case 5:
            return fixed(4).map { (tag >> 3, .fixed32(UInt32($0))) }
        case 2:
            guard let length = varint(), length <= UInt64(bytes.endIndex - index) else { return nil }
            let body = bytes[index..<(index + Int(length))]
            index += Int(length)
            return (tag >> 3, .lengthDelimited(body))
        default:
            return nil
        }
    }

    private mutating func varint() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.endIndex, shift < 64 {
            let b = bytes[index]
            index += 1
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    private mutating func fixed(_ count: Int) -> UInt64? {
        guard bytes.endIndex - index >= count else { return nil }
        var v: UInt64 = 0
        for k in 0..<count { v |= UInt64(bytes[index + k]) << (8 * UInt64(k)) }
        index += count
        return v
    }
}
