import RemoraCore

/// The decision of `envoy.filters.listener.http_inspector`, as a socket-free
/// state machine: bytes in (as they arrive, in any pieces), a verdict out.
///
/// It reproduces what Envoy 1.40 decides (its filter over the Balsa
/// parser, checked byte for byte against the real binary):
/// - the HTTP/2 prior-knowledge preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`)
///   gives `h2c`; while the bytes are a prefix of it, more are needed;
/// - otherwise only the request line counts, up to the first `\n`: a first
///   byte at or below space (CR and LF included) is not HTTP at once, and so
///   is a method byte among the first 32 that is neither a token character
///   nor white space (checked as it arrives); the rest is judged at the `\n`:
///   method, target and version split on bytes at or below space; the target
///   must be origin-form (`/…`, `*…`), absolute-form (`scheme://host…`) or,
///   for CONNECT, authority-form, in printable ASCII; the version must be
///   `HTTP/d.d` or absent (HTTP/0.9, whose line must then carry no control
///   characters). `HTTP/1.1` gives `http/1.1`; any other valid line gives
///   `http/1.0` (even `HTTP/2.0` or 0.9) — and, as in Envoy, a 0.9 line
///   whose target ends in `HTTP/1.1` counts as HTTP/1.1;
/// - 64 KiB without a verdict is `tooLarge` (Envoy's `read_error`).
///
/// Keeps a few scalars, not the bytes: the caller holds those.
public struct HTTPInspector: Sendable {
    public enum Verdict: Sendable, Equatable {
        case needMoreData
        case detected(DetectedProtocol)
        /// Not HTTP/1.x nor the HTTP/2 preface: no application protocol is set.
        case notHTTP
        /// `maxInspectedBytes` seen without a verdict.
        case tooLarge
    }

    public enum DetectedProtocol: Sendable, Equatable {
        case http10, http11, http2

        /// The application protocol the inspector sets for chain matching.
        public var alpn: String {
            switch self {
            case .http10: "http/1.0"
            case .http11: "http/1.1"
            case .http2: "h2c"
            }
        }

        /// `[alpn]`, made once: the accept path keeps it without allocating.
        public var alpnList: [String] {
            switch self {
            case .http10: Self.http10List
            case .http11: Self.http11List
            case .http2: Self.http2List
            }
        }

        private static let http10List = ["http/1.0"]
        private static let http11List = ["http/1.1"]
        private static let http2List = ["h2c"]
    }

    /// Envoy rejects a method byte that is neither a token character nor
    /// white space (C's isspace) as it arrives, within the first 32 bytes;
    /// past them, bytes at or below space end the method and the rest is
    /// judged with the whole line (measured against Envoy 1.40).
    static let earlyMethodCheck = 32

    /// Envoy's `Config::MAX_INSPECT_SIZE`.
    public static let maxInspectedBytes = 64 * 1024
    static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private enum Phase: Sendable {
        case preface, start, method, beforeTarget, target, beforeVersion, version, afterVersion
    }

    private enum TargetState: Sendable {
        case start, path, scheme, colon, slash, host
    }

    private var phase = Phase.preface
    private var verdict = Verdict.needMoreData
    public private(set) var inspectedBytes = 0

    // The request line, summarized.
    private var methodLength = 0
    private var methodValid = true
    private var methodIsConnect = true
    private var targetState = TargetState.start
    private var targetLength = 0
    private var targetValid = true
    private var previousWasAt = false
    /// The last eight target bytes, for a 0.9 line ending in `HTTP/1.1`.
    private var targetTail: UInt64 = 0
    private var versionLength = 0
    private var versionBytes: UInt64 = 0
    private var versionValid = true
    private var sawControlCharacter = false

    public init() {}

    /// Feeds the next bytes; returns the verdict so far. Once decided, more
    /// bytes change nothing.
    public mutating func inspect(_ bytes: UnsafeRawBufferPointer) -> Verdict {
        guard verdict == .needMoreData else { return verdict }
        for byte in bytes {
            guard inspectedBytes < Self.maxInspectedBytes else { break }
            inspectedBytes += 1
            feed(byte)
            if verdict != .needMoreData { return verdict }
        }
        if inspectedBytes >= Self.maxInspectedBytes { verdict = .tooLarge }
        return verdict
    }

    public mutating func inspect(_ slice: ByteSlice) -> Verdict {
        slice.withUnsafeBytes { inspect($0) }
    }

    private mutating func feed(_ byte: UInt8) {
        if phase == .preface {
            let matched = inspectedBytes - 1
            if byte == Self.preface[matched] {
                if matched + 1 == Self.preface.count { verdict = .detected(.http2) }
                return
            }
            // Not the preface after all: read what matched as a request line.
            phase = .start
            for earlier in Self.preface[..<matched] {
                parseLine(earlier)
                if verdict != .needMoreData { return }
            }
        }
        parseLine(byte)
    }

    private static func isWhiteSpace(_ byte: UInt8) -> Bool { byte <= 0x20 }

    /// C's isspace: what ends the method for the early check.
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    private mutating func parseLine(_ byte: UInt8) {
        if Self.isControlCharacter(byte) { sawControlCharacter = true }
        if byte == UInt8(ascii: "\n") && phase != .start {
            endOfLine()
            return
        }
        switch phase {
        case .preface, .start:
            // Envoy refuses an empty first line; Balsa any other leading white space.
            guard !Self.isWhiteSpace(byte) else { verdict = .notHTTP; return }
            phase = .method
            guard Self.isTokenCharacter(byte) else { verdict = .notHTTP; return }
            methodByte(byte)
        case .method:
            if methodLength < Self.earlyMethodCheck {
                if Self.isSpace(byte) {
                    phase = .beforeTarget
                } else if Self.isTokenCharacter(byte) {
                    methodByte(byte)
                } else {
                    verdict = .notHTTP
                }
            } else if Self.isWhiteSpace(byte) {
                phase = .beforeTarget
            } else {
                // Past the early window the method is judged with the line.
                if !Self.isTokenCharacter(byte) { methodValid = false }
                methodByte(byte)
            }
        case .beforeTarget:
            if !Self.isWhiteSpace(byte) {
                phase = .target
                targetByte(byte)
            }
        case .target:
            if Self.isWhiteSpace(byte) {
                phase = .beforeVersion
            } else {
                targetByte(byte)
            }
        case .beforeVersion:
            if !Self.isWhiteSpace(byte) {
                phase = .version
                versionByte(byte)
            }
        case .version:
            if Self.isWhiteSpace(byte) {
                phase = .afterVersion
            } else {
                versionByte(byte)
            }
        case .afterVersion:
            // More text after the version: it is part of the "version" then.
            if !Self.isWhiteSpace(byte) {
                versionValid = false
                phase = .version
            }
        }
    }

    private mutating func methodByte(_ byte: UInt8) {
        methodIsConnect = methodIsConnect && methodLength < Self.connect.count && Self.connect[methodLength] == byte
        methodLength += 1
    }

    /// Envoy's `isUrlValid`, one byte at a time.
    private mutating func targetByte(_ byte: UInt8) {
        targetLength += 1
        targetTail = targetTail << 8 | UInt64(byte)
        guard targetValid else { return }
        let isConnect = methodIsConnect && methodLength == 7
        switch targetState {
        case .start:
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "*") {
                targetState = .path
            } else if isConnect {
                targetState = .host
                hostByte(byte)
            } else if Self.isAlpha(byte) {
                targetState = .scheme
            } else {
                targetValid = false
            }
        case .path:
            // Inside the token every byte is above space; DEL and non-ASCII are not allowed.
            if byte > 0x7E { targetValid = false }
        case .scheme:
            if Self.isAlpha(byte) || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "+")
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") {
                return
            }
            if byte == UInt8(ascii: ":") { targetState = .colon } else { targetValid = false }
        case .colon:
            if byte == UInt8(ascii: "/") { targetState = .slash } else { targetValid = false }
        case .slash:
            if byte == UInt8(ascii: "/") { targetState = .host } else { targetValid = false }
        case .host:
            hostByte(byte)
        }
    }

    private mutating func hostByte(_ byte: UInt8) {
        if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") {
            targetState = .path
            return
        }
        let isAt = byte == UInt8(ascii: "@")
        if isAt && previousWasAt { targetValid = false }
        previousWasAt = isAt
        if !(Self.isAlpha(byte) || (byte >= 0x30 && byte <= 0x39) || Self.hostPunctuation.contains(byte)) {
            targetValid = false
        }
    }

    private mutating func versionByte(_ byte: UInt8) {
        versionLength += 1
        if versionLength <= 8 { versionBytes = versionBytes << 8 | UInt64(byte) }
    }

    private mutating func endOfLine() {
        // A target must have got past its scheme ("http://") or be a path.
        let targetComplete = targetState == .path || targetState == .host
        guard methodValid, targetLength > 0, targetValid, targetComplete, versionValid else { verdict = .notHTTP; return }
        if versionLength == 0 {
            // HTTP/0.9: Balsa ends the message here and checks the line for control characters.
            guard !sawControlCharacter else { verdict = .notHTTP; return }
            verdict = .detected(targetLength >= 8 && targetTail == Self.http11 ? .http11 : .http10)
            return
        }
        // "HTTP/" digit "." digit
        guard versionLength == 8, versionBytes >> 24 == Self.httpSlash else { verdict = .notHTTP; return }
        let major = UInt8(truncatingIfNeeded: versionBytes >> 16)
        let dot = UInt8(truncatingIfNeeded: versionBytes >> 8)
        let minor = UInt8(truncatingIfNeeded: versionBytes)
        guard Self.isDigit(major), dot == UInt8(ascii: "."), Self.isDigit(minor) else { verdict = .notHTTP; return }
        verdict = .detected(versionBytes == Self.http11 ? .http11 : .http10)
    }

    /// "HTTP/" and "HTTP/1.1" as big-endian integers.
    private static let httpSlash: UInt64 = 0x48_54_54_50_2F
    private static let http11: UInt64 = 0x48_54_54_50_2F_31_2E_31

    private static let connect: [UInt8] = Array("CONNECT".utf8)

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func isAlpha(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    private static let hostPunctuation: Set<UInt8> = Set("!$%&'()*+,-.:;=@[]_~".utf8)

    /// RFC 9110 `tchar`.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        if isAlpha(byte) || isDigit(byte) { return true }
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Balsa's invalid header characters: controls other than TAB, LF and CR, and DEL.
    private static func isControlCharacter(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D) || byte == 0x7F
    }
}
