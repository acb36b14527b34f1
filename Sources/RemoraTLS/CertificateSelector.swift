internal import COpenSSL

/// A server context's certificates when it has several: which one a
/// connection gets, decided at the ClientHello as Envoy 1.40's
/// `DefaultTlsCertificateSelector` decides. Names come from each
/// certificate's DNS SANs (or its CN when it has no SAN); the SNI is matched
/// exactly, then as a `*.` wildcard; among the certificates of a name an
/// ECDSA one the client can use wins, an RSA one is the fall-back. No SNI,
/// or none that matches: the first certificate (Envoy's default without
/// `full_scan_certs_on_sni_mismatch`), or with no SNI the first the
/// client's key types allow.
///
/// Built once with the context generation, read-only after, shared by the
/// workers' sessions.
final class CertificateSelector {
    struct Entry {
        let leaf: OpaquePointer
        let chain: [OpaquePointer]
        let key: OpaquePointer
        /// The EC curve NID of an ECDSA key; 0 for RSA and others.
        let curve: Int32
    }

    let entries: [Entry]
    /// Name pattern (`www.example.com`, `.example.com` for `*.example.com`)
    /// → entry indices in order of appearance, at most one per key type.
    private var byName: [String: [Int]] = [:]
    private var hasRSA = false

    /// Parses every certificate; throws naming the entry that does not load.
    init(_ certificates: [CertificatePEM]) throws(TLSConfigError) {
        var entries: [Entry] = []
        for (i, pem) in certificates.enumerated() {
            let field = "common_tls_context.tls_certificates[\(i)]"
            let chain = PEM.certificates(pem.chain)
            guard let leaf = chain.first else {
                for entry in entries { Self.free(entry) }
                throw TLSConfigError("Failed to load certificate chain: no certificate found", field: field + ".certificate_chain")
            }
            guard let key = PEM.privateKey(pem.key, password: pem.password), X509_check_private_key(leaf, key) == 1 else {
                for c in chain { X509_free(c) }
                for entry in entries { Self.free(entry) }
                throw TLSConfigError("Failed to load private key: the key does not match the certificate \(TLSErrors.drain())",
                                     field: field + ".private_key")
            }
            entries.append(Entry(leaf: leaf, chain: Array(chain.dropFirst()), key: key, curve: remora_ec_key_curve(key)))
        }
        self.entries = entries
        for (index, entry) in entries.enumerated() {
            let keyType = EVP_PKEY_get_base_id(entry.key)
            hasRSA = hasRSA || keyType == EVP_PKEY_RSA
            let dns = Certificate.subjectAltNames(entry.leaf).dnsNames
            let names = dns.isEmpty ? Certificate.commonName(entry.leaf).map { [$0] } ?? [] : dns
            for name in names {
                let pattern = name.hasPrefix("*.") ? String(name.dropFirst()) : name
                var list = byName[pattern, default: []]
                // Duplicate names: the earlier certificate of a key type keeps them.
                if list.contains(where: { EVP_PKEY_get_base_id(entries[$0].key) == keyType }) { continue }
                list.append(index)
                byName[pattern] = list
            }
        }
    }

    deinit {
        for entry in entries { Self.free(entry) }
    }

    private static func free(_ entry: Entry) {
        X509_free(entry.leaf)
        for c in entry.chain { X509_free(c) }
        EVP_PKEY_free(entry.key)
    }

    /// The entry for a client: its SNI and the EC curves it can
    /// verify ECDSA signatures with (empty: not ECDSA-capable).
    func select(serverName: String?, ecdsaCurves: [Int32]) -> Int {
        var chosen: Int?
        var candidate: Int?
        let ecdsaCapable = !ecdsaCurves.isEmpty
        func consider(_ index: Int) -> Bool {
            let curve = entries[index].curve
            if ecdsaCurves.contains(curve) { chosen = index; return true }
            if !ecdsaCapable && curve == 0 { chosen = index; return true }
            if ecdsaCapable && curve == 0 && candidate == nil { candidate = index }
            return false
        }
        if let sni = serverName, !sni.isEmpty {
            for index in byName[sni] ?? [] where consider(index) { break }
            if chosen == nil && candidate == nil, let dot = sni.dropFirst().firstIndex(of: "."), sni.index(after: dot) < sni.endIndex {
                for index in byName[String(sni[dot...])] ?? [] where consider(index) { break }
            }
            // No certificate for the name: the first one.
            return chosen ?? candidate ?? 0
        }
        if ecdsaCapable || hasRSA {
            for index in entries.indices where consider(index) { break }
        }
        return chosen ?? candidate ?? 0
    }

    /// Gives `ssl` entry `index` (entry 0 is the context's own certificate).
    func apply(_ index: Int, to ssl: OpaquePointer) -> Bool {
        guard index != 0 else { return true }
        let entry = entries[index]
        var chain: [OpaquePointer?] = entry.chain
        return chain.withUnsafeMutableBufferPointer { buffer in
            remora_ssl_use_cert_and_key(ssl, entry.leaf, entry.key, buffer.baseAddress, Int32(buffer.count)) == 1
        }
    }

    /// Envoy's `getClientEcdsaCapabilities` over OpenSSL's ClientHello view:
    /// a TLS 1.3 client (supported_versions present, when the server allows
    /// 1.3) is ECDSA-capable for P-256 if it signs with ecdsa_secp256r1_sha256;
    /// an older one for the P-256/384/521 groups it lists, if it also offers
    /// an ECDSA cipher suite.
    static func ecdsaCurves(_ ssl: OpaquePointer, serverAllowsTLS13: Bool) -> [Int32] {
        if serverAllowsTLS13 && extensionBytes(ssl, 43) != nil {
            guard let algorithms = extensionBytes(ssl, 13), u16List(algorithms, skip: 2).contains(0x0403) else { return [] }
            return [NID_X9_62_prime256v1]
        }
        guard let groups = extensionBytes(ssl, 10) else { return [] }
        let offered = u16List(groups, skip: 2)
        var curves: [Int32] = []
        if offered.contains(23) { curves.append(NID_X9_62_prime256v1) }
        if offered.contains(24) { curves.append(NID_secp384r1) }
        if offered.contains(25) { curves.append(NID_secp521r1) }
        var suites: UnsafePointer<UInt8>?
        let length = SSL_client_hello_get0_ciphers(ssl, &suites)
        guard let suites, length > 0 else { return [] }
        let ids = u16List(Array(UnsafeBufferPointer(start: suites, count: length)), skip: 0)
        for id in ids {
            var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF)]
            if let cipher = SSL_CIPHER_find(ssl, &bytes), SSL_CIPHER_get_auth_nid(cipher) == NID_auth_ecdsa { return curves }
        }
        return []
    }

    /// The SNI host name of the ClientHello, as sent (Envoy matches it case-sensitively).
    static func serverName(_ ssl: OpaquePointer) -> String? {
        guard let ext = extensionBytes(ssl, 0), ext.count >= 5 else { return nil }
        var i = 2
        while i + 3 <= ext.count {
            let type = ext[i]
            let length = Int(ext[i + 1]) << 8 | Int(ext[i + 2])
            i += 3
            guard i + length <= ext.count else { return nil }
            if type == 0 { return String(decoding: ext[i..<(i + length)], as: UTF8.self) }
            i += length
        }
        return nil
    }

    private static func extensionBytes(_ ssl: OpaquePointer, _ type: UInt32) -> [UInt8]? {
        var data: UnsafePointer<UInt8>?
        var length = 0
        guard SSL_client_hello_get0_ext(ssl, type, &data, &length) == 1, let data else { return nil }
        return Array(UnsafeBufferPointer(start: data, count: length))
    }

    private static func u16List(_ bytes: [UInt8], skip: Int) -> [UInt16] {
        var out: [UInt16] = []
        var i = skip
        while i + 1 < bytes.count {
            out.append(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]))
            i += 2
        }
        return out
    }
}

/// One `tls_certificates` entry as PEM.
public struct CertificatePEM: Sendable, Equatable {
    public var chain: [UInt8]
    public var key: [UInt8]
    /// The passphrase of an encrypted key.
    public var password: String?

    public init(chain: [UInt8], key: [UInt8], password: String? = nil) {
        self.chain = chain
        self.key = key
        self.password = password
    }
}
