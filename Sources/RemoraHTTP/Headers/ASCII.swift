/// Byte classes for HTTP/1 parsing and header handling, as one 256-entry
/// table of flag bits so that the byte loops do a single load per byte.
///
/// The table is built once and never freed or written again, so reading it
/// from any thread is safe.
@usableFromInline
enum ASCII {
    /// RFC 9110 §5.6.2 `tchar`: the bytes of a token (method, header name).
    static var token: UInt8 { 1 << 0 }
    /// RFC 9110 §5.5 field-value bytes: HTAB, SP, VCHAR and obs-text.
    static var fieldValue: UInt8 { 1 << 1 }
    /// Bytes Envoy (balsa's `isUrlValid`) allows in a request-target's path and query.
    static var pathQuery: UInt8 { 1 << 2 }
    /// Bytes Envoy allows in the host part of an absolute-form or CONNECT target.
    static var urlHost: UInt8 { 1 << 3 }
    /// Bytes of a valid `Host`/`:authority` value (nghttp2_check_authority,
    /// which Envoy's `HeaderUtility::authorityIsValid` uses).
    static var authority: UInt8 { 1 << 4 }
    static var hexDigit: UInt8 { 1 << 5 }
    /// Control bytes that Envoy reports as `http1.invalid_characters`:
    /// 0x00–0x1F except HTAB, CR and LF, and DEL.
    static var control: UInt8 { 1 << 6 }
    static var alpha: UInt8 { 1 << 7 }

    // Computed, so that using them costs no lazy-global check.
    static var cr: UInt8 { 0x0D }
    static var lf: UInt8 { 0x0A }
    static var sp: UInt8 { 0x20 }
    static var htab: UInt8 { 0x09 }
    static var colon: UInt8 { 0x3A }

    // Written once here, read-only afterwards.
    nonisolated(unsafe) static let table: UnsafePointer<UInt8> = {
        let t = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        t.initialize(repeating: 0, count: 256)
        func set(_ bytes: some Sequence<UInt8>, _ flag: UInt8) {
            for b in bytes { t[Int(b)] |= flag }
        }
        let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
        let upper = UInt8(ascii: "A")...UInt8(ascii: "Z")
        let lower = UInt8(ascii: "a")...UInt8(ascii: "z")
        for range in [digits, upper, lower] {
            set(range, token)
            set(range, urlHost)
            set(range, authority)
        }
        set(upper, alpha)
        set(lower, alpha)
        set(Array("!#$%&'*+-.^_`|~".utf8), token)
        set(0x21...0x7E, fieldValue)
        set(0x80...0xFF, fieldValue)
        set([sp, htab], fieldValue)
        set(0x21...0x7E, pathQuery)
        set([htab, 0x0C], pathQuery)
        set(Array("!$%&'()*+,-.:;=@[]_~".utf8), urlHost)
        set(Array("-._~%!$&'()*+,;=:@[]".utf8), authority)
        set(digits, hexDigit)
        set(UInt8(ascii: "a")...UInt8(ascii: "f"), hexDigit)
        set(UInt8(ascii: "A")...UInt8(ascii: "F"), hexDigit)
        set(0x00...0x1F, control)
        t[Int(htab)] &= ~control
        t[Int(cr)] &= ~control
        t[Int(lf)] &= ~control
        t[0x7F] |= control
        return UnsafePointer(t)
    }()

    /// Index of the first byte in `start..<end` that is not a field-value
    /// byte (RFC 9110 §5.5: HTAB, SP, VCHAR, obs-text), or `end`. Eight bytes
    /// at a time while none is below 0x20 or DEL.
    @inline(__always)
    static func firstNonFieldValueByte(_ p: UnsafeRawPointer, from start: Int, to end: Int, table: UnsafePointer<UInt8>) -> Int {
        var i = start
        while i &+ 8 <= end {
            let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let high: UInt64 = 0x8080_8080_8080_8080
            let below20 = (w &- 0x2020_2020_2020_2020) & ~w & high
            let d = w ^ 0x7F7F_7F7F_7F7F_7F7F
            let isDel = (d &- 0x0101_0101_0101_0101) & ~d & high
            if below20 | isDel != 0 { break }
            i &+= 8
        }
        while i < end {
            if table[Int(p.load(fromByteOffset: i, as: UInt8.self))] & fieldValue == 0 { return i }
            i &+= 1
        }
        return end
    }

    @inline(__always)
    static func lowercased(_ b: UInt8) -> UInt8 {
        b &- 0x41 < 26 ? b | 0x20 : b
    }

    @inline(__always)
    static func isWhitespace(_ b: UInt8) -> Bool { b == sp || b == htab }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b &- 0x30
        case 0x61...0x66: return b &- 0x61 &+ 10
        case 0x41...0x46: return b &- 0x41 &+ 10
        default: return nil
        }
    }

    /// Whether `bytes` holds an ASCII uppercase letter.
    @inline(__always)
    static func hasUppercase(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for b in bytes where b &- 0x41 < 26 { return true }
        return false
    }

    /// Case-insensitive equality of two byte runs (ASCII letters only fold).
    @inline(__always)
    static func equalsIgnoringCase(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        var i = 0
        while i < count {
            let x = a.load(fromByteOffset: i, as: UInt8.self)
            let y = b.load(fromByteOffset: i, as: UInt8.self)
            if x != y && lowercased(x) != lowercased(y) { return false }
            i &+= 1
        }
        return true
    }

    /// Whether `bytes` equals the lowercase ASCII `literal`, ignoring case.
    @inline(__always)
    static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount, let base = bytes.baseAddress else {
            return bytes.count == literal.utf8CodeUnitCount
        }
        let lit = literal.utf8Start
        var i = 0
        while i < bytes.count {
            if lowercased(base.load(fromByteOffset: i, as: UInt8.self)) != lit[i] { return false }
            i &+= 1
        }
        return true
    }

    /// The bytes with leading and trailing SP/HTAB removed.
    @inline(__always)
    static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while start < end && isWhitespace(bytes[start]) { start &+= 1 }
        while end > start && isWhitespace(bytes[end &- 1]) { end &-= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// Calls `body` with each element of a comma-separated list, trimmed,
    /// empty elements skipped (RFC 9110 §5.6.1). Stops when `body` returns true.
    @inline(__always)
    static func forEachListElement(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Bool) {
        var start = 0
        var i = 0
        while i <= bytes.count {
            if i == bytes.count || bytes[i] == UInt8(ascii: ",") {
                let element = trimmed(UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
                if !element.isEmpty && body(element) { return }
                start = i &+ 1
            }
            i &+= 1
        }
    }
}
