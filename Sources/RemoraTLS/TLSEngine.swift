internal import COpenSSL
public import RemoraCore

/// One TLS session as a socket-free state machine: ciphertext goes in with
/// `feed`, comes out with `takeOutput`; plaintext goes in with `write`,
/// comes out with `read`. A BIO over plain memory stands where the socket would be,
/// so the loop's own reads and batched writes carry the records, and two
/// engines can talk to each other through plain memory in tests.
///
/// Owned by one `TLSTransportSocket`, on its loop; never blocks.
public final class TLSEngine {
    /// OpenSSL's session; nil once a TLS 1.3 server session has moved to
    /// `records` (`detachRecordLayer`).
    private(set) var ssl: OpaquePointer?
    /// The session's records after the handshake, without OpenSSL.
    private var records: TLS13RecordLayer?
    /// The TLS 1.3 application traffic secrets OpenSSL logged (server
    /// sessions, until `detachRecordLayer`).
    private var trafficSecrets: TrafficSecrets?
    /// The peer's certificates (leaf first) in DER, kept when the session
    /// leaves OpenSSL, for `securityInfo` and `peerCertificatesPEM`.
    private var peerCertificatesDER: [[UInt8]] = []
    /// The session's own facts and our certificate (a reference), kept when
    /// it leaves OpenSSL (TLS 1.3: no session id; the cipher is the suite's).
    private var detachedFacts: DetachedFacts?
    private struct DetachedFacts {
        var serverName: String?
        var alpn: String?
        var group: String
    }
    /// The issuer of the peer's leaf in the chain verification built (DER).
    private var verifiedIssuerDER: [UInt8]?
    private var localCertificate: OpaquePointer?
    /// The ciphertext waiting either way (the BIO's side of the session).
    var wire = EngineBIO()
    /// The context generation this session was made with (kept for its life).
    let context: TLSContextGeneration
    public private(set) var state = State.handshaking
    /// Why peer verification failed, set by the verify callback.
    public internal(set) var verifyFailure: VerifyFailure?
    /// What the server did for a client that asked for an OCSP staple.
    var ocspOutcome: OCSPStaple.Action?

    public enum State: Equatable {
        case handshaking, established, closed, failed
    }

    /// Why a peer's certificate was refused (Envoy's `ssl.fail_verify_*`).
    public enum VerifyFailure: Equatable, Sendable {
        /// The chain does not lead to the trusted CA (or is expired, …).
        case chain(String)
        /// No `match_typed_subject_alt_names` entry accepts its SANs.
        case subjectAltName
        /// Neither `verify_certificate_hash` nor `verify_certificate_spki` matches it.
        case certificateHash
        /// The client sent none where one is required.
        case noCertificate
        /// No CA to verify against where the request asks for a verified
        /// server (`auto_san_validation` without `trusted_ca`): Envoy's
        /// library refuses before its validator runs, and counts nothing.
        case untrusted
    }

    /// A session that cannot go on: the text is Envoy's transport failure reason.
    public struct Failure: Error, Equatable, Sendable {
        public let reason: String
    }

    public enum Progress: Equatable {
        /// Waiting for the peer's bytes.
        case handshaking
        /// The handshake is done (reported once).
        case established
        case failed(Failure)
    }

    public enum ReadResult: Equatable {
        case bytes(Int)
        /// Nothing more to read until the peer's next bytes.
        case wantMore
        /// The peer sent close_notify.
        case closed
        case failed(Failure)
    }

    /// Names the server's certificate must carry, beyond the context's
    /// matchers (Envoy's `verifySubjectAltNameListOverride`; client only).
    let verifySubjectAltNames: [String]
    /// The SNI sent, when the context's `auto_sni_san_validation` checks
    /// the server's DNS SANs against it instead of the SAN matchers.
    let sniSubjectAltName: String?

    /// A client session (`serverName`, else the context's `sni`, goes out as
    /// SNI) or a server session, on the context's current generation.
    /// `verifySubjectAltNames` (client): the server must present a
    /// certificate with one of these names, as Envoy's auto SAN validation.
    public init(context: TLSContext, serverName: String? = nil, verifySubjectAltNames: [String] = []) {
        let context = context.current
        self.context = context
        self.verifySubjectAltNames = verifySubjectAltNames
        let sni = serverName ?? context.settings.serverName
        sniSubjectAltName = context.settings.autoSNISANValidation ? sni.flatMap { $0.isEmpty ? nil : $0 } : nil
        ssl = SSL_new(context.context)!
        let bio = EngineBIO.makeBIO(for: self)
        // One BIO both ways: the SSL takes the one reference (as s_client does).
        SSL_set_bio(ssl, bio, bio)
        if context.settings.role == .server {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let sni, !sni.isEmpty { _ = remora_ssl_set_host_name(ssl, sni) }
            if !verifySubjectAltNames.isEmpty {
                // As Envoy's ClientContextImpl::newSsl: a certificate is required and checked.
                SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, tlsVerifyPeer)
            } else if sniSubjectAltName != nil {
                SSL_set_verify(ssl, SSL_VERIFY_PEER, tlsVerifyPeer)
            }
            // A session made under other names must not skip their checks
            // (nor lend its SNI: OpenSSL sends a resumed session's own).
            if verifySubjectAltNames.isEmpty || verifySubjectAltNames == [sni ?? ""] {
                context.offerSession(to: ssl!, serverName: sni ?? "")
            }
        }
        if context.settings.waitingForSecrets { state = .failed }
    }

    deinit {
        guard let ssl else {
            records?.wipe()
            if let localCertificate { X509_free(localCertificate) }
            return
        }
        // OpenSSL drops a session from the server's cache when its
        // connection ends without our close_notify (peers often just close);
        // BoringSSL, and so Envoy, keeps it resumable. A session whose
        // handshake succeeded and that saw no error stays in the cache.
        if state == .established || state == .closed { SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_SENT_SHUTDOWN) }
        // Frees the BIO with the session (before `wire` goes).
        SSL_free(ssl)
    }

    /// The engine of `ssl`, for OpenSSL's callbacks: the data of its BIO.
    static func owning(_ ssl: OpaquePointer) -> TLSEngine? {
        guard let bio = SSL_get_rbio(ssl), let data = BIO_get_data(bio) else { return nil }
        return Unmanaged<TLSEngine>.fromOpaque(data).takeUnretainedValue()
    }

    /// Ciphertext from the peer.
    public func feed(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        wire.feed(bytes)
    }

    /// Runs the handshake as far as the bytes fed so far allow.
    public func advance() -> Progress {
        guard state == .handshaking else {
            if state == .failed && context.settings.waitingForSecrets {
                return .failed(Failure(reason: "TLS_error:|secrets not ready:TLS_error_end"))
            }
            return state == .failed ? .failed(Failure(reason: "TLS_error:|0:SSL routines:OPENSSL_internal:FAILED:TLS_error_end")) : .established
        }
        guard let ssl else { return .established }
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            state = .established
            return .established
        }
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .handshaking
        default:
            state = .failed
            if ERR_GET_REASON(ERR_peek_error()) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE { verifyFailure = .noCertificate }
            return .failed(Failure(reason: TLSErrors.envoyReason(fallback: "HANDSHAKE_FAILED")))
        }
    }

    /// Decrypts into `buffer`; call until `.wantMore`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> ReadResult {
        guard state == .established else { return state == .closed ? .closed : .wantMore }
        if records != nil {
            switch records!.read(into: buffer, wire: &wire) {
            case .bytes(let count):
                return .bytes(count)
            case .wantMore:
                return .wantMore
            case .closed:
                state = .closed
                return .closed
            case .failed(let failure):
                state = .failed
                return .failed(Self.failure(failure.reason, fallback: "READ_FAILED"))
            }
        }
        var count = 0
        if SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &count) == 1 { return .bytes(count) }
        switch SSL_get_error(ssl, 0) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            if refusedRenegotiation {
                // BoringSSL (Envoy) fails the connection on a renegotiation it
                // refuses; OpenSSL would only warn and go on.
                state = .failed
                ERR_clear_error()
                return .failed(Failure(reason: "TLS_error:|268435638:SSL routines:OPENSSL_internal:NO_RENEGOTIATION:TLS_error_end"))
            }
            return .wantMore
        case SSL_ERROR_ZERO_RETURN:
            state = .closed
            return .closed
        default:
            state = .failed
            return .failed(Failure(reason: TLSErrors.envoyReason(fallback: "READ_FAILED")))
        }
    }

    /// Encrypts `bytes` (after the handshake); the records wait in the output.
    public func write(_ bytes: UnsafeRawBufferPointer) -> Failure? {
        guard state == .established, bytes.count > 0 else { return nil }
        if records != nil {
            if records!.write(bytes, wire: &wire) { return nil }
            state = .failed
            return Self.failure(SSL_R_PROTOCOL_IS_SHUTDOWN, fallback: "WRITE_FAILED")
        }
        var written = 0
        // The wire takes everything, so a write is whole or fails.
        if SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &written) == 1 { return nil }
        state = .failed
        return Failure(reason: TLSErrors.envoyReason(fallback: "WRITE_FAILED"))
    }

    /// The peer asked to renegotiate and this side refused (the info
    /// callback saw our `no_renegotiation` alert go out).
    var refusedRenegotiation = false

    /// Queues close_notify.
    public func close() {
        guard state == .established || state == .closed else { return }
        if records != nil {
            records!.close(wire: &wire)
            return
        }
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// Ciphertext waiting to be sent.
    public var pendingOutput: Int { wire.pendingOutput }

    /// Moves up to `buffer.count` bytes of ciphertext out; returns the count.
    public func takeOutput(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        wire.takeOutput(into: buffer)
    }

    // MARK: Facts

    /// The session's facts (call once established).
    public func securityInfo() -> SecurityInfo {
        guard let ssl else {
            // Left OpenSSL: the session's facts were kept, the certificates' are read from them now.
            var info = SecurityInfo.Fields(serverName: detachedFacts?.serverName, alpn: detachedFacts?.alpn, version: version, cipher: cipher)
            info.group = detachedFacts?.group ?? ""
            let peer = peerCertificatesDER.first.flatMap(Certificate.parse(der:))
            defer { if let peer { X509_free(peer) } }
            addCertificateFacts(to: &info, peer: peer, local: localCertificate)
            return SecurityInfo(info)
        }
        var info = sessionFields(ssl)
        let peer = SSL_get1_peer_certificate(ssl)
        defer { if let peer { X509_free(peer) } }
        addCertificateFacts(to: &info, peer: peer, local: SSL_get_certificate(ssl))
        return SecurityInfo(info)
    }

    /// The facts of the session itself (not of its certificates).
    private func sessionFields(_ ssl: OpaquePointer) -> SecurityInfo.Fields {
        let serverName = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
        var alpnBytes: UnsafePointer<UInt8>?
        var alpnLength: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &alpnBytes, &alpnLength)
        let alpn = alpnBytes.flatMap { alpnLength > 0 ? String(decoding: UnsafeBufferPointer(start: $0, count: Int(alpnLength)), as: UTF8.self) : nil }
        var info = SecurityInfo.Fields(serverName: serverName ?? context.settings.serverName, alpn: alpn, version: version, cipher: cipher)
        info.sessionID = sessionID
        info.group = negotiatedGroup ?? ""
        return info
    }

    private func addCertificateFacts(to info: inout SecurityInfo.Fields, peer: OpaquePointer?, local: OpaquePointer?) {
        if let peer {
            let names = Certificate.subjectAltNames(peer)
            info.peerURISANs = names.uris
            info.peerDNSSANs = names.dnsNames
            info.peerIPSANs = names.ipAddresses
            info.peerEmailSANs = names.emails
            info.peerOtherNameSANs = names.otherNames.map(\.value)
            info.peerCertificateDigest = Certificate.sha256(peer)
            info.peerSubject = Certificate.subject(peer)
            info.peerIssuer = Certificate.issuer(peer)
            info.peerSerial = Certificate.serial(peer)
            info.peerFingerprintSHA1 = Certificate.sha1(peer)
            (info.peerValidFromSeconds, info.peerValidToSeconds) = Certificate.validity(peer)
        }
        if let local {
            let names = Certificate.subjectAltNames(local)
            info.localURISANs = names.uris
            info.localDNSSANs = names.dnsNames
            info.localIPSANs = names.ipAddresses
            info.localEmailSANs = names.emails
            info.localOtherNameSANs = names.otherNames.map(\.value)
            info.localSubject = Certificate.subject(local)
        }
    }

    /// The peer's certificate and its chain (leaf first) in PEM; nil without one.
    public func peerCertificatesPEM() -> (leaf: String, chain: String)? {
        guard ssl != nil else {
            guard let leafDER = peerCertificatesDER.first, let leaf = Certificate.pem(der: leafDER) else { return nil }
            let rest = peerCertificatesDER.dropFirst().filter { $0 != leafDER }.compactMap(Certificate.pem(der:))
            return (leaf, leaf + rest.joined())
        }
        guard let leaf = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(leaf) }
        let leafPEM = Certificate.pem(leaf)
        var chain = leafPEM
        // OpenSSL's peer chain holds the leaf on the client side only.
        if let stack = SSL_get_peer_cert_chain(ssl) {
            for i in 0..<remora_sk_x509_num(stack) {
                guard let certificate = remora_sk_x509_value(stack, i), X509_cmp(certificate, leaf) != 0 else { continue }
                chain += Certificate.pem(certificate)
            }
        }
        return (leafPEM, chain)
    }

    /// The peer's chain as it sent it, leaf first (Envoy's
    /// `SSL_get_peer_full_cert_chain`): its digests and serials, and the
    /// issuer of the leaf in the chain the verification built (only when
    /// the context verifies the chain). Made on demand; nil without a peer
    /// certificate.
    public func peerCertificateChainFacts() -> PeerCertificateChainFacts? {
        guard ssl != nil else {
            // Left OpenSSL: from the certificates kept (DER).
            let chain = peerCertificatesDER.compactMap(Certificate.parse(der:))
            defer { chain.forEach { X509_free($0) } }
            guard !chain.isEmpty else { return nil }
            var facts = PeerCertificateChainFacts()
            facts.fingerprintsSHA256 = chain.map(Certificate.sha256)
            facts.fingerprintsSHA1 = chain.map(Certificate.sha1)
            facts.serials = chain.map(Certificate.serial)
            if let issuer = verifiedIssuerDER.flatMap(Certificate.parse(der:)) {
                defer { X509_free(issuer) }
                facts.issuerFingerprintSHA256 = Certificate.sha256(issuer)
                facts.issuerSerial = Certificate.serial(issuer)
            }
            return facts
        }
        guard let leaf = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(leaf) }
        var chain: [OpaquePointer] = []
        // OpenSSL's peer chain holds the leaf on the client side only.
        if context.settings.role == .server { chain.append(leaf) }
        if let stack = SSL_get_peer_cert_chain(ssl) {
            for i in 0..<remora_sk_x509_num(stack) {
                if let certificate = remora_sk_x509_value(stack, i) { chain.append(certificate) }
            }
        }
        var facts = PeerCertificateChainFacts()
        facts.fingerprintsSHA256 = chain.map(Certificate.sha256)
        facts.fingerprintsSHA1 = chain.map(Certificate.sha1)
        facts.serials = chain.map(Certificate.serial)
        if context.verifiesChain, let verified = SSL_get0_verified_chain(ssl), remora_sk_x509_num(verified) > 1,
           let issuer = remora_sk_x509_value(verified, 1) {
            facts.issuerFingerprintSHA256 = Certificate.sha256(issuer)
            facts.issuerSerial = Certificate.serial(issuer)
        }
        return facts
    }

    /// `TLSv1.3`, `TLSv1.2`.
    public var version: String { ssl.map { String(cString: SSL_get_version($0)) } ?? "TLSv1.3" }

    /// The cipher suite's OpenSSL name (`TLS_AES_128_GCM_SHA256`).
    public var cipher: String {
        guard let ssl else { return records?.suite.name ?? "" }
        return SSL_get_current_cipher(ssl).flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) } ?? ""
    }

    /// The negotiated key-exchange group's name (`X25519`, `P-256`), or nil.
    public var negotiatedGroup: String? {
        guard let ssl else { return nil }
        let nid = remora_ssl_negotiated_group(ssl)
        guard nid > 0 else { return nil }
        switch nid {
        case NID_X9_62_prime256v1: return "P-256"
        case NID_secp384r1: return "P-384"
        case NID_secp521r1: return "P-521"
        default: return OBJ_nid2sn(nid).map { String(cString: $0) }
        }
    }

    /// The signature algorithm of the peer's CertificateVerify, in
    /// TLS 1.3 names (`ecdsa_secp256r1_sha256`); nil without a peer certificate.
    public var peerSignatureAlgorithm: String? {
        var type: Int32 = 0
        var digest: Int32 = 0
        guard let ssl, SSL_get_peer_signature_type_nid(ssl, &type) == 1, remora_ssl_peer_signature_nid(ssl, &digest) == 1 else { return nil }
        switch (type, digest) {
        case (NID_X9_62_id_ecPublicKey, NID_sha256): return "ecdsa_secp256r1_sha256"
        case (NID_X9_62_id_ecPublicKey, NID_sha384): return "ecdsa_secp384r1_sha384"
        case (NID_rsassaPss, NID_sha256): return "rsa_pss_rsae_sha256"
        case (NID_rsassaPss, NID_sha384): return "rsa_pss_rsae_sha384"
        case (NID_rsaEncryption, NID_sha256): return "rsa_pkcs1_sha256"
        case (NID_ED25519, _): return "ed25519"
        default: return nil
        }
    }

    public var sessionReused: Bool { ssl.map { SSL_session_reused($0) == 1 } ?? false }

    /// The server sealed a ticket for this session.
    var issuedTicket = false

    /// Envoy's `%DOWNSTREAM_TLS_SESSION_ID%` (server): the session's id, hex,
    /// where BoringSSL gives one. BoringSSL has none for TLS 1.3, nor for a
    /// TLS 1.2 full handshake that issued a ticket, where OpenSSL makes one
    /// up; a session resumed from a ticket has the id the client sent, and
    /// one from the session cache its cached id, in both libraries.
    ///
    /// `%UPSTREAM_TLS_SESSION_ID%` (client): none for TLS 1.3, as BoringSSL;
    /// on TLS 1.2 both libraries give the server's id, or for a ticket the
    /// SHA-256 of the ticket, and a resumed session keeps its first id.
    var sessionID: String {
        guard let ssl, SSL_version(ssl) < TLS1_3_VERSION,
              context.settings.role == .client || sessionReused || !issuedTicket,
              let session = SSL_get_session(ssl) else { return "" }
        var length: UInt32 = 0
        guard let id = SSL_SESSION_get_id(session, &length), length > 0 else { return "" }
        return UnsafeBufferPointer(start: id, count: Int(length)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
    public var hasPeerCertificate: Bool { ssl.map { SSL_get0_peer_certificate($0) != nil } ?? !peerCertificatesDER.isEmpty }

    private static func failure(_ reason: Int32, fallback: String) -> Failure {
        remora_err_raise_ssl(reason)
        return Failure(reason: TLSErrors.envoyReason(fallback: fallback))
    }

    // MARK: Leaving OpenSSL after the handshake

    struct TrafficSecrets {
        var client: [UInt8] = []
        var server: [UInt8] = []
    }

    /// A line of OpenSSL's key log for this session: keeps the TLS 1.3
    /// application traffic secrets (server sessions; nothing is logged anywhere).
    func keyLogged(_ line: UnsafePointer<CChar>) {
        guard context.settings.role == .server, state == .handshaking else { return }
        let text = UnsafeRawBufferPointer(start: line, count: strlen(line))
        let server = text.starts(with: "SERVER_TRAFFIC_SECRET_0 ".utf8)
        guard server || text.starts(with: "CLIENT_TRAFFIC_SECRET_0 ".utf8) else { return }
        // `<label> <client random> <secret>`, hex.
        guard let space = text.lastIndex(of: UInt8(ascii: " ")), let secret = Self.unhex(text[(space + 1)...]) else { return }
        var secrets = trafficSecrets ?? TrafficSecrets()
        if server {
            secrets.server = secret
            // What OpenSSL writes from here on is under this key (its tickets).
            wire.startRecording()
        } else {
            secrets.client = secret
        }
        trafficSecrets = secrets
    }

    private static func unhex(_ digits: Slice<UnsafeRawBufferPointer>) -> [UInt8]? {
        guard digits.count % 2 == 0, digits.count <= 128 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = digits.startIndex
        while index < digits.endIndex {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// Moves an established TLS 1.3 server session's records to
    /// `TLS13RecordLayer` and frees OpenSSL's session: an idle connection
    /// then holds ~0.3 KB of TLS state instead of ~13 KB. Call once the
    /// handshake is reported, before the first read. The session's facts,
    /// our certificate and the peer's (DER) are kept for `securityInfo` and
    /// `peerCertificatesPEM`. Returns false, changing nothing, where the
    /// session stays with OpenSSL: a client, TLS 1.2, a suite other than
    /// RFC 8446's three, a negotiated maximum fragment length, or records OpenSSL sent after its handshake (the
    /// tickets) that do not open with the key derived from the logged secret.
    @discardableResult
    public func detachRecordLayer(ciphers: TLSRecordCiphers) -> Bool {
        let secrets = trafficSecrets
        trafficSecrets = nil
        defer {
            // In place (the layer derived its own keys): no copy-on-write copy is made to be wiped.
            for secret in [secrets?.client, secrets?.server] {
                secret?.withUnsafeBytes { OPENSSL_cleanse(UnsafeMutableRawPointer(mutating: $0.baseAddress), $0.count) }
            }
        }
        let sent = wire.stopRecording()
        guard let ssl, let sent, state == .established, let secrets, context.settings.role == .server,
              SSL_version(ssl) == TLS1_3_VERSION, let cipher = SSL_get_current_cipher(ssl),
              let suite = TLS13RecordLayer.Suite(rawValue: SSL_CIPHER_get_protocol_id(cipher)),
              secrets.client.count == suite.hashLength, secrets.server.count == suite.hashLength,
              SSL_pending(ssl) == 0, SSL_has_pending(ssl) == 0,
              // A client that negotiated a smaller record size (RFC 6066's
              // max_fragment_length) keeps OpenSSL, which honours it.
              SSL_get_session(ssl).map({ SSL_SESSION_get_max_fragment_length($0) }) ?? 0 == 0 else { return false }
        var layer = TLS13RecordLayer(suite: suite, ciphers: ciphers, readSecret: secrets.client, writeSecret: secrets.server)
        guard sent.withUnsafeBytes({ layer.adoptSent($0) }) else { return false }
        if let leaf = SSL_get0_peer_certificate(ssl) {
            peerCertificatesDER = [Certificate.der(leaf)]
            // A server's peer chain leaves the leaf out; the rest as the peer sent it.
            if let chain = SSL_get_peer_cert_chain(ssl) {
                for i in 0..<remora_sk_x509_num(chain) {
                    if let certificate = remora_sk_x509_value(chain, i) { peerCertificatesDER.append(Certificate.der(certificate)) }
                }
            }
        }
        if !peerCertificatesDER.isEmpty, context.verifiesChain, let verified = SSL_get0_verified_chain(ssl),
           remora_sk_x509_num(verified) > 1, let issuer = remora_sk_x509_value(verified, 1) {
            verifiedIssuerDER = Certificate.der(issuer)
        }
        let fields = sessionFields(ssl)
        detachedFacts = DetachedFacts(serverName: fields.serverName, alpn: fields.alpn, group: fields.group)
        if let local = SSL_get_certificate(ssl), X509_up_ref(local) == 1 { localCertificate = local }
        SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_SENT_SHUTDOWN)
        SSL_free(ssl)
        self.ssl = nil
        records = layer
        return true
    }

    /// The session left OpenSSL (`detachRecordLayer`).
    public var isDetached: Bool { records != nil }

    /// A record's bytes beyond its plaintext (a session that left OpenSSL).
    public static let recordOverhead = TLS13RecordLayer.overhead
    public static let maximumRecordPlaintext = TLS13RecordLayer.maximumPlaintext

    /// Seals `bytes` (at most `maximumRecordPlaintext`) as one record
    /// straight into `record` (`bytes.count + recordOverhead` bytes), for
    /// a session that left OpenSSL with no output waiting; false, writing
    /// nothing, where `write` must do it (it also sends what must go first).
    public func sealRecord(_ bytes: UnsafeRawBufferPointer, into record: UnsafeMutableRawBufferPointer) -> Bool {
        guard records != nil, state == .established, wire.pendingOutput == 0 else { return false }
        return records!.sealApplicationData(bytes, into: record)
    }
}

/// OpenSSL's key log callback (server contexts): hands the line to its session.
let tlsKeyLogged: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Void = { ssl, line in
    guard let ssl, let line, let engine = TLSEngine.owning(ssl) else { return }
    engine.keyLogged(line)
}

/// OpenSSL's verify callback, for every certificate of the peer's chain:
/// the chain verdict as OpenSSL found it (with a CA configured), then at
/// the leaf the SAN matchers (Envoy's `match_typed_subject_alt_names`).
/// Refusing here fails the handshake with an alert, where Envoy refuses.
let tlsVerifyPeer: @convention(c) (Int32, OpaquePointer?) -> Int32 = { preverified, store in
    guard let store,
          let ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
          let engine = TLSEngine.owning(OpaquePointer(ssl)) else { return 0 }
    let context = engine.context
    if preverified != 1 && context.verifiesChain {
        if engine.verifyFailure == nil {
            let code = X509_STORE_CTX_get_error(store)
            engine.verifyFailure = .chain(String(cString: X509_verify_cert_error_string(Int(code))))
        }
        return 0
    }
    // Auto SAN validation without a trusted CA: Envoy's library checks the
    // chain against an empty store and refuses it before Envoy's validator
    // (and its fail_verify_* stats) runs.
    if preverified != 1 && !engine.verifySubjectAltNames.isEmpty {
        engine.verifyFailure = .untrusted
        return 0
    }
    guard X509_STORE_CTX_get_error_depth(store) == 0 else { return 1 }
    let settings = context.settings
    guard !settings.subjectAltNameMatchers.isEmpty || settings.pinsCertificate || !engine.verifySubjectAltNames.isEmpty
        || engine.sniSubjectAltName != nil else {
        return 1
    }
    guard let leaf = X509_STORE_CTX_get_current_cert(store) else { return 0 }
    // Envoy's order: the request's names, the SAN matchers, then the pins (a hash or an SPKI match).
    if !engine.verifySubjectAltNames.isEmpty
        && !Certificate.subjectAltNames(leaf).matchesAny(of: engine.verifySubjectAltNames) {
        engine.verifyFailure = .subjectAltName
        X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION)
        return 0
    }
    if let sni = engine.sniSubjectAltName {
        // `auto_sni_san_validation` replaces the SAN matchers: a DNS SAN must name the SNI sent.
        if !Certificate.subjectAltNames(leaf).dnsNames.contains(where: { SubjectAltNames.dnsName(sni, matches: $0) }) {
            engine.verifyFailure = .subjectAltName
            X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION)
            return 0
        }
    } else if !settings.subjectAltNameMatchers.isEmpty {
        let names = Certificate.subjectAltNames(leaf)
        if !settings.subjectAltNameMatchers.contains(where: { $0.matches(names) }) {
            engine.verifyFailure = .subjectAltName
            X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION)
            return 0
        }
    }
    if settings.pinsCertificate {
        let hashMatches = !settings.certificateHashes.isEmpty && settings.certificateHashes.contains(Certificate.sha256Bytes(leaf))
        let spkiMatches = !settings.spkiHashes.isEmpty && settings.spkiHashes.contains(Certificate.spkiSHA256(leaf))
        if !hashMatches && !spkiMatches {
            engine.verifyFailure = .certificateHash
            X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION)
            return 0
        }
    }
    return 1
}
