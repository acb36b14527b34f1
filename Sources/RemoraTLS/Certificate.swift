internal import COpenSSL

/// What Remora reads from an X.509 certificate.
public enum Certificate {
    static func subjectAltNames(_ certificate: OpaquePointer) -> SubjectAltNames {
        var result = SubjectAltNames()
        guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return result }
        let names = OpaquePointer(raw)
        defer { remora_general_names_free(names) }
        for i in 0..<remora_general_name_count(names) {
            guard let name = remora_general_name_at(names, i) else { continue }
            switch name.pointee.type {
            case GEN_URI: result.uris.append(string(name.pointee.d.uniformResourceIdentifier))
            case GEN_DNS: result.dnsNames.append(string(name.pointee.d.dNSName))
            case GEN_EMAIL: result.emails.append(string(name.pointee.d.rfc822Name))
            case GEN_IPADD:
                if let text = ipText(name.pointee.d.iPAddress) { result.ipAddresses.append(text) }
            case GEN_OTHERNAME: result.otherNames.append(otherName(name))
            default: break
            }
        }
        return result
    }

    /// An otherName SAN: its type OID (dotted) and value as Envoy prints it
    /// (`remora_othername_text`; empty for a value Envoy prints as nothing).
    private static func otherName(_ name: UnsafeMutablePointer<GENERAL_NAME>) -> SubjectAltNames.OtherName {
        var oid = [CChar](repeating: 0, count: 128)
        var length: Int32 = 0
        let text = remora_othername_text(name, &oid, Int32(oid.count), &length)
        defer { if let text { remora_openssl_free(text) } }
        let value = text.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: Int(length)), as: UTF8.self) } ?? ""
        return SubjectAltNames.OtherName(oid: String(cString: oid), value: value)
    }

    /// The dotted form of an OID given dotted or by a name OpenSSL knows
    /// (`msUPN`), as Envoy reads `SubjectAltNameMatcher.oid`; nil when it is neither.
    public static func dottedObjectIdentifier(_ text: String) -> String? {
        var out = [CChar](repeating: 0, count: 128)
        guard remora_oid_dotted(text, &out, Int32(out.count)) == 1 else { return nil }
        return String(cString: out)
    }

    private static func string(_ value: UnsafeMutablePointer<ASN1_STRING>?) -> String {
        guard let value, let data = ASN1_STRING_get0_data(value) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(value))), as: UTF8.self)
    }

    private static func ipText(_ value: UnsafeMutablePointer<ASN1_STRING>?) -> String? {
        guard let value, let data = ASN1_STRING_get0_data(value) else { return nil }
        let bytes = Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(value))))
        switch bytes.count {
        case 4: return bytes.map(String.init).joined(separator: ".")
        case 16:
            // RFC 5952 text, as Envoy prints it (inet_ntop).
            guard let parsed = RemoraAddressText.ipv6(bytes) else { return nil }
            return parsed
        default: return nil
        }
    }

    /// SHA-256 of the DER encoding (empty on failure).
    static func sha256Bytes(_ certificate: OpaquePointer) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1 else { return [] }
        return Array(digest[0..<Int(length)])
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo (`verify_certificate_spki`).
    static func spkiSHA256(_ certificate: OpaquePointer) -> [UInt8] {
        guard let key = X509_get_X509_PUBKEY(certificate) else { return [] }
        var der: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509_PUBKEY(key, &der)
        guard length > 0, let der else { return [] }
        defer { remora_openssl_free(der) }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var size: UInt32 = 0
        guard EVP_Digest(der, Int(length), &digest, &size, EVP_sha256(), nil) == 1 else { return [] }
        return Array(digest[0..<Int(size)])
    }

    /// SHA-256 of the DER encoding, lowercase hex (Envoy's `sha256PeerCertificateDigest`).
    static func sha256(_ certificate: OpaquePointer) -> String {
        sha256Bytes(certificate).withUnsafeBufferPointer { hex($0) }
    }

    /// SHA-256 of some bytes, lowercase hex.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard bytes.withUnsafeBytes({ EVP_Digest($0.baseAddress, $0.count, &digest, &length, EVP_sha256(), nil) }) == 1 else { return "" }
        return digest[0..<Int(length)].withUnsafeBufferPointer { hex($0) }
    }

    /// The certificate in PEM.
    static func pem(_ certificate: OpaquePointer) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard PEM_write_bio_X509(bio, certificate) == 1 else { return "" }
        var data: UnsafeMutablePointer<CChar>?
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data)
        guard length > 0, let data else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    /// The certificate's DER encoding.
    static func der(_ certificate: OpaquePointer) -> [UInt8] {
        let length = i2d_X509(certificate, nil)
        guard length > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        bytes.withUnsafeMutableBufferPointer { buffer in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            _ = i2d_X509(certificate, &cursor)
        }
        return bytes
    }

    /// A DER certificate parsed (the caller frees it); nil when it does not parse.
    static func parse(der: [UInt8]) -> OpaquePointer? {
        der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
    }

    /// The PEM of a DER certificate; nil when it does not parse.
    static func pem(der: [UInt8]) -> String? {
        guard let certificate = parse(der: der) else { return nil }
        defer { X509_free(certificate) }
        return pem(certificate)
    }

    /// The issuer in RFC 2253 form, as Envoy prints it.
    static func issuer(_ certificate: OpaquePointer) -> String {
        guard let name = X509_get_issuer_name(certificate) else { return "" }
        return rfc2253(name)
    }

    /// The serial number in lowercase hex without leading zeros (Envoy's `getSerialNumberFromCertificate`).
    static func serial(_ certificate: OpaquePointer) -> String {
        guard let serial = X509_get_serialNumber(certificate), let number = ASN1_INTEGER_to_BN(serial, nil) else { return "" }
        defer { BN_free(number) }
        guard let text = BN_bn2hex(number) else { return "" }
        defer { remora_openssl_free(text) }
        return String(cString: text).lowercased()
    }

    /// SHA-1 of the DER encoding, lowercase hex.
    static func sha1(_ certificate: OpaquePointer) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, EVP_sha1(), &digest, &length) == 1 else { return "" }
        return digest[0..<Int(length)].withUnsafeBufferPointer { hex($0) }
    }

    /// notBefore and notAfter, in seconds since the epoch.
    static func validity(_ certificate: OpaquePointer) -> (Int64, Int64) {
        func seconds(_ time: UnsafePointer<ASN1_TIME>?) -> Int64 {
            guard let time else { return 0 }
            var parts = tm()
            guard ASN1_TIME_to_tm(time, &parts) == 1 else { return 0 }
            return Int64(timegm(&parts))
        }
        return (seconds(X509_get0_notBefore(certificate)), seconds(X509_get0_notAfter(certificate)))
    }

    /// Lowercase hex.
    static func hex(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return text
    }

    /// The subject's first common name, if it has one.
    static func commonName(_ certificate: OpaquePointer) -> String? {
        guard let name = X509_get_subject_name(certificate) else { return nil }
        let index = X509_NAME_get_index_by_NID(name, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry) else { return nil }
        let length = Int(ASN1_STRING_length(data))
        guard length > 0, let bytes = ASN1_STRING_get0_data(data) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
    }

    /// The subject in RFC 2253 form (`CN=a,O=b`), as Envoy prints it.
    static func subject(_ certificate: OpaquePointer) -> String {
        guard let name = X509_get_subject_name(certificate) else { return "" }
        return rfc2253(name)
    }

    private static func rfc2253(_ name: OpaquePointer) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        _ = X509_NAME_print_ex(bio, name, 0, remora_xn_flag_rfc2253())
        var data: UnsafeMutablePointer<CChar>?
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data)
        guard length > 0, let data else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }
}

/// IPv6 text without libc: the longest run of zero groups becomes `::`.
enum RemoraAddressText {
    static func ipv6(_ bytes: [UInt8]) -> String? {
        guard bytes.count == 16 else { return nil }
        let groups = (0..<8).map { UInt16(bytes[$0 * 2]) << 8 | UInt16(bytes[$0 * 2 + 1]) }
        var bestStart = -1, bestLength = 0, start = -1
        for i in 0...8 {
            if i < 8 && groups[i] == 0 {
                if start < 0 { start = i }
            } else if start >= 0 {
                if i - start > bestLength && i - start > 1 { bestStart = start; bestLength = i - start }
                start = -1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestStart >= 0 else { return hex.joined(separator: ":") }
        return hex[..<bestStart].joined(separator: ":") + "::" + hex[(bestStart + bestLength)...].joined(separator: ":")
    }
}
