internal import COpenSSL
import RemoraCore
import Synchronization

/// A TLS context as configs hold it: the `SSL_CTX` that new sessions use
/// now. A rotated secret (SDS) builds a new generation and swaps it in;
/// sessions already made keep the generation they started with (each
/// engine holds its own), so established connections are untouched.
///
/// The swap is under a mutex taken once per new session, which costs
/// nothing next to a handshake. That is why `@unchecked Sendable` is safe.
public final class TLSContext: @unchecked Sendable {
    private let generation: Mutex<TLSContextGeneration>

    public init(_ settings: TLSSettings) throws(TLSConfigError) {
        generation = Mutex(try TLSContextGeneration(settings))
        Self.register(self)
    }

    /// The generation new sessions use.
    var current: TLSContextGeneration {
        generation.withLock { $0 }
    }

    /// The current generation's settings (role, ALPN and SNI never change
    /// across generations; certificates and trust may).
    public var settings: TLSSettings { current.settings }

    /// Builds a generation from `settings` and makes new sessions use it;
    /// on failure nothing changes.
    public func replace(with settings: TLSSettings) throws(TLSConfigError) {
        let next = try TLSContextGeneration(settings)
        generation.withLock { $0 = next }
        if !settings.waitingForSecrets {
            for scope in updateScopes.withLock({ $0.compactMap(\.scope) }) { scope.markUsed() }
        }
        setExpiryGauges()
    }

    /// Where this context's per-certificate expiry gauges go (`TLSContext+Expiry`).
    let expiryTargets = Mutex<[ExpiryTarget]>([])

    /// The `SSLStat` scopes of the listeners and clusters whose sockets use
    /// this context (weakly: a removed one stops counting).
    private let updateScopes = Mutex<[WeakStatScope]>([])

    /// `scope` counts `ssl_context_update_by_sds` for this context, and
    /// lists its `ssl.*` once the context has its secrets (now, or when an
    /// SDS update builds it).
    /// With `store`, the scope also lists the context's
    /// `ssl.certificate.<name>.expiration_unix_time_seconds` gauges.
    public func countUpdates(in scope: StatScope, store: StatsStore? = nil) {
        updateScopes.withLock { scopes in
            scopes.removeAll { $0.scope == nil }
            if !scopes.contains(where: { $0.scope === scope }) { scopes.append(WeakStatScope(scope: scope)) }
        }
        if !settings.waitingForSecrets { scope.markUsed() }
        if let store { publishExpiries(under: scope, in: store) }
    }

    /// An SDS update or rotated files built this context again (Envoy's
    /// socket factories count each `onAddOrUpdateSecret`). Main thread.
    public func countUpdateBySDS() {
        for scope in updateScopes.withLock({ $0.compactMap(\.scope) }) {
            scope.stats(SSLStat.self, thread: 0).add(.contextUpdateBySDS)
        }
    }
}

private struct WeakStatScope {
    weak var scope: StatScope?
}

/// One OpenSSL `SSL_CTX`, built once from `TLSSettings` (at config time, or
/// when a secret rotates) and shared read-only by every worker's sessions
/// (OpenSSL reference-counts it and locks only what it changes itself;
/// nothing here changes after `init`). That is why `@unchecked Sendable` is
/// safe. Building contexts once also keeps OpenSSL 3's per-fetch locking off
/// the connection path.
final class TLSContextGeneration: @unchecked Sendable {
    let context: OpaquePointer
    let settings: TLSSettings
    /// Wire-format ALPN list (length-prefixed), for clients and for the
    /// server's selection.
    let alpnWire: [UInt8]
    /// A CA bundle was given: the peer's chain is verified.
    let verifiesChain: Bool
    /// Client sessions kept for resumption, newest first (Envoy's
    /// `max_session_keys`): shared by every worker's connections of this
    /// context, as Envoy's `ClientContextImpl` keeps them.
    /// A server's certificates beyond the first, chosen at the ClientHello.
    fileprivate var selector: CertificateSelector?
    /// `session_ticket_keys`, as OpenSSL's callback reads them (server).
    fileprivate var ticketKeys: [remora_ticket_key] = []
    /// Each certificate's OCSP response (server; see `OCSPStaple`).
    var staples: [OCSPStaple] = []
    /// When each certificate (each chain's leaf) and the first trusted CA
    /// expire, in seconds since the epoch (`TLSContext+Expiry`).
    let expiries: [CertificateExpiry]
    /// (`SSL_SESSION` pointers as integers: the mutex wants Sendable values.)
    private let clientSessions = Mutex<[UInt]>([])

    init(_ settings: TLSSettings) throws(TLSConfigError) {
        TLSLibrary.initialize()
        self.settings = settings
        expiries = Self.expiries(settings)
        guard let context = SSL_CTX_new(settings.role == .server ? TLS_server_method() : TLS_client_method()) else {
            throw TLSConfigError("cannot create an SSL context: \(TLSErrors.drain())", field: "")
        }
        self.context = context
        var wire: [UInt8] = []
        for proto in settings.alpnProtocols {
            let bytes = Array(proto.utf8)
            guard !bytes.isEmpty, bytes.count < 256 else {
                throw TLSConfigError("invalid ALPN protocol '\(proto)'", field: "common_tls_context.alpn_protocols")
            }
            wire.append(UInt8(bytes.count))
            wire += bytes
        }
        alpnWire = wire
        verifiesChain = settings.trustedCAPEM != nil
        // A context waiting for its secrets makes sessions that fail at once (TLSEngine).
        guard !settings.waitingForSecrets else { return }
        // Idle sessions give their record buffers back (memory per idle
        // connection), and send the configured chain only: OpenSSL would otherwise add
        // certificates from the trust store to a chain without them, which
        // BoringSSL (Envoy) never does (a peer sees and logs that chain).
        _ = remora_ssl_ctx_set_mode(context, Int(SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN))
        try configureVersions()
        try configureCiphers()
        try loadCertificate()
        try loadTrustedCA()
        configureVerification()
        if settings.role == .server {
            try loadStaples()
            _ = remora_ssl_ctx_set_session_cache_mode(context, Int(settings.disableSessionCache ? SSL_SESS_CACHE_OFF : SSL_SESS_CACHE_SERVER))
            if !settings.disableTickets {
                _ = SSL_CTX_set_session_ticket_cb(context, tlsTicketIssued, nil, nil)
            }
            if settings.disableTickets {
                _ = remora_ssl_ctx_set_options(context, remora_ssl_op_no_ticket())
            } else if !settings.sessionTicketKeys.isEmpty {
                ticketKeys = settings.sessionTicketKeys.map { bytes in
                    var key = remora_ticket_key()
                    withUnsafeMutableBytes(of: &key) { $0.copyBytes(from: bytes) }
                    return key
                }
                _ = SSL_CTX_set_tlsext_ticket_key_evp_cb(context, tlsTicketKey)
            }
            if let timeout = settings.sessionTimeoutSeconds { _ = SSL_CTX_set_timeout(context, Int(timeout)) }
            if !settings.additionalCertificates.isEmpty, let chain = settings.certificateChainPEM, let key = settings.privateKeyPEM {
                selector = try CertificateSelector([CertificatePEM(chain: chain, key: key, password: settings.privateKeyPassword)]
                                                   + settings.additionalCertificates)
                SSL_CTX_set_client_hello_cb(context, tlsSelectCertificate, Unmanaged.passUnretained(self).toOpaque())
            }
            // One TLS 1.3 session ticket per handshake, where BoringSSL (Envoy)
            // sends two: OpenSSL 3.0 copies the session for every ticket after
            // the first by encoding and decoding it, peer certificate and all,
            // which measured as a fifth of a mutual-TLS handshake's CPU.
            // With tickets off OpenSSL would still send TLS 1.3 tickets naming
            // cached sessions; BoringSSL sends none, so TLS 1.3 does not resume.
            _ = SSL_CTX_set_num_tickets(context, settings.disableTickets ? 0 : 1)
            // The TLS 1.3 traffic secrets reach the session only, so that its
            // records can leave OpenSSL after the handshake (`detachRecordLayer`).
            SSL_CTX_set_keylog_callback(context, tlsKeyLogged)
            // Resuming a session whose peer was verified needs a session-id
            // context (OpenSSL refuses with an internal error otherwise); one
            // per distinct certificate and trust, so that a session verified
            // under one set of rules is not resumed under another (as Envoy).
            var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            let material = (settings.certificateChainPEM ?? []) + (settings.trustedCAPEM ?? []) + settings.sessionContext
            _ = material.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &digest, &length, EVP_sha256(), nil) }
            _ = SSL_CTX_set_session_id_context(context, digest, min(length, UInt32(SSL_MAX_SID_CTX_LENGTH)))
            if !alpnWire.isEmpty {
                SSL_CTX_set_alpn_select_cb(context, tlsSelectALPN, Unmanaged.passUnretained(self).toOpaque())
            }
        } else {
            if !alpnWire.isEmpty {
                _ = alpnWire.withUnsafeBufferPointer { SSL_CTX_set_alpn_protos(context, $0.baseAddress, UInt32($0.count)) }
            }
            if settings.maxSessionKeys > 0 {
                _ = remora_ssl_ctx_set_session_cache_mode(context, Int(SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE))
                SSL_CTX_sess_set_new_cb(context, tlsNewClientSession)
            }
        }
        if settings.role == .server || !settings.allowRenegotiation {
            // OpenSSL clients follow a server's renegotiation unless told not
            // to, and a refusing client or server only warns and goes on;
            // BoringSSL (Envoy) refuses and fails the connection (a server
            // always, a client without `allow_renegotiation`). The info
            // callback sees the refusal go out.
            _ = remora_ssl_ctx_set_options(context, remora_ssl_op_no_renegotiation())
            SSL_CTX_set_info_callback(context, tlsRefusedRenegotiation)
        }
    }

    /// Keeps a session the server gave (newest first, at most `maxSessionKeys`).
    fileprivate func keep(_ session: OpaquePointer) {
        let limit = settings.maxSessionKeys
        let evicted: [UInt] = clientSessions.withLock { sessions in
            sessions.insert(UInt(bitPattern: session), at: 0)
            guard sessions.count > limit else { return [] }
            let dropped = Array(sessions[limit...])
            sessions.removeSubrange(limit...)
            return dropped
        }
        for session in evicted { SSL_SESSION_free(OpaquePointer(bitPattern: session)) }
    }

    /// Offers the newest kept session made with `serverName` as its SNI
    /// ("" for none) to a new client connection: with per-request SNI
    /// (`auto_sni`) one context holds sessions of several names.
    func offerSession(to ssl: OpaquePointer, serverName: String) {
        clientSessions.withLock { sessions in
            // Under the lock: SSL_set_session takes its own reference before a keep() could free it.
            let newest = sessions.first { session in
                guard let name = SSL_SESSION_get0_hostname(OpaquePointer(bitPattern: session)) else { return serverName.isEmpty }
                return String(cString: name) == serverName
            }
            if let newest { _ = SSL_set_session(ssl, OpaquePointer(bitPattern: newest)) }
        }
    }

    deinit {
        clientSessions.withLock { sessions in
            for session in sessions { SSL_SESSION_free(OpaquePointer(bitPattern: session)) }
            sessions = []
        }
        SSL_CTX_free(context)
    }

    private func configureVersions() throws(TLSConfigError) {
        let minimum = settings.minimumVersion ?? .tls12
        // Envoy 1.40's defaults: servers up to TLS 1.3, clients up to TLS 1.2
        // (checked against Envoy: its upstream handshakes are TLS 1.2 unless told).
        let maximum = settings.maximumVersion ?? (settings.role == .server ? .tls13 : .tls12)
        guard minimum <= maximum else {
            throw TLSConfigError("tls_minimum_protocol_version is above tls_maximum_protocol_version",
                                 field: "common_tls_context.tls_params")
        }
        _ = remora_ssl_ctx_set_min_proto(context, Self.openSSLVersion(minimum))
        _ = remora_ssl_ctx_set_max_proto(context, Self.openSSLVersion(maximum))
    }

    static func openSSLVersion(_ version: TLSVersion) -> Int32 {
        switch version {
        case .tls10: TLS1_VERSION
        case .tls11: TLS1_1_VERSION
        case .tls12: TLS1_2_VERSION
        case .tls13: TLS1_3_VERSION
        }
    }

    private func configureCiphers() throws(TLSConfigError) {
        let suites = settings.cipherSuites.isEmpty ? TLSSettings.defaultCipherSuites : settings.cipherSuites
        // Envoy names the first suite the library does not know.
        for suite in suites where SSL_CTX_set_cipher_list(context, suite) != 1 {
            ERR_clear_error()
            throw TLSConfigError("Failed to initialize cipher suites \(suite)", field: "common_tls_context.tls_params.cipher_suites")
        }
        guard SSL_CTX_set_cipher_list(context, suites.joined(separator: ":")) == 1 else {
            throw TLSConfigError("Failed to initialize cipher suites \(suites.joined(separator: ":")): \(TLSErrors.drain())",
                                 field: "common_tls_context.tls_params.cipher_suites")
        }
        let curves = settings.ecdhCurves.isEmpty ? TLSSettings.defaultCurves : settings.ecdhCurves
        for curve in curves where remora_ssl_ctx_set_groups_list(context, curve) != 1 {
            ERR_clear_error()
            throw TLSConfigError("Failed to initialize ECDH curves \(curve)", field: "common_tls_context.tls_params.ecdh_curves")
        }
        guard remora_ssl_ctx_set_groups_list(context, curves.joined(separator: ":")) == 1 else {
            throw TLSConfigError("Failed to initialize ECDH curves: \(TLSErrors.drain())", field: "common_tls_context.tls_params.ecdh_curves")
        }
    }

    private func loadCertificate() throws(TLSConfigError) {
        let field = "common_tls_context.tls_certificates[0]"
        guard let chainPEM = settings.certificateChainPEM else {
            if settings.role == .server {
                throw TLSConfigError("a server context needs a certificate", field: "common_tls_context.tls_certificates")
            }
            return
        }
        let certificates = PEM.certificates(chainPEM)
        guard let leaf = certificates.first else {
            throw TLSConfigError("Failed to load certificate chain: no certificate found \(TLSErrors.drain())",
                                 field: field + ".certificate_chain")
        }
        defer { for certificate in certificates { X509_free(certificate) } }
        guard SSL_CTX_use_certificate(context, leaf) == 1 else {
            throw TLSConfigError("Failed to load certificate chain: \(TLSErrors.drain())", field: field + ".certificate_chain")
        }
        for intermediate in certificates.dropFirst() {
            X509_up_ref(intermediate)
            guard remora_ssl_ctx_add0_chain_cert(context, intermediate) == 1 else {
                X509_free(intermediate)
                throw TLSConfigError("Failed to load certificate chain: \(TLSErrors.drain())", field: field + ".certificate_chain")
            }
        }
        guard let keyPEM = settings.privateKeyPEM, let key = PEM.privateKey(keyPEM, password: settings.privateKeyPassword) else {
            throw TLSConfigError("Failed to load private key: \(TLSErrors.drain())", field: field + ".private_key")
        }
        defer { EVP_PKEY_free(key) }
        guard SSL_CTX_use_PrivateKey(context, key) == 1, SSL_CTX_check_private_key(context) == 1 else {
            throw TLSConfigError("Failed to load private key: the key does not match the certificate \(TLSErrors.drain())",
                                 field: field + ".private_key")
        }
    }

    private func loadTrustedCA() throws(TLSConfigError) {
        guard let bundle = settings.trustedCAPEM else { return }
        let field = "common_tls_context.validation_context.trusted_ca"
        let certificates = PEM.certificates(bundle)
        defer { for certificate in certificates { X509_free(certificate) } }
        guard !certificates.isEmpty else {
            throw TLSConfigError("Failed to load trusted CA certificates: no certificate found", field: field)
        }
        let store = SSL_CTX_get_cert_store(context)
        for certificate in certificates where X509_STORE_add_cert(store, certificate) != 1 {
            throw TLSConfigError("Failed to load trusted CA certificates: \(TLSErrors.drain())", field: field)
        }
        if let crlPEM = settings.revocationListPEM {
            let crlField = "common_tls_context.validation_context.crl"
            let lists = PEM.revocationLists(crlPEM)
            defer { for crl in lists { X509_CRL_free(crl) } }
            guard !lists.isEmpty else { throw TLSConfigError("Failed to load CRL: no CRL found", field: crlField) }
            for crl in lists where X509_STORE_add_crl(store, crl) != 1 {
                throw TLSConfigError("Failed to load CRL: \(TLSErrors.drain())", field: crlField)
            }
            // As Envoy: every certificate of the chain needs its issuer's CRL, unless only the leaf is checked.
            let flags = settings.onlyLeafRevocation ? UInt(X509_V_FLAG_CRL_CHECK) : UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL)
            X509_STORE_set_flags(store, flags)
        }
    }

    private func configureVerification() {
        var mode: Int32 = SSL_VERIFY_NONE
        switch settings.role {
        case .server:
            // Envoy asks for a client certificate when it can check one.
            if verifiesChain || !settings.subjectAltNameMatchers.isEmpty || settings.pinsCertificate
                || settings.requireClientCertificate {
                mode = SSL_VERIFY_PEER
            }
            if settings.requireClientCertificate { mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT }
        case .client:
            if verifiesChain || !settings.subjectAltNameMatchers.isEmpty || settings.pinsCertificate { mode = SSL_VERIFY_PEER }
        }
        SSL_CTX_set_verify(context, mode, mode == SSL_VERIFY_NONE ? nil : tlsVerifyPeer)
    }
}

/// ALPN on the server: the first of our protocols the client offers, or no
/// ALPN at all when none matches (Envoy's `NOACK`: the handshake goes on).
private let tlsSelectALPN: @convention(c) (
    OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<UInt8>?,
    UnsafePointer<UInt8>?, UInt32, UnsafeMutableRawPointer?
) -> Int32 = { _, out, outLength, offered, offeredLength, argument in
    guard let argument, let out, let outLength, let offered else { return SSL_TLSEXT_ERR_NOACK }
    let context = Unmanaged<TLSContextGeneration>.fromOpaque(argument).takeUnretainedValue()
    let client = UnsafeBufferPointer(start: offered, count: Int(offeredLength))
    return context.alpnWire.withUnsafeBufferPointer { ours -> Int32 in
        var i = 0
        while i < ours.count {
            let length = Int(ours[i])
            let candidate = UnsafeBufferPointer(rebasing: ours[(i + 1)..<(i + 1 + length)])
            var j = 0
            while j < client.count {
                let theirLength = Int(client[j])
                guard j + 1 + theirLength <= client.count else { break }
                if theirLength == length && candidate.elementsEqual(client[(j + 1)..<(j + 1 + length)]) {
                    // Points into the client's list, which outlives the callback.
                    out.pointee = client.baseAddress! + j + 1
                    outLength.pointee = UInt8(length)
                    return SSL_TLSEXT_ERR_OK
                }
                j += 1 + theirLength
            }
            i += 1 + length
        }
        return SSL_TLSEXT_ERR_NOACK
    }
}

/// A client refusing a server's HelloRequest, or a server refusing a
/// client's new ClientHello, sends a `no_renegotiation` alert (only then,
/// after the handshake); the engine fails on its next read.
private let tlsRefusedRenegotiation: @convention(c) (OpaquePointer?, Int32, Int32) -> Void = { ssl, where_, value in
    guard where_ & SSL_CB_WRITE_ALERT != 0, value & 0xFF == SSL_AD_NO_RENEGOTIATION, let ssl,
          let engine = TLSEngine.owning(ssl) else { return }
    engine.refusedRenegotiation = true
}

/// A client handshake produced a resumable session: the context keeps it
/// (returning 1 keeps OpenSSL's reference for us).
private let tlsNewClientSession: @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32 = { ssl, session in
    guard let ssl, let session, let engine = TLSEngine.owning(ssl) else { return 0 }
    engine.context.keep(session)
    return 1
}

/// Picks the certificate of a server context that has several.
private let tlsSelectCertificate: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?) -> Int32 = {
    ssl, alert, argument in
    guard let ssl, let argument else { return SSL_CLIENT_HELLO_ERROR }
    let context = Unmanaged<TLSContextGeneration>.fromOpaque(argument).takeUnretainedValue()
    guard let selector = context.selector else { return SSL_CLIENT_HELLO_SUCCESS }
    let allows13 = (context.settings.maximumVersion ?? .tls13) >= .tls13
    let index = selector.select(serverName: CertificateSelector.serverName(ssl),
                                ecdsaCurves: CertificateSelector.ecdsaCurves(ssl, serverAllowsTLS13: allows13))
    guard selector.apply(index, to: ssl) else {
        alert?.pointee = SSL_AD_INTERNAL_ERROR
        return SSL_CLIENT_HELLO_ERROR
    }
    return SSL_CLIENT_HELLO_SUCCESS
}

/// Encrypts or decrypts a session ticket with the configured keys.
private let tlsTicketKey: @convention(c) (
    OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?, OpaquePointer?, OpaquePointer?, Int32
) -> Int32 = { ssl, name, iv, cipher, mac, encrypt in
    guard let ssl, let context = TLSEngine.owning(ssl)?.context else { return -1 }
    return context.ticketKeys.withUnsafeBufferPointer { keys in
        remora_ticket_crypt(keys.baseAddress, Int32(keys.count), name, iv, cipher, mac, encrypt)
    }
}

/// A ticket is about to be sealed for the session (server; see `TLSEngine.sessionID`).
private let tlsTicketIssued: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = { ssl, _ in
    if let ssl, let engine = TLSEngine.owning(ssl) { engine.issuedTicket = true }
    return 1
}

/// Contexts compare by identity: configs that share one are equal.
extension TLSContext: Equatable {
    public static func == (lhs: TLSContext, rhs: TLSContext) -> Bool { lhs === rhs }
}
