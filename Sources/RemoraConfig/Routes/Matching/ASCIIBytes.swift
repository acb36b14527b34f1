/// Byte helpers for matching request data without building `String`s.
///
/// Case folding is ASCII-only, as Envoy's (`absl::AsciiStrToLower`,
/// `absl::EqualsIgnoreCase`): hosts, paths and header values are compared
/// byte by byte, and non-ASCII bytes only match themselves.
enum ASCIIBytes {
    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 {
        b &- 0x41 < 26 ? b | 0x20 : b
    }

    /// `a == b`, ignoring ASCII case when `ignoreCase`.
    static func equal(_ a: UnsafeRawBufferPointer, _ b: [UInt8], ignoreCase: Bool) -> Bool {
        guard a.count == b.count else { return false }
        return hasPrefix(a, b, ignoreCase: ignoreCase)
    }

    /// Whether `a` starts with `prefix`; with `ignoreCase`, `prefix` must already be lowercase.
    static func hasPrefix(_ a: UnsafeRawBufferPointer, _ prefix: [UInt8], ignoreCase: Bool) -> Bool {
        guard a.count >= prefix.count else { return false }
        return prefix.withUnsafeBufferPointer { p in
            if ignoreCase {
                for i in 0..<p.count where lower(a[i]) != p[i] { return false }
            } else {
                for i in 0..<p.count where a[i] != p[i] { return false }
            }
            return true
        }
    }

    static func hasSuffix(_ a: UnsafeRawBufferPointer, _ suffix: [UInt8], ignoreCase: Bool) -> Bool {
        guard a.count >= suffix.count else { return false }
        return hasPrefix(UnsafeRawBufferPointer(rebasing: a[(a.count - suffix.count)...]), suffix, ignoreCase: ignoreCase)
    }

    static func contains(_ a: UnsafeRawBufferPointer, _ needle: [UInt8], ignoreCase: Bool) -> Bool {
        if needle.isEmpty { return true }
        guard a.count >= needle.count else { return false }
        for start in 0...(a.count - needle.count)
        where hasPrefix(UnsafeRawBufferPointer(rebasing: a[start...]), needle, ignoreCase: ignoreCase) {
            return true
        }
        return false
    }

    /// The part of a `:path` before its query (`?`) or fragment (`#`), as
    /// Envoy's `PathUtil::removeQueryAndFragment`.
    static func pathWithoutQuery(_ path: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        for i in 0..<path.count where path[i] == UInt8(ascii: "?") || path[i] == UInt8(ascii: "#") {
            return UnsafeRawBufferPointer(rebasing: path[..<i])
        }
        return path
    }

    /// Calls `body` with the UTF-8 bytes of `text` (no copy for native strings).
    static func withBytes<R>(_ text: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let r = text.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
            return r
        }
        let copy = Array(text.utf8)
        return copy.withUnsafeBytes(body)
    }

    static func lowercased(_ text: String) -> [UInt8] {
        text.utf8.map(lower)
    }

    /// Whether the text holds a NUL, CR or LF (Envoy's `HTTP_HEADER_VALUE` rule, not strict).
    static func hasControlBreak(_ text: String) -> Bool {
        text.utf8.contains { $0 == 0 || $0 == 0x0d || $0 == 0x0a }
    }

    /// RFC 9110 token characters (header names), optionally after one leading `:` (pseudo-headers).
    static func isValidHeaderName(_ name: String) -> Bool {
        var bytes = Substring(name).utf8[...]
        if bytes.first == UInt8(ascii: ":") { bytes = bytes.dropFirst() }
        guard !bytes.isEmpty else { return false }
        return bytes.allSatisfy(isTokenByte)
    }

    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }
}
