/// An IPv4, IPv6 or Unix-domain socket address, in plain Swift (no C types),
/// so that configuration, stats and routing can name addresses without
/// touching `sockaddr`. `RemoraEventLoop` converts it at the socket boundary.
public enum SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// IPv4 address in host byte order, and port.
    case v4(UInt32, port: UInt16)
    /// IPv6 address as 16 network-order bytes (high and low halves, big-endian), and port.
    case v6(high: UInt64, low: UInt64, port: UInt16)
    /// Unix-domain socket path; a leading "@" names an abstract socket.
    case unix(String)

    public var port: UInt16? {
        switch self {
        case .v4(_, let p), .v6(_, _, let p): return p
        case .unix: return nil
        }
    }

    public var isIP: Bool { if case .unix = self { return false } else { return true } }

    /// Same address with another port (Unix paths are returned unchanged).
    public func withPort(_ port: UInt16) -> SocketAddress {
        switch self {
        case .v4(let a, _): return .v4(a, port: port)
        case .v6(let h, let l, _): return .v6(high: h, low: l, port: port)
        case .unix: return self
        }
    }

    /// The address without its port: `127.0.0.1`, `::1`, or the path.
    public var host: String {
        switch self {
        case .v4(let a, _):
            return "\(a >> 24).\((a >> 16) & 0xff).\((a >> 8) & 0xff).\(a & 0xff)"
        case .v6(let h, let l, _):
            return IPv6Text.format(high: h, low: l)
        case .unix(let path):
            return path
        }
    }

    /// Envoy's form: `127.0.0.1:80`, `[::1]:80`, or the Unix path.
    public var description: String {
        switch self {
        case .v4(_, let p): return "\(host):\(p)"
        case .v6(_, _, let p): return "[\(host)]:\(p)"
        case .unix(let path): return path
        }
    }

    /// Parses an IP literal (v4 dotted quad or v6 text) with a port.
    public static func ip(_ text: String, port: UInt16) -> SocketAddress? {
        if let v4 = parseIPv4(text) { return .v4(v4, port: port) }
        if let (h, l) = IPv6Text.parse(text) { return .v6(high: h, low: l, port: port) }
        return nil
    }

    public static func parseIPv4(_ text: String) -> UInt32? {
        var value: UInt32 = 0
        var parts = 0
        var current: UInt32 = 0
        var digits = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                value = value << 8 | current
                parts += 1
                current = 0
                digits = 0
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                guard digits < 3 else { return nil }
                current = current * 10 + UInt32(byte - UInt8(ascii: "0"))
                guard current <= 255 else { return nil }
                digits += 1
            } else {
                return nil
            }
        }
        guard parts == 3, digits > 0 else { return nil }
        return value << 8 | current
    }
}

/// RFC 4291 text form of IPv6 addresses, with RFC 5952's compression when formatting.
enum IPv6Text {
    static func parse(_ text: String) -> (UInt64, UInt64)? {
        var groups: [UInt16] = []
        var gapIndex: Int? = nil
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return nil }
        var i = 0
        if bytes.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            gapIndex = 0
            i = 2
            if i == bytes.count { return (0, 0) }
        }
        while i < bytes.count {
            // Embedded IPv4 tail (::ffff:1.2.3.4).
            if let dot = bytes[i...].firstIndex(of: UInt8(ascii: ".")),
               !bytes[i..<dot].contains(UInt8(ascii: ":")) {
                guard let v4 = SocketAddress.parseIPv4(String(decoding: bytes[i...], as: UTF8.self)) else { return nil }
                groups.append(UInt16(v4 >> 16))
                groups.append(UInt16(v4 & 0xffff))
                i = bytes.count
                break
            }
            var value: UInt32 = 0
            var digits = 0
            while i < bytes.count, let h = hexValue(bytes[i]) {
                value = value << 4 | UInt32(h)
                digits += 1
                i += 1
                if digits > 4 { return nil }
            }
            guard digits > 0 else { return nil }
            groups.append(UInt16(value))
            if i == bytes.count { break }
            guard bytes[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: ":") {
                guard gapIndex == nil else { return nil }
                gapIndex = groups.count
                i += 1
                if i == bytes.count { break }
            } else if i == bytes.count {
                return nil
            }
        }
        if let gap = gapIndex {
            guard groups.count < 8 else { return nil }
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: gap)
        }
        guard groups.count == 8 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for k in 0..<4 { high = high << 16 | UInt64(groups[k]) }
        for k in 4..<8 { low = low << 16 | UInt64(groups[k]) }
        return (high, low)
    }

    static func format(high: UInt64, low: UInt64) -> String {
        var groups = [UInt16](repeating: 0, count: 8)
        for k in 0..<4 { groups[k] = UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64(k))) }
        for k in 0..<4 { groups[4 + k] = UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64(k))) }
        // Longest run of two or more zero groups is compressed (RFC 5952 §4.2).
        var bestStart = -1, bestLen = 0, runStart = -1
        for k in 0...8 {
            if k < 8 && groups[k] == 0 {
                if runStart < 0 { runStart = k }
            } else if runStart >= 0 {
                if k - runStart > bestLen && k - runStart >= 2 { bestStart = runStart; bestLen = k - runStart }
                runStart = -1
            }
        }
        var out = ""
        var k = 0
        while k < 8 {
            if k == bestStart {
                out += "::"
                k += bestLen
                continue
            }
            if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
            out += String(groups[k], radix: 16)
            k += 1
        }
        return out
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
