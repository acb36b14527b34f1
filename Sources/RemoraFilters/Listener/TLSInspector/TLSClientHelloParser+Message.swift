/// The ClientHello body, judged as BoringSSL judges it in Envoy 1.40's TLS
/// inspector, step by step up to the SNI callback (`handshake_server.cc`
/// `do_read_client_hello` and `do_read_client_hello_after_ech`,
/// `extensions.cc`): what fails before that callback is "not TLS".
extension TLSClientHelloParser {
    // Extension code points (RFC 8446 §4.2 and BoringSSL's tls1.h).
    static let extServerName: UInt16 = 0
    static let extStatusRequest: UInt16 = 5
    static let extSupportedGroups: UInt16 = 10
    static let extECPointFormats: UInt16 = 11
    static let extSignatureAlgorithms: UInt16 = 13
    static let extSRTP: UInt16 = 14
    static let extALPN: UInt16 = 16
    static let extCertificateTimestamp: UInt16 = 18
    static let extExtendedMasterSecret: UInt16 = 23
    static let extCertCompression: UInt16 = 27
    static let extDelegatedCredential: UInt16 = 34
    static let extEarlyData: UInt16 = 42
    static let extSupportedVersions: UInt16 = 43
    static let extPSKKeyExchangeModes: UInt16 = 45
    static let extCertificateAuthorities: UInt16 = 47
    static let extQUICTransportParameters: UInt16 = 57
    static let extServerPadding: UInt16 = 4832
    static let extNextProtoNeg: UInt16 = 13172
    static let extPAKE: UInt16 = 0x8A3B
    static let extTrustAnchors: UInt16 = 0xCA34
    static let extECH: UInt16 = 0xFE0D
    static let extRenegotiationInfo: UInt16 = 0xFF01

    static let tls10: UInt16 = 0x0301
    static let tls12: UInt16 = 0x0303
    static let tls13: UInt16 = 0x0304
    /// What Envoy's inspector context allows, in BoringSSL's preference order.
    static let serverVersions: [UInt16] = [0x0304, 0x0303, 0x0302, 0x0301]
    static let fallbackSCSV: UInt16 = 0x5600

    /// A ClientHello message body (after the 4-byte handshake header).
    static func readClientHello(_ body: UnsafeRawBufferPointer) -> Verdict {
        // SSL_parse_client_hello
        var r = ByteReader(body)
        guard let legacyVersion = r.u16(), r.skip(32), let sessionID = r.u8Prefixed(), sessionID.count <= 32,
              let ciphers = r.u16Prefixed(), ciphers.count >= 2, ciphers.count % 2 == 0,
              let compression = r.u8Prefixed(), compression.count >= 1 else { return .notTLS(applicationProtocols: []) }
        var extensions = UnsafeRawBufferPointer(start: nil, count: 0)
        if !r.isEmpty {
            guard let list = r.u16Prefixed(), r.isEmpty, let found = ExtensionList(list) else {
                return .notTLS(applicationProtocols: [])
            }
            extensions = found.bytes
        }
        return judge(version: legacyVersion, ciphers: ciphers, compression: compression, extensions: extensions)
    }

    /// An SSLv2-framed ClientHello (from its message type on), which
    /// BoringSSL turns into a ClientHello with no session ID, no extensions
    /// and null compression, dropping SSLv2-only cipher specs.
    static func readV2ClientHello(_ bytes: [UInt8]) -> Verdict {
        bytes.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            guard r.u8() != nil, let version = r.u16(), let specLength = r.u16(), let sessionLength = r.u16(),
                  let challengeLength = r.u16(), let specs = r.bytes(Int(specLength)), r.skip(Int(sessionLength)),
                  r.skip(Int(challengeLength)), r.isEmpty, specs.count % 3 == 0 else { return .notTLS(applicationProtocols: []) }
            // SSLv2-only cipher specs (a non-zero first byte) are dropped.
            var ciphers: [UInt8] = []
            var s = ByteReader(specs)
            while let spec = s.u24() {
                if spec & 0xFF0000 != 0 { continue }
                ciphers.append(UInt8(truncatingIfNeeded: spec >> 8))
                ciphers.append(UInt8(truncatingIfNeeded: spec))
            }
            guard ciphers.count >= 2 else { return .notTLS(applicationProtocols: []) }
            let compression: [UInt8] = [0]
            return ciphers.withUnsafeBytes { c in
                compression.withUnsafeBytes { z in
                    judge(version: version, ciphers: c, compression: z, extensions: UnsafeRawBufferPointer(start: nil, count: 0))
                }
            }
        }
    }

    /// From `extract_sni` to the SNI callback.
    private static func judge(version legacyVersion: UInt16, ciphers: UnsafeRawBufferPointer, compression: UnsafeRawBufferPointer,
                              extensions: UnsafeRawBufferPointer) -> Verdict {
        let list = ExtensionList(trusted: extensions)
        // decrypt_ech: Envoy has no ECH keys, but an outer extension must be well-formed.
        if let ech = list[extECH] {
            var r = ByteReader(ech)
            guard let kind = r.u8() else { return .notTLS(applicationProtocols: []) }
            if kind == 0 {
                guard r.u16() != nil, r.u16() != nil, r.u8() != nil, r.u16Prefixed() != nil, r.u16Prefixed() != nil,
                      r.isEmpty else { return .notTLS(applicationProtocols: []) }
            }
        }
        // extract_sni: exactly one host_name, 1...255 bytes, no NUL.
        var serverName: String?
        if let sni = list[extServerName] {
            var r = ByteReader(sni)
            guard let names = r.u16Prefixed(), r.isEmpty else { return .notTLS(applicationProtocols: []) }
            var n = ByteReader(names)
            guard let type = n.u8(), let host = n.u16Prefixed(), n.isEmpty, type == 0, !host.isEmpty, host.count <= 255,
                  !host.contains(0) else { return .notTLS(applicationProtocols: []) }
            serverName = String(decoding: host, as: UTF8.self)
        }
        // The select-certificate callback: Envoy takes the ALPN list here,
        // so it stays on the connection even when a later check fails.
        let protocols = list[extALPN].map(alpnProtocols) ?? []
        let failed = Verdict.notTLS(applicationProtocols: protocols)

        guard let version = negotiateVersion(legacyVersion, list: list) else { return failed }
        if version < tls13 && containsCipher(ciphers, fallbackSCSV) { return failed }
        guard compression.contains(0), version < tls13 || compression.count == 1 else { return failed }
        for (type, contents) in list where !extensionParses(type, contents, version: version) { return failed }
        return .tls(ClientHello(serverName: serverName, applicationProtocols: protocols))
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

    /// `negotiate_version`: supported_versions, else the legacy version.
    private static func negotiateVersion(_ legacyVersion: UInt16, list: ExtensionList) -> UInt16? {
        var offered: [UInt8]
        if let ext = list[extSupportedVersions] {
            var r = ByteReader(ext)
            guard let versions = r.u8Prefixed(), r.isEmpty, !versions.isEmpty else { return nil }
            offered = Array(versions)
        } else if legacyVersion >= tls12 {
            offered = [3, 3, 3, 2, 3, 1]
        } else if legacyVersion >= 0x0302 {
            offered = [3, 2, 3, 1]
        } else if legacyVersion >= tls10 {
            offered = [3, 1]
        } else {
            return nil
        }
        for version in serverVersions {
            var i = 0
            while i < offered.count {
                // An odd list fails where the scan reaches its last byte.
                guard i + 1 < offered.count else { return nil }
                if UInt16(offered[i]) << 8 | UInt16(offered[i + 1]) == version { return version }
                i += 2
            }
        }
        return nil
    }

    private static func containsCipher(_ ciphers: UnsafeRawBufferPointer, _ cipher: UInt16) -> Bool {
        var r = ByteReader(ciphers)
        while let id = r.u16() {
            if id == cipher { return true }
        }
        return false
    }

    /// Each extension's `parse_clienthello` in BoringSSL, for the ones that
    /// can fail on a TLS (not DTLS, not QUIC) server with Envoy's inspector
    /// context; the rest are ignored there, as unknown code points are.
    private static func extensionParses(_ type: UInt16, _ data: UnsafeRawBufferPointer, version: UInt16) -> Bool {
        var r = ByteReader(data)
        let tls13OrLater = version >= tls13
        switch type {
        case extECH:
            // Outer (0) is handled elsewhere; inner (1) must be empty.
            guard let kind = r.u8() else { return false }
            return kind == 0 || (kind == 1 && r.isEmpty)
        case extExtendedMasterSecret, extNextProtoNeg:
            return tls13OrLater || r.isEmpty
        case extCertificateTimestamp:
            return r.isEmpty
        case extRenegotiationInfo:
            if tls13OrLater { return true }
            guard let renegotiated = r.u8Prefixed(), r.isEmpty else { return false }
            return renegotiated.isEmpty
        case extSupportedGroups:
            guard let groups = r.u16Prefixed(), !groups.isEmpty, r.isEmpty else { return false }
            return groups.count % 2 == 0
        case extECPointFormats:
            if tls13OrLater { return true }
            guard let formats = r.u8Prefixed(), r.isEmpty else { return false }
            return formats.contains(0)
        case extStatusRequest:
            return r.u8() != nil
        case extSignatureAlgorithms:
            guard let algorithms = r.u16Prefixed(), r.isEmpty else { return false }
            return version < tls12 || (!algorithms.isEmpty && algorithms.count % 2 == 0)
        case extPSKKeyExchangeModes:
            guard let modes = r.u8Prefixed(), !modes.isEmpty, r.isEmpty else { return false }
            return true
        case extEarlyData:
            return !tls13OrLater || r.isEmpty
        case extQUICTransportParameters:
            // The RFC 9000 code point on a TCP connection.
            return false
        case extCertCompression:
            guard let ids = r.u8Prefixed(), r.isEmpty, !ids.isEmpty, ids.count % 2 == 0 else { return false }
            var seen = Set<UInt16>()
            var i = ByteReader(ids)
            while let id = i.u16() {
                if !seen.insert(id).inserted { return false }
            }
            return true
        case extDelegatedCredential:
            if !tls13OrLater { return true }
            guard let algorithms = r.u16Prefixed(), !algorithms.isEmpty, r.isEmpty else { return false }
            return algorithms.count % 2 == 0
        case extCertificateAuthorities:
            // A non-empty list of non-empty DER names, nothing after it.
            guard let names = r.u16Prefixed(), r.isEmpty, !names.isEmpty else { return false }
            var n = ByteReader(names)
            while !n.isEmpty {
                guard let name = n.u16Prefixed(), !name.isEmpty else { return false }
            }
            return true
        case extPAKE:
            guard r.u16Prefixed() != nil, r.u16Prefixed() != nil, let shares = r.u16Prefixed(), r.isEmpty else { return false }
            var s = ByteReader(shares)
            var last: UInt16?
            while !s.isEmpty {
                guard let id = s.u16(), s.u16Prefixed() != nil else { return false }
                if let last, last >= id { return false }
                last = id
            }
            return true
        case extTrustAnchors:
            if !tls13OrLater { return true }
            guard let anchors = r.u16Prefixed(), r.isEmpty else { return false }
            var a = ByteReader(anchors)
            while !a.isEmpty {
                guard let id = a.u8Prefixed(), !id.isEmpty else { return false }
            }
            return true
        case extServerPadding:
            if !tls13OrLater { return true }
            return r.u16() != nil && r.isEmpty
        default:
            return true
        }
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
