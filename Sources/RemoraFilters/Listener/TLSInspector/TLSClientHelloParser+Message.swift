/// The ClientHello body, judged as Envoy 1.40's TLS inspector judges it
/// over BoringSSL (`handshake_server.cc` `do_read_client_hello`): the
/// message must parse (`SSL_parse_client_hello`), an ECH extension must be
/// well-formed (`decrypt_ech`) and the SNI extension too (`extract_sni`);
/// then Envoy's select-certificate callback takes SNI and ALPN and stops the
/// handshake, so nothing later (version negotiation, compression, the
/// other extensions) is checked — except the legacy version, which must be
/// TLS 1.0 to 1.3 or Envoy closes the connection (all measured against the
/// real binary: Tests/Fuzz/EnvoyProbe/tls_inspector_probe.py).
extension TLSClientHelloParser {
    static let extServerName: UInt16 = 0
    static let extALPN: UInt16 = 16
    static let extECH: UInt16 = 0xFE0D
    static let legacyVersions: ClosedRange<UInt16> = 0x0301...0x0304

    /// A ClientHello message body (after the 4-byte handshake header).
    static func readClientHello(_ body: UnsafeRawBufferPointer) -> Verdict {
        // SSL_parse_client_hello
        var r = ByteReader(body)
        guard let legacyVersion = r.u16(), r.skip(32), let sessionID = r.u8Prefixed(), sessionID.count <= 32,
              let ciphers = r.u16Prefixed(), ciphers.count >= 2, ciphers.count % 2 == 0,
              let compression = r.u8Prefixed(), !compression.isEmpty else { return .notTLS }
        var extensions = UnsafeRawBufferPointer(start: nil, count: 0)
        if !r.isEmpty {
            guard let list = r.u16Prefixed(), r.isEmpty, let found = ExtensionList(list) else {
                return .notTLS
            }
            extensions = found.bytes
        }
        return judge(version: legacyVersion, extensions: extensions)
    }

    /// An SSLv2-framed ClientHello (from its message type on), which
    /// BoringSSL turns into a ClientHello with no session ID, no extensions
    /// and null compression, dropping SSLv2-only cipher specs.
    static func readV2ClientHello(_ bytes: [UInt8]) -> Verdict {
        bytes.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            guard r.u8() != nil, let version = r.u16(), let specLength = r.u16(), let sessionLength = r.u16(),
                  let challengeLength = r.u16(), let specs = r.bytes(Int(specLength)), r.skip(Int(sessionLength)),
                  r.skip(Int(challengeLength)), r.isEmpty, specs.count % 3 == 0 else { return .notTLS }
            // SSLv2-only cipher specs (a non-zero first byte) are dropped; one must remain.
            var s = ByteReader(specs)
            var hasTLSCipher = false
            while let spec = s.u24() {
                if spec & 0xFF0000 == 0 { hasTLSCipher = true }
            }
            guard hasTLSCipher else { return .notTLS }
            return judge(version: version, extensions: UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }

    /// From `decrypt_ech` to Envoy's callback.
    private static func judge(version legacyVersion: UInt16, extensions: UnsafeRawBufferPointer) -> Verdict {
        let list = ExtensionList(trusted: extensions)
        // decrypt_ech: Envoy has no ECH keys, but an outer extension must be well-formed.
        if let ech = list[extECH] {
            var r = ByteReader(ech)
            guard let kind = r.u8() else { return .notTLS }
            if kind == 0 {
                guard r.u16() != nil, r.u16() != nil, r.u8() != nil, r.u16Prefixed() != nil, r.u16Prefixed() != nil,
                      r.isEmpty else { return .notTLS }
            }
        }
        // extract_sni: exactly one host_name, 1...255 bytes, no NUL.
        var serverName: String?
        if let sni = list[extServerName] {
            var r = ByteReader(sni)
            guard let names = r.u16Prefixed(), r.isEmpty else { return .notTLS }
            var n = ByteReader(names)
            guard let type = n.u8(), let host = n.u16Prefixed(), n.isEmpty, type == 0, !host.isEmpty, host.count <= 255,
                  !host.contains(0) else { return .notTLS }
            serverName = requestedServerName(host)
        }
        guard legacyVersions.contains(legacyVersion) else { return .unsupportedVersion(serverName: serverName) }
        let protocols = list[extALPN].map(alpnProtocols) ?? []
        return .tls(ClientHello(serverName: serverName, applicationProtocols: protocols))
    }

    /// The SNI as Envoy 1.40 keeps it: lowercased, and when a byte is not a
    /// letter, digit, `.`, `-` or `_`, every such byte replaced by `_` behind
    /// an `invalid:` prefix (measured: `a b` → `invalid:a_b`, `*.b` →
    /// `invalid:_.b`, UTF-8 `ä` → two `_`). Such a name matches no
    /// `server_names` entry.
    static func requestedServerName(_ host: UnsafeRawBufferPointer) -> String {
        var plain = true
        let bytes = host.map { byte -> UInt8 in
            let lowered = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            if (lowered >= 0x61 && lowered <= 0x7A) || (lowered >= 0x30 && lowered <= 0x39) || lowered == UInt8(ascii: ".")
                || lowered == UInt8(ascii: "-") || lowered == UInt8(ascii: "_") {
                return lowered
            }
            plain = false
            return UInt8(ascii: "_")
        }
        return (plain ? "" : "invalid:") + String(decoding: bytes, as: UTF8.self)
    }

    /// Envoy's `onALPN`: a u16 list of non-empty u8 names; anything else is ignored.
    private static func alpnProtocols(_ data: UnsafeRawBufferPointer) -> [String] {
        var r = ByteReader(data)
        guard let list = r.u16Prefixed(), r.isEmpty, list.count >= 2 else { return [] }
        var names = ByteReader(list)
        var protocols: [String] = []
        while !names.isEmpty {
            guard let name = names.u8Prefixed(), !name.isEmpty else { return [] }
            protocols.append(String(decoding: name, as: UTF8.self))
        }
        return protocols
    }
}

/// A ClientHello's extensions, checked once for framing and duplicates
/// (BoringSSL's `tls1_check_duplicate_extensions`).
struct ExtensionList: Sequence {
    let bytes: UnsafeRawBufferPointer

    /// Nil when the list is malformed or names one type twice.
    init?(_ bytes: UnsafeRawBufferPointer) {
        var types = Set<UInt16>()
        var r = ByteReader(bytes)
        while !r.isEmpty {
            guard let type = r.u16(), r.u16Prefixed() != nil, types.insert(type).inserted else { return nil }
        }
        self.bytes = bytes
    }

    /// A list already checked.
    init(trusted bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    subscript(type: UInt16) -> UnsafeRawBufferPointer? {
        for (t, contents) in self where t == type { return contents }
        return nil
    }

    func makeIterator() -> Iterator { Iterator(reader: ByteReader(bytes)) }

    struct Iterator: IteratorProtocol {
        var reader: ByteReader
        mutating func next() -> (UInt16, UnsafeRawBufferPointer)? {
            guard let type = reader.u16(), let contents = reader.u16Prefixed() else { return nil }
            return (type, contents)
        }
    }
}

/// Big-endian reads over a byte buffer that fail instead of trapping (BoringSSL's CBS).
struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isEmpty: Bool { offset == bytes.count }

    mutating func u8() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() -> UInt16? {
        guard bytes.count - offset >= 2 else { return nil }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u24() -> UInt32? {
        guard bytes.count - offset >= 3 else { return nil }
        defer { offset += 3 }
        return UInt32(bytes[offset]) << 16 | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2])
    }

    mutating func bytes(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, bytes.count - offset >= count else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }

    mutating func skip(_ count: Int) -> Bool { bytes(count) != nil }

    mutating func u8Prefixed() -> UnsafeRawBufferPointer? {
        let start = offset
        guard let length = u8(), let body = bytes(Int(length)) else { offset = start; return nil }
        return body
    }

    mutating func u16Prefixed() -> UnsafeRawBufferPointer? {
        let start = offset
        guard let length = u16(), let body = bytes(Int(length)) else { offset = start; return nil }
        return body
    }
}
