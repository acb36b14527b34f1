public import RemoraCore

/// Envoy's `ssl.*` stats of a listener (`listener.<addr>.ssl.`) or cluster
/// (`cluster.<name>.ssl.`), as Envoy 1.40 names them. The per-version,
/// cipher, curve and signature-algorithm counters appear on first use, as
/// Envoy creates them; Remora knows a fixed set of those names.
///
/// The same scope holds the TLS socket factory's counters,
/// `listener.<addr>.server_ssl_socket_factory.*` or
/// `cluster.<name>.client_ssl_socket_factory.*` (Envoy's
/// `ALL_SSL_SOCKET_FACTORY_STATS`): `ssl_context_update_by_sds` (the context
/// built again from an SDS update or rotated files; `TLSContext`) and
/// `upstream_` / `downstream_context_secrets_not_ready` (a session made
/// while the context still waits for its secrets; `TLSTransportFactory`).
public enum SSLStat: Int, StatName, CaseIterable {
    // The factory's first: they are listed from the start, `ssl.*` once a
    // context has its secrets (`TLSContext.countUpdates`), as Envoy creates
    // them with the `SSL_CTX`.
    case contextUpdateBySDS, upstreamSecretsNotReady, downstreamSecretsNotReady
    case connectionError, handshake, sessionReused, noCertificate
    case failVerifyNoCert, failVerifyError, failVerifySan, failVerifyCertHash
    case ocspStapleRequests, ocspStapleResponses, ocspStapleOmitted, ocspStapleFailed
    case tls10, tls11, tls12, tls13
    case aes128GCM13, aes256GCM13, chacha13
    case ecdsaAES128, ecdsaChacha, rsaAES128, rsaChacha, ecdsaAES256, rsaAES256
    case x25519, p256, p384, p521
    case sigEcdsaP256, sigEcdsaP384, sigRsaPssSHA256, sigRsaPssSHA384, sigRsaPkcs1SHA256, sigEd25519

    public var name: String {
        switch self {
        case .connectionError: "connection_error"
        case .handshake: "handshake"
        case .sessionReused: "session_reused"
        case .noCertificate: "no_certificate"
        case .failVerifyNoCert: "fail_verify_no_cert"
        case .failVerifyError: "fail_verify_error"
        case .failVerifySan: "fail_verify_san"
        case .failVerifyCertHash: "fail_verify_cert_hash"
        case .ocspStapleRequests: "ocsp_staple_requests"
        case .ocspStapleResponses: "ocsp_staple_responses"
        case .ocspStapleOmitted: "ocsp_staple_omitted"
        case .ocspStapleFailed: "ocsp_staple_failed"
        case .contextUpdateBySDS: "ssl_context_update_by_sds"
        case .upstreamSecretsNotReady: "upstream_context_secrets_not_ready"
        case .downstreamSecretsNotReady: "downstream_context_secrets_not_ready"
        case .tls10: "versions.TLSv1"
        case .tls11: "versions.TLSv1.1"
        case .tls12: "versions.TLSv1.2"
        case .tls13: "versions.TLSv1.3"
        case .aes128GCM13: "ciphers.TLS_AES_128_GCM_SHA256"
        case .aes256GCM13: "ciphers.TLS_AES_256_GCM_SHA384"
        case .chacha13: "ciphers.TLS_CHACHA20_POLY1305_SHA256"
        case .ecdsaAES128: "ciphers.ECDHE-ECDSA-AES128-GCM-SHA256"
        case .ecdsaChacha: "ciphers.ECDHE-ECDSA-CHACHA20-POLY1305"
        case .rsaAES128: "ciphers.ECDHE-RSA-AES128-GCM-SHA256"
        case .rsaChacha: "ciphers.ECDHE-RSA-CHACHA20-POLY1305"
        case .ecdsaAES256: "ciphers.ECDHE-ECDSA-AES256-GCM-SHA384"
        case .rsaAES256: "ciphers.ECDHE-RSA-AES256-GCM-SHA384"
        case .x25519: "curves.X25519"
        case .p256: "curves.P-256"
        case .p384: "curves.P-384"
        case .p521: "curves.P-521"
        case .sigEcdsaP256: "sigalgs.ecdsa_secp256r1_sha256"
        case .sigEcdsaP384: "sigalgs.ecdsa_secp384r1_sha384"
        case .sigRsaPssSHA256: "sigalgs.rsa_pss_rsae_sha256"
        case .sigRsaPssSHA384: "sigalgs.rsa_pss_rsae_sha384"
        case .sigRsaPkcs1SHA256: "sigalgs.rsa_pkcs1_sha256"
        case .sigEd25519: "sigalgs.ed25519"
        }
    }

    public var kind: StatKind {
        rawValue < SSLStat.tls10.rawValue ? .counter : .sparseCounter
    }

    /// The counter of a dynamic name (`versions.TLSv1.3`), if Remora knows it.
    static let byName: [String: SSLStat] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0) })

    static func version(_ name: String) -> SSLStat? { byName["versions." + name] }
    static func cipher(_ name: String) -> SSLStat? { byName["ciphers." + name] }
    static func curve(_ name: String) -> SSLStat? { byName["curves." + name] }
    static func signatureAlgorithm(_ name: String) -> SSLStat? { byName["sigalgs." + name] }

    private var isFactoryStat: Bool { self == .contextUpdateBySDS || self == .upstreamSecretsNotReady || self == .downstreamSecretsNotReady }

    /// The names under a listener's (server) or cluster's (client) prefix:
    /// `ssl.*` and `<role>_ssl_socket_factory.*`. One layout per role.
    private static func layout(_ factoryPrefix: String) -> StatLayout {
        StatLayout(allCases.map { ($0.isFactoryStat ? factoryPrefix + $0.name : "ssl." + $0.name, $0.kind) },
                   listedOnceUsedFrom: connectionError.rawValue)
    }
    private static let serverLayout = layout("server_ssl_socket_factory.")
    private static let clientLayout = layout("client_ssl_socket_factory.")

    /// The `ssl.` and socket-factory stats under a listener's or cluster's
    /// prefix (`listener.127.0.0.1_10000.` → `listener.127.0.0.1_10000.ssl.*`
    /// and `listener.127.0.0.1_10000.server_ssl_socket_factory.*`).
    public static func makeScope(under prefix: String, role: TLSSettings.Role, in store: StatsStore) -> StatScope {
        store.makeScope(prefix: prefix, layout: role == .server ? serverLayout : clientLayout)
    }
}
