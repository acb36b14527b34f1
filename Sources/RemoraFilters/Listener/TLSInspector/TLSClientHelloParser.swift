import RemoraCore

/// The decision of `envoy.filters.listener.tls_inspector`, as a socket-free
/// state machine: the connection's first bytes in (in any pieces, one byte
/// at a time included), a verdict out. No OpenSSL: the bytes are read here.
///
/// Envoy 1.40 feeds the peeked bytes to a BoringSSL server handshake and
/// stops it in its select-certificate callback; whatever BoringSSL accepts
/// up to that callback is TLS, whatever it rejects is not. This parser
/// follows the same steps in the same order, so it decides as Envoy does
/// (checked on 1,500 probed cases, `TLSInspectorEnvoyCasesTests`) and after
/// the same number of bytes (`processedBytes`, Envoy's `bytes_processed`):
/// - the first five bytes: `GET `, `POST `, `HEAD `, `PUT `, `CONNE` are not
///   TLS; a V2ClientHello (high bit, type 1, major 3) is read as SSLv2
///   framing (at most 4 KiB); otherwise a record header, whose major version
///   must be 3 and length at most 16704 (BoringSSL's `tls_open_record`);
/// - records are read whole: a plaintext over 16384 bytes, more than 32
///   empty records in a row, a non-handshake record (a fatal alert, say) are
///   not TLS; warning alerts are skipped (at most 4); a `close_notify`
///   warning ends the connection, as it does in Envoy;
/// - the handshake message must be a ClientHello of at most 16384 bytes,
///   ending with its record (no more handshake bytes after it);
/// - then the ClientHello itself, up to Envoy's callback (see
///   `TLSClientHelloParser+Message.swift`).
///
/// Past `maxClientHelloSize` bytes with no verdict is `tooLarge`.
///
/// Memory: the handshake message is copied as it arrives (at most 16 KiB
/// plus the record that completes it); nothing else is kept.
public struct TLSClientHelloParser: Sendable {
    public enum Verdict: Sendable, Equatable {
        case needMoreData
        /// BoringSSL would have reached Envoy's callback: the transport is TLS.
        case tls(ClientHello)
        /// BoringSSL failed before Envoy's callback: not TLS (or a broken
        /// ClientHello), nothing learnt.
        case notTLS
        /// A ClientHello whose legacy version is not TLS 1.0 to 1.3: Envoy
        /// counts its SNI and `tls_not_found`, and closes.
        case unsupportedVersion(serverName: String?)
        /// A `close_notify` alert before the ClientHello: Envoy closes.
        case closed
        /// `maxClientHelloSize` bytes seen and more needed.
        case tooLarge
    }

    /// What the inspector learns from a ClientHello.
    public struct ClientHello: Sendable, Equatable {
        /// `server_name` (a host_name) as Envoy keeps it (see
        /// `requestedServerName(_:)`); nil without the extension.
        public var serverName: String?
        /// The ALPN list in the client's order; empty without a well-formed one.
        public var applicationProtocols: [String]

        public init(serverName: String?, applicationProtocols: [String]) {
            self.serverName = serverName
            self.applicationProtocols = applicationProtocols
        }
    }

    /// Envoy's `TLS_MAX_CLIENT_HELLO` (BoringSSL's `SSL3_RT_MAX_PLAIN_LENGTH`):
    /// the default and the largest `max_client_hello_size`.
    public static let defaultMaxClientHelloSize = 16384

    // BoringSSL's limits.
    static let maxPlaintextLength = 16384
    /// `SSL3_RT_MAX_ENCRYPTED_LENGTH`: 16384 + 256 + 64.
    static let maxRecordLength = 16704
    /// `ssl_max_handshake_message_len` for a server reading a ClientHello.
    static let maxMessageLength = 16384
    static let maxEmptyRecords = 32
    static let maxWarningAlerts = 4
    static let maxV2HelloLength = 4096

    static let recordHandshake: UInt8 = 22
    static let recordAlert: UInt8 = 21

    private enum Phase: Sendable {
        /// Collecting a five-byte record header (the first one is special).
        case header(first: Bool)
        /// The body of a record of `type`, `remaining` bytes to go.
        case body(type: UInt8, remaining: Int)
        /// An SSLv2-framed ClientHello, `remaining` bytes to go.
        case v2Hello(remaining: Int)
        case decided
    }

    public let maxClientHelloSize: Int
    private var phase = Phase.header(first: true)
    private var verdict = Verdict.needMoreData
    /// Bytes the parser took (BoringSSL reads exactly what it needs).
    public private(set) var processedBytes = 0
    private var header: [UInt8] = []
    /// The current record's body when it is not handshake data (alerts: 2 bytes matter).
    private var otherBody: [UInt8] = []
    private var recordLength = 0
    /// Handshake bytes so far: the ClientHello message and what follows it.
    private var message: [UInt8] = []
    private var emptyRecords = 0
    private var warningAlerts = 0

    public init(maxClientHelloSize: Int = TLSClientHelloParser.defaultMaxClientHelloSize) {
        self.maxClientHelloSize = maxClientHelloSize
    }

    /// Feeds the next bytes; returns the verdict so far. Once decided, more
    /// bytes change nothing.
    public mutating func inspect(_ bytes: UnsafeRawBufferPointer) -> Verdict {
        guard verdict == .needMoreData else { return verdict }
        var index = 0
        while index < bytes.count, verdict == .needMoreData {
            guard processedBytes < maxClientHelloSize else { break }
            let room = min(bytes.count - index, maxClientHelloSize - processedBytes)
            index += step(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + room)]))
        }
        if verdict == .needMoreData && processedBytes >= maxClientHelloSize { decide(.tooLarge) }
        return verdict
    }

    public mutating func inspect(_ slice: ByteSlice) -> Verdict {
        slice.withUnsafeBytes { inspect($0) }
    }

    /// Takes bytes for the current phase; returns how many it took.
    private mutating func step(_ bytes: UnsafeRawBufferPointer) -> Int {
        switch phase {
        case .header(let first):
            header.append(bytes[0])
            processedBytes += 1
            if header.count == 5 { headerComplete(first: first) }
            return 1
        case .body(let type, let remaining):
            let taken = min(remaining, bytes.count)
            let piece = UnsafeRawBufferPointer(rebasing: bytes[..<taken])
            if type == Self.recordHandshake {
                message.append(contentsOf: piece)
            } else if otherBody.count < 3 {
                otherBody.append(contentsOf: piece.prefix(3 - otherBody.count))
            }
            processedBytes += taken
            if taken == remaining {
                recordComplete(type: type)
            } else {
                phase = .body(type: type, remaining: remaining - taken)
            }
            return taken
        case .v2Hello(let remaining):
            let taken = min(remaining, bytes.count)
            message.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[..<taken]))
            processedBytes += taken
            if taken == remaining {
                decide(Self.readV2ClientHello(message))
            } else {
                phase = .v2Hello(remaining: remaining - taken)
            }
            return taken
        case .decided:
            return bytes.count
        }
    }

    private mutating func headerComplete(first: Bool) {
        let h = header
        header.removeAll(keepingCapacity: true)
        if first {
            // BoringSSL's dedicated errors for HTTP spoken to a TLS port.
            if Self.hasPrefix(h, "GET ") || Self.hasPrefix(h, "POST ") || Self.hasPrefix(h, "HEAD ")
                || Self.hasPrefix(h, "PUT ") || Self.hasPrefix(h, "CONNE") {
                decide(.notTLS)
                return
            }
            if h[0] & 0x80 != 0 && h[2] == 1 && h[3] == 3 {
                let length = Int(h[0] & 0x7F) << 8 | Int(h[1])
                // Too long, or shorter than the bytes already read.
                guard length <= Self.maxV2HelloLength, length >= 3 else {
                    decide(.notTLS)
                    return
                }
                message = Array(h[2...])
                phase = .v2Hello(remaining: length - 3)
                if length == 3 { decide(Self.readV2ClientHello(message)) }
                return
            }
        }
        let length = Int(h[3]) << 8 | Int(h[4])
        guard h[1] == 3, length <= Self.maxRecordLength else {
            decide(.notTLS)
            return
        }
        recordLength = length
        otherBody.removeAll(keepingCapacity: true)
        phase = .body(type: h[0], remaining: length)
        if length == 0 { recordComplete(type: h[0]) }
    }

    /// BoringSSL's `tls_open_record` and `tls_open_handshake` on a whole record.
    private mutating func recordComplete(type: UInt8) {
        phase = .header(first: false)
        guard recordLength <= Self.maxPlaintextLength else { decide(.notTLS); return }
        if recordLength == 0 {
            emptyRecords += 1
            guard emptyRecords <= Self.maxEmptyRecords else { decide(.notTLS); return }
        }
        if type == Self.recordAlert {
            // One whole alert per record; a warning is skipped, close_notify ends the connection.
            guard recordLength == 2, otherBody[0] == 1 else { decide(.notTLS); return }
            if otherBody[1] == 0 { decide(.closed); return }
            warningAlerts += 1
            if warningAlerts > Self.maxWarningAlerts { decide(.notTLS) }
            return
        }
        guard type == Self.recordHandshake else { decide(.notTLS); return }
        if recordLength > 0 {
            emptyRecords = 0
            warningAlerts = 0
        }
        guard message.count >= 4 else { return }
        let length = Int(message[1]) << 16 | Int(message[2]) << 8 | Int(message[3])
        guard message.count >= 4 + length else {
            // BoringSSL refuses to buffer a message over its limit before the next record.
            if length > Self.maxMessageLength { decide(.notTLS) }
            return
        }
        // A ClientHello, and the end of the flight: nothing after it.
        guard message[0] == 1, message.count == 4 + length else { decide(.notTLS); return }
        decide(message.withUnsafeBytes { Self.readClientHello(UnsafeRawBufferPointer(rebasing: $0[4...])) })
    }

    private mutating func decide(_ decided: Verdict) {
        verdict = decided
        guard decided != .needMoreData else { return }
        phase = .decided
        message = []
        header = []
        otherBody = []
    }

    private static func hasPrefix(_ bytes: [UInt8], _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        return prefix.withUTF8Buffer { p in
            for i in 0..<count where bytes[i] != p[i] { return false }
            return true
        }
    }
}
