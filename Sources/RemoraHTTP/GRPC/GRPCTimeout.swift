/// The `grpc-timeout` request header as Envoy reads and writes it
/// (`Grpc::Common::getGrpcTimeout` / `toGrpcTimeout`): `TimeoutValue
/// TimeoutUnit`, at most 8 digits, units `H M S m u n`
/// (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md#requests).
public enum GRPCTimeout {
    /// The largest `TimeoutValue` (8 digits).
    public static let maxValue: UInt64 = 99_999_999

    /// The timeout in milliseconds, or nil when the header is absent or
    /// malformed (Envoy then acts as if there were none). The value before
    /// the unit goes through `absl::SimpleAtoi` into an int64, so spaces
    /// around it and a sign are accepted, and `-0` is 0; above 8 digits,
    /// negative, or an unknown unit (`s`, `h`, …) is malformed. Micro- and
    /// nanoseconds round up to the next millisecond.
    public static func milliseconds(in headers: HTTPHeaders) -> UInt64? {
        guard let value = headers.first(name: "grpc-timeout") else { return nil }
        return value.withUnsafeBytes { parse($0) }
    }

    public static func parse(_ text: String) -> UInt64? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count >= 1 else { return nil }
        let unit = bytes[bytes.count - 1]
        guard let number = SimpleDecimal.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 1)])) else {
            return nil
        }
        // An int64: a magnitude past Int64.max overflowed; a negative other than -0 is refused.
        guard number.magnitude <= UInt64(Int64.max), !number.negative || number.magnitude == 0,
              number.magnitude <= maxValue else { return nil }
        let v = number.magnitude
        switch unit {
        case UInt8(ascii: "H"): return v * 3_600_000
        case UInt8(ascii: "M"): return v * 60_000
        case UInt8(ascii: "S"): return v * 1_000
        case UInt8(ascii: "m"): return v
        case UInt8(ascii: "u"): return (v + 999) / 1_000
        case UInt8(ascii: "n"): return (v + 999_999) / 1_000_000
        default: return nil
        }
    }

    /// Envoy's `toGrpcTimeout`: milliseconds while they fit in 8 digits,
    /// else seconds, minutes, hours (each step truncating), clipped to
    /// 99999999 hours.
    public static func encode(milliseconds: UInt64) -> String {
        let units: [Character] = ["m", "S", "M", "H"]
        var time = milliseconds
        var unit = 0
        if time > maxValue {
            time /= 1_000
            unit = 1
        }
        while time > maxValue {
            if unit == 3 {
                time = maxValue
            } else {
                time /= 60
                unit += 1
            }
        }
        return String(time) + String(units[unit])
    }
}
