internal import COpenSSL

/// TLS 1.3's record protection (RFC 8446 §5.2, §7.3, §4.6.3) for a server
/// session once OpenSSL has finished its handshake: the application traffic
/// keys, their sequence numbers, and nothing else. OpenSSL 3.0 keeps ~13 KB
/// per session until `SSL_free` (its `SSL` object with 32 inline pipeline
/// slots, two cipher contexts, the session, key shares, transcript state);
/// after `TLSEngine.detachRecordLayer` the session is this value, ~200
/// bytes, and the `SSL` is gone. The ciphers are the worker's
/// (`TLSRecordCiphers`), re-keyed for each record.
///
/// Reads decrypt in place in the engine's input and hand the plaintext out;
/// writes seal into the engine's output. Post-handshake messages: KeyUpdate
/// (answered when the peer asks), alerts (close_notify ends the session);
/// anything else ends it with the alert RFC 8446 names. Socket-free.
struct TLS13RecordLayer {
    enum Suite: UInt16 {
        case aes128GCM = 0x1301
        case aes256GCM = 0x1302
        case chacha20Poly1305 = 0x1303

        var keyLength: Int { self == .aes128GCM ? 16 : 32 }
        /// OpenSSL's (and the IANA) name.
        var name: String {
            switch self {
            case .aes128GCM: "TLS_AES_128_GCM_SHA256"
            case .aes256GCM: "TLS_AES_256_GCM_SHA384"
            case .chacha20Poly1305: "TLS_CHACHA20_POLY1305_SHA256"
            }
        }
        var hashLength: Int { self == .aes256GCM ? 48 : 32 }
    }

    /// Why the session ended: the alert we sent or received and the
    /// OpenSSL reason that names it in Envoy's failure text.
    struct Failure: Error {
        let reason: Int32
    }

    enum ReadResult {
        case bytes(Int)
        case wantMore
        case closed
        case failed(Failure)
    }

    let suite: Suite
    let ciphers: TLSRecordCiphers
    /// Per direction (read, then write): secret (≤ 48), key (≤ 32), IV (12).
    private var material: [UInt8]
    private var readSequence: UInt64 = 0
    private var writeSequence: UInt64 = 0
    /// The decrypted record being handed out: where its plaintext is in the
    /// input, how much is left, and the record's whole length to consume.
    private var plaintextOffset = 0
    private var plaintextLeft = 0
    private var recordLength = 0
    /// A post-handshake message that began in an earlier record (≤ 5 bytes:
    /// a KeyUpdate is the only one a server accepts).
    private var handshakeBytes: [UInt8] = []
    /// The plaintext length of the alert or handshake record being handled.
    private var controlLength = 0
    private var sentClose = false

    private static let stride = 48 + 32 + 12
    static let maximumPlaintext = 16384
    /// Encrypted records of one key before we update ours (AES-GCM's limit is 2^24.5).
    static let recordsPerKey: UInt64 = 1 << 24

    /// Keys from the traffic secrets, sequence numbers at zero.
    init(suite: Suite, ciphers: TLSRecordCiphers, readSecret: [UInt8], writeSecret: [UInt8]) {
        self.suite = suite
        self.ciphers = ciphers
        material = [UInt8](repeating: 0, count: 2 * Self.stride)
        install(readSecret, direction: 0)
        install(writeSecret, direction: 1)
    }

    /// Derives a direction's key and IV from its secret (RFC 8446 §7.3).
    private mutating func install(_ secret: [UInt8], direction: Int) {
        let base = direction * Self.stride
        let suite = suite
        material.withUnsafeMutableBytes { bytes in
            let out = bytes.baseAddress! + base
            secret.withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: suite.hashLength) }
            let stored = UnsafeRawBufferPointer(start: out, count: suite.hashLength)
            TLSRecordCiphers.expandLabel(stored, "key", suite: suite, into: UnsafeMutableRawBufferPointer(start: out + 48, count: suite.keyLength))
            TLSRecordCiphers.expandLabel(stored, "iv", suite: suite, into: UnsafeMutableRawBufferPointer(start: out + 80, count: 12))
        }
    }

    /// The next secret of a direction, after a KeyUpdate.
    private mutating func update(direction: Int) {
        let base = direction * Self.stride
        let suite = suite
        var next = [UInt8](repeating: 0, count: suite.hashLength)
        defer { next.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) } }
        material.withUnsafeBytes { bytes in
            next.withUnsafeMutableBytes { out in
                TLSRecordCiphers.expandLabel(UnsafeRawBufferPointer(rebasing: bytes[base..<base + suite.hashLength]), "traffic upd",
                                             suite: suite, into: out)
            }
        }
        install(next, direction: direction)
        if direction == 0 { readSequence = 0 } else { writeSequence = 0 }
    }

    /// Wipes the keys (the session is over).
    mutating func wipe() {
        material.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
    }

    // MARK: Reading

    /// Decrypts the next plaintext into `buffer`; call until `.wantMore`.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer, wire: inout EngineBIO) -> ReadResult {
        while true {
            if plaintextLeft > 0 {
                let count = min(plaintextLeft, buffer.count)
                let offset = plaintextOffset
                wire.withInput { input in
                    buffer.baseAddress!.copyMemory(from: UnsafeRawPointer(input.baseAddress! + offset), byteCount: count)
                }
                plaintextOffset += count
                plaintextLeft -= count
                if plaintextLeft == 0 { wire.consumeInput(recordLength) }
                return .bytes(count)
            }
            switch openRecord(wire: &wire) {
            case .none:
                return .wantMore
            case .some(.failure(let failure)):
                return .failed(failure)
            case .some(.success(let type)):
                switch type {
                case 23:
                    // Application data: handed out from the loop's top (an empty record is skipped).
                    if plaintextLeft == 0 { wire.consumeInput(recordLength) }
                case 21:
                    if let result = alertReceived(wire: &wire) { return result }
                case 22:
                    if let failure = handshakeReceived(wire: &wire) { return .failed(failure) }
                default:
                    return .failed(fail(SSL_AD_UNEXPECTED_MESSAGE, reason: SSL_R_UNEXPECTED_RECORD, wire: &wire))
                }
            }
        }
    }

    /// Opens the record at the front of the input in place: its inner
    /// content type, its plaintext at `plaintextOffset` (`plaintextLeft`
    /// bytes); nil while the record is incomplete.
    private mutating func openRecord(wire: inout EngineBIO) -> Result<UInt8, Failure>? {
        guard wire.inputCount >= 5 else { return nil }
        let (type, length) = wire.withInput { input in (input[0], Int(input[3]) << 8 | Int(input[4])) }
        // After the handshake every record is protected (outer type application_data).
        guard type == 23 else { return .failure(fail(SSL_AD_UNEXPECTED_MESSAGE, reason: SSL_R_UNEXPECTED_RECORD, wire: &wire)) }
        guard length <= Self.maximumPlaintext + 256, length >= 17 else {
            return .failure(fail(SSL_AD_RECORD_OVERFLOW, reason: SSL_R_ENCRYPTED_LENGTH_TOO_LONG, wire: &wire))
        }
        guard wire.inputCount >= 5 + length else { return nil }
        let sequence = readSequence
        let suite = suite
        let ciphers = ciphers
        let opened: Int? = material.withUnsafeBytes { keys in
            wire.withInput { input in
                ciphers.open(suite, key: keys.baseAddress! + 48, iv: keys.baseAddress! + 80, sequence: sequence,
                             record: UnsafeMutableRawBufferPointer(rebasing: input[0..<5 + length]))
            }
        }
        guard let sealed = opened else {
            return .failure(fail(SSL_AD_BAD_RECORD_MAC, reason: SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC, wire: &wire))
        }
        readSequence += 1
        // The inner plaintext ends with its content type, then zero padding.
        let inner: (type: UInt8, count: Int)? = wire.withInput { input in
            var end = 5 + sealed
            while end > 5 && input[end - 1] == 0 { end -= 1 }
            return end > 5 ? (input[end - 1], end - 6) : nil
        }
        guard let inner else { return .failure(fail(SSL_AD_UNEXPECTED_MESSAGE, reason: SSL_R_BAD_RECORD_TYPE, wire: &wire)) }
        guard inner.count <= Self.maximumPlaintext else {
            return .failure(fail(SSL_AD_RECORD_OVERFLOW, reason: SSL_R_DATA_LENGTH_TOO_LONG, wire: &wire))
        }
        // A handshake message split over records admits nothing else between its parts.
        guard handshakeBytes.isEmpty || inner.type == 22 else {
            return .failure(fail(SSL_AD_UNEXPECTED_MESSAGE, reason: SSL_R_UNEXPECTED_RECORD, wire: &wire))
        }
        plaintextOffset = 5
        recordLength = 5 + length
        if inner.type == 23 {
            plaintextLeft = inner.count
        } else {
            controlLength = inner.count
        }
        return .success(inner.type)
    }

    private mutating func alertReceived(wire: inout EngineBIO) -> ReadResult? {
        guard controlLength == 2 else { return .failed(fail(SSL_AD_DECODE_ERROR, reason: SSL_R_BAD_LENGTH, wire: &wire)) }
        let description = wire.withInput { Int32($0[6]) }
        wire.consumeInput(recordLength)
        switch description {
        case SSL_AD_CLOSE_NOTIFY:
            return .closed
        case SSL_AD_USER_CANCELLED:
            // A warning that announces the close_notify to come.
            return nil
        default:
            return .failed(Failure(reason: SSL_AD_REASON_OFFSET + description))
        }
    }

    private mutating func handshakeReceived(wire: inout EngineBIO) -> Failure? {
        let count = controlLength
        wire.withInput { input in handshakeBytes += input[5..<5 + count] }
        wire.consumeInput(recordLength)
        guard handshakeBytes.count >= 4 else { return nil }
        // Type 24 is KeyUpdate (one byte long); a server accepts no other message.
        guard handshakeBytes[0] == 24 else {
            return fail(SSL_AD_UNEXPECTED_MESSAGE, reason: SSL_R_UNEXPECTED_MESSAGE, wire: &wire)
        }
        guard handshakeBytes[1] == 0, handshakeBytes[2] == 0, handshakeBytes[3] == 1 else {
            return fail(SSL_AD_DECODE_ERROR, reason: SSL_R_BAD_LENGTH, wire: &wire)
        }
        guard handshakeBytes.count >= 5 else { return nil }
        // A KeyUpdate changes keys: it must end its record.
        guard handshakeBytes.count == 5 else {
            return fail(SSL_AD_UNEXPECTED_MESSAGE, reason: SSL_R_NOT_ON_RECORD_BOUNDARY, wire: &wire)
        }
        let requested = handshakeBytes[4]
        handshakeBytes = []
        guard requested <= 1 else { return fail(SSL_AD_ILLEGAL_PARAMETER, reason: SSL_R_BAD_KEY_UPDATE, wire: &wire) }
        update(direction: 0)
        if requested == 1 && !sentClose { sendKeyUpdate(wire: &wire) }
        return nil
    }

    /// Takes over the records OpenSSL already sent under the write key
    /// (whole records, oldest first): counts them, and checks the count by
    /// opening the last one. False when they do not parse or open.
    mutating func adoptSent(_ sent: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        var count: UInt64 = 0
        var last = 0..<0
        while offset < sent.count {
            guard sent.count - offset >= 5, sent[offset] == 23 else { return false }
            let length = Int(sent[offset + 3]) << 8 | Int(sent[offset + 4])
            guard length >= 17, sent.count - offset >= 5 + length else { return false }
            last = offset..<offset + 5 + length
            offset += 5 + length
            count += 1
        }
        guard count > 0 else { return true }
        var copy = [UInt8](sent[last])
        let suite = suite
        let ciphers = ciphers
        let opened = material.withUnsafeBytes { keys in
            copy.withUnsafeMutableBytes { record in
                ciphers.open(suite, key: keys.baseAddress! + Self.stride + 48, iv: keys.baseAddress! + Self.stride + 80,
                             sequence: count - 1, record: record)
            }
        }
        guard opened != nil else { return false }
        writeSequence = count
        return true
    }

    // MARK: Writing

    /// Seals `bytes` into records of at most 16 KiB in the output; false
    /// after close_notify (or a fatal alert) was sent.
    mutating func write(_ bytes: UnsafeRawBufferPointer, wire: inout EngineBIO) -> Bool {
        guard !sentClose else { return false }
        var offset = 0
        while offset < bytes.count {
            let count = min(Self.maximumPlaintext, bytes.count - offset)
            seal(type: 23, UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]), wire: &wire)
            offset += count
        }
        return true
    }

    /// Queues close_notify; nothing is sent after it.
    mutating func close(wire: inout EngineBIO) {
        guard !sentClose else { return }
        sendAlert(SSL_AD_CLOSE_NOTIFY, level: 1, wire: &wire)
        sentClose = true
    }

    private mutating func sendKeyUpdate(wire: inout EngineBIO) {
        // update_not_requested, under the current key; the next records use the new one.
        let message: [UInt8] = [24, 0, 0, 1, 0]
        message.withUnsafeBytes { seal(type: 22, $0, wire: &wire) }
        update(direction: 1)
    }

    private mutating func sendAlert(_ description: Int32, level: UInt8, wire: inout EngineBIO) {
        let alert: [UInt8] = [level, UInt8(description)]
        alert.withUnsafeBytes { seal(type: 21, $0, wire: &wire) }
    }

    /// Sends a fatal alert and names the failure.
    private mutating func fail(_ alert: Int32, reason: Int32, wire: inout EngineBIO) -> Failure {
        if !sentClose {
            sendAlert(alert, level: 2, wire: &wire)
            sentClose = true
        }
        return Failure(reason: reason)
    }

    private mutating func seal(type: UInt8, _ plaintext: UnsafeRawBufferPointer, wire: inout EngineBIO) {
        if type == 23 && writeSequence >= Self.recordsPerKey { sendKeyUpdate(wire: &wire) }
        wire.appendOutput(count: plaintext.count + Self.overhead) { record in seal(type: type, plaintext, into: record) }
    }

    /// A record's bytes beyond its plaintext: header, content type, tag.
    static let overhead = 5 + 1 + 16

    /// Seals application data (at most 16 KiB) as one record straight into
    /// `record` (`bytes.count + overhead` bytes); false, writing nothing,
    /// when the session has sent close_notify or its key is due an update
    /// (`write` does both in order).
    mutating func sealApplicationData(_ bytes: UnsafeRawBufferPointer, into record: UnsafeMutableRawBufferPointer) -> Bool {
        guard !sentClose, writeSequence < Self.recordsPerKey, bytes.count <= Self.maximumPlaintext else { return false }
        seal(type: 23, bytes, into: record)
        return true
    }

    private mutating func seal(type: UInt8, _ plaintext: UnsafeRawBufferPointer, into record: UnsafeMutableRawBufferPointer) {
        let sealedLength = plaintext.count + 1 + 16
        record[0] = 23
        record[1] = 3
        record[2] = 3
        record[3] = UInt8(sealedLength >> 8)
        record[4] = UInt8(sealedLength & 0xff)
        if plaintext.count > 0 { (record.baseAddress! + 5).copyMemory(from: plaintext.baseAddress!, byteCount: plaintext.count) }
        record[5 + plaintext.count] = type
        let sequence = writeSequence
        let suite = suite
        let ciphers = ciphers
        material.withUnsafeBytes { keys in
            ciphers.seal(suite, key: keys.baseAddress! + Self.stride + 48, iv: keys.baseAddress! + Self.stride + 80,
                         sequence: sequence, record: UnsafeMutableRawBufferPointer(rebasing: record[0..<5 + sealedLength]))
        }
        writeSequence += 1
    }
}

/// One worker's AEAD contexts for TLS 1.3 records, one per suite, re-keyed
/// for each record (a context per session would cost ~1 KB each way). On
/// the worker's loop.
public final class TLSRecordCiphers {
    private var contexts: [OpaquePointer?] = [nil, nil, nil]

    public init() {}

    deinit {
        for case let context? in contexts { EVP_CIPHER_CTX_free(context) }
    }

    private nonisolated(unsafe) static let algorithms: [OpaquePointer?] = [
        EVP_CIPHER_fetch(nil, "AES-128-GCM", nil), EVP_CIPHER_fetch(nil, "AES-256-GCM", nil),
        EVP_CIPHER_fetch(nil, "ChaCha20-Poly1305", nil),
    ]
    private nonisolated(unsafe) static let sha256 = EVP_MD_fetch(nil, "SHA256", nil)
    private nonisolated(unsafe) static let sha384 = EVP_MD_fetch(nil, "SHA384", nil)

    private static func index(_ suite: TLS13RecordLayer.Suite) -> Int {
        switch suite {
        case .aes128GCM: 0
        case .aes256GCM: 1
        case .chacha20Poly1305: 2
        }
    }

    private func context(_ suite: TLS13RecordLayer.Suite) -> OpaquePointer {
        let index = Self.index(suite)
        if let context = contexts[index] { return context }
        let context = EVP_CIPHER_CTX_new()!
        _ = EVP_CipherInit_ex2(context, Self.algorithms[index], nil, nil, 1, nil)
        contexts[index] = context
        return context
    }

    /// The record's nonce: the IV with the sequence number XORed into its tail.
    private static func withNonce<R>(_ iv: UnsafeRawPointer, _ sequence: UInt64, _ body: (UnsafePointer<UInt8>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 12) { nonce in
            nonce.baseAddress!.initialize(from: iv.assumingMemoryBound(to: UInt8.self), count: 12)
            for i in 0..<8 { nonce[4 + i] ^= UInt8(truncatingIfNeeded: sequence >> (56 - 8 * UInt64(i))) }
            return body(UnsafePointer(nonce.baseAddress!))
        }
    }

    /// Seals a record in place: its 5-byte header (the additional data), the
    /// inner plaintext, and 16 bytes for the tag at the end.
    func seal(_ suite: TLS13RecordLayer.Suite, key: UnsafeRawPointer, iv: UnsafeRawPointer, sequence: UInt64,
              record: UnsafeMutableRawBufferPointer) {
        // Sealing with a valid key and context cannot fail short of memory exhaustion.
        precondition(crypt(suite, key: key, iv: iv, sequence: sequence, record: record, encrypt: true),
                     "TLS 1.3 record sealing failed")
    }

    /// Opens a whole record in place; the length of its inner plaintext
    /// (content type and padding included), or nil when it does not authenticate.
    func open(_ suite: TLS13RecordLayer.Suite, key: UnsafeRawPointer, iv: UnsafeRawPointer, sequence: UInt64,
              record: UnsafeMutableRawBufferPointer) -> Int? {
        guard crypt(suite, key: key, iv: iv, sequence: sequence, record: record, encrypt: false) else {
            ERR_clear_error()
            return nil
        }
        return record.count - 5 - 16
    }

    /// One AEAD pass over a record in place: the header authenticated, the
    /// body between it and the 16-byte tag encrypted (tag written) or
    /// decrypted (tag checked).
    private func crypt(_ suite: TLS13RecordLayer.Suite, key: UnsafeRawPointer, iv: UnsafeRawPointer, sequence: UInt64,
                       record: UnsafeMutableRawBufferPointer, encrypt: Bool) -> Bool {
        let context = context(suite)
        let header = record.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let body = header + 5
        let count = Int32(record.count - 5 - 16)
        let tag = body + Int(count)
        var written: Int32 = 0
        return Self.withNonce(iv, sequence) { nonce in
            EVP_CipherInit_ex2(context, nil, key.assumingMemoryBound(to: UInt8.self), nonce, encrypt ? 1 : 0, nil) == 1
                && EVP_CipherUpdate(context, nil, &written, header, 5) == 1
                && EVP_CipherUpdate(context, body, &written, body, count) == 1
                && (encrypt || EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1)
                && EVP_CipherFinal_ex(context, tag, &written) == 1
                && (!encrypt || EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1)
        }
    }

    /// HKDF-Expand-Label(secret, label, "", out.count) (RFC 8446 §7.1), for
    /// outputs no longer than the hash: one HMAC.
    static func expandLabel(_ secret: UnsafeRawBufferPointer, _ label: StaticString, suite: TLS13RecordLayer.Suite,
                            into out: UnsafeMutableRawBufferPointer) {
        let labelLength = 6 + label.utf8CodeUnitCount
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4 + labelLength + 1) { info in
            info[0] = UInt8(out.count >> 8)
            info[1] = UInt8(out.count & 0xff)
            info[2] = UInt8(labelLength)
            for (i, byte) in "tls13 ".utf8.enumerated() { info[3 + i] = byte }
            for i in 0..<label.utf8CodeUnitCount { info[9 + i] = label.utf8Start[i] }
            info[3 + labelLength] = 0  // empty context
            info[4 + labelLength] = 1  // HKDF-Expand's first block counter
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Int(EVP_MAX_MD_SIZE)) { mac in
                var length: UInt32 = 0
                _ = HMAC(suite.hashLength == 48 ? sha384 : sha256, secret.baseAddress, Int32(secret.count),
                         info.baseAddress, info.count, mac.baseAddress, &length)
                out.baseAddress!.copyMemory(from: mac.baseAddress!, byteCount: out.count)
                OPENSSL_cleanse(mac.baseAddress, mac.count)
            }
        }
    }
}
