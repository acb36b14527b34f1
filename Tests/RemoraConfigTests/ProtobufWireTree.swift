/// A protobuf message as its wire fields, for structure-aware mutation in
/// `BootstrapFuzzTests`: a mutated leaf is written back with every enclosing
/// length fixed, so the decoder accepts it and the compiler sees the value
/// (extreme durations, ports, enums and counts), as a control plane could
/// send them. A length-delimited field that parses as a message is taken as
/// one (strings that happen to parse become "messages" too; harmless here).
struct ProtobufWireTree {
    indirect enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes([UInt8])
        case message(ProtobufWireTree)
    }

    struct Field {
        var number: UInt64
        var value: Value
    }

    var fields: [Field]

    /// Nil unless `bytes` is a well-formed sequence of fields.
    init?(parsing bytes: ArraySlice<UInt8>, depth: Int = 0) {
        guard depth < 64 else { return nil }
        var fields: [Field] = []
        var reader = ProtobufWireReader(bytes)
        while let (number, wire) = reader.next() {
            let value: Value
            switch wire {
            case .varint(let v): value = .varint(v)
            case .fixed64(let v): value = .fixed64(v)
            case .fixed32(let v): value = .fixed32(v)
            case .lengthDelimited(let body):
                if !body.isEmpty, let nested = ProtobufWireTree(parsing: body, depth: depth + 1) {
                    value = .message(nested)
                } else {
                    value = .bytes(Array(body))
                }
            }
            fields.append(Field(number: number, value: value))
        }
        guard reader.isAtEnd else { return nil }
        self.fields = fields
    }

    func serialized() -> [UInt8] {
        var out: [UInt8] = []
        func varint(_ v: UInt64) {
            var v = v
            repeat {
                out.append(UInt8(v & 0x7f) | (v >= 0x80 ? 0x80 : 0))
                v >>= 7
            } while v != 0
        }
        for field in fields {
            switch field.value {
            case .varint(let v): varint(field.number << 3); varint(v)
            case .fixed64(let v): varint(field.number << 3 | 1); for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) }
            case .fixed32(let v): varint(field.number << 3 | 5); for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) }
            case .bytes(let b): varint(field.number << 3 | 2); varint(UInt64(b.count)); out += b
            case .message(let m): let b = m.serialized(); varint(field.number << 3 | 2); varint(UInt64(b.count)); out += b
            }
        }
        return out
    }

    /// Index paths of every varint leaf.
    func varintPaths(prefix: [Int] = []) -> [[Int]] {
        var paths: [[Int]] = []
        for (i, field) in fields.enumerated() {
            switch field.value {
            case .varint: paths.append(prefix + [i])
            case .message(let m): paths += m.varintPaths(prefix: prefix + [i])
            default: break
            }
        }
        return paths
    }

    /// Index paths of every nested message.
    func messagePaths(prefix: [Int] = []) -> [[Int]] {
        var paths: [[Int]] = []
        for (i, field) in fields.enumerated() {
            if case .message(let m) = field.value { paths += [prefix + [i]] + m.messagePaths(prefix: prefix + [i]) }
        }
        return paths
    }

    /// Applies `change` to the field list of the message at `path` (empty: this one).
    mutating func modify(at path: ArraySlice<Int>, _ change: (inout [Field]) -> Void) {
        guard let first = path.first else { change(&fields); return }
        guard case .message(var nested) = fields[first].value else { return }
        nested.modify(at: path.dropFirst(), change)
        fields[first].value = .message(nested)
    }
}
