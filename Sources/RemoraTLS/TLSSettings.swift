import RemoraCore

/// A TLS protocol version, as Envoy's `TlsParameters.TlsProtocol` names them.
public enum TLSVersion: Int, Sendable, Comparable {
    case tls10 = 1, tls11, tls12, tls13

    public static func < (lhs: TLSVersion, rhs: TLSVersion) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The peer identities a context accepts: Envoy's
/// `match_typed_subject_alt_names`, compiled by RemoraConfig (which owns the
/// string matchers and RE2). Any one matcher accepting any one SAN of its
/// type accepts the certificate.
public protocol SubjectAltNameMatcher: Sendable {
    func matches(_ names: SubjectAltNames) -> Bool
}

/// The SANs of one certificate, by type.
public struct SubjectAltNames: Sendable, Equatable {
    public var uris: [String] = []
    public var dnsNames: [String] = []
    /// Textual IPv4/IPv6 addresses (`10.0.0.1`, `::1`).
    public var ipAddresses: [String] = []
    public var emails: [String] = []
    /// otherName SANs, in certificate order.
    public var otherNames: [OtherName] = []

    /// An otherName SAN: its type (dotted OID) and its value as Envoy
    /// prints it (strings as their text, integers in decimal, …).
    public struct OtherName: Sendable, Equatable {
        public var oid: String
        public var value: String

        public init(oid: String, value: String) {
            self.oid = oid
            self.value = value
        }
    }

    public init(uris: [String] = [], dnsNames: [String] = [], ipAddresses: [String] = [], emails: [String] = [],
                otherNames: [OtherName] = []) {
        self.uris = uris
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
        self.emails = emails
        self.otherNames = otherNames
    }
}

/// Everything one `DownstreamTlsContext` or `UpstreamTlsContext` says, as
/// plain values (PEM bytes already read from files). `TLSContext` builds
/// the OpenSSL context from it once, at config time.
public struct TLSSettings: Sendable {
    public enum Role: Sendable { case server, client }

    public var role: Role
    /// `tls_certificates[0]`: the PEM chain (leaf first) and its key.
    public var certificateChainPEM: [UInt8]?
    public var privateKeyPEM: [UInt8]?
    /// The passphrase of an encrypted `privateKeyPEM` (`password`).
    public var privateKeyPassword: String?
    /// `tls_certificates[1...]` (server): chosen per connection by SNI and
    /// key type (`CertificateSelector`); the first stays the default.
    public var additionalCertificates: [CertificatePEM] = []
    /// `validation_context.trusted_ca`: PEM bundle; nil means the peer's
    /// chain is not verified (Envoy's default).
    public var trustedCAPEM: [UInt8]?
    /// `validation_context.crl`: PEM CRLs checked against the peer's chain
    /// (every certificate, or the leaf only with `only_verify_leaf_cert_crl`).
    public var revocationListPEM: [UInt8]?
    public var onlyLeafRevocation = false
    public var subjectAltNameMatchers: [any SubjectAltNameMatcher] = []
    /// `verify_certificate_hash` (SHA-256 of the peer's certificate) and
    /// `verify_certificate_spki` (SHA-256 of its SubjectPublicKeyInfo), as
    /// 32-byte digests: when either is given, the peer must match one.
    public var certificateHashes: [[UInt8]] = []
    public var spkiHashes: [[UInt8]] = []
    /// Whether the peer's certificate is pinned by hash or SPKI.
    public var pinsCertificate: Bool { !certificateHashes.isEmpty || !spkiHashes.isEmpty }
    /// `tls_params`; nil for Envoy's defaults (TLS 1.2 to 1.3).
    public var minimumVersion: TLSVersion?
    public var maximumVersion: TLSVersion?
    /// TLS 1.2 cipher suites (OpenSSL names); empty for Envoy's default list.
    public var cipherSuites: [String] = []
    /// Key-exchange groups (`X25519`, `P-256`); empty for Envoy's default.
    public var ecdhCurves: [String] = []
    /// `alpn_protocols`, in preference order.
    public var alpnProtocols: [String] = []
    /// `tls_certificates[i].ocsp_staple` (server): each certificate's DER
    /// OCSP response, nil for none; and `ocsp_staple_policy`.
    public var ocspStaples: [[UInt8]?] = []
    public var ocspStaplePolicy = OCSPStaplePolicy.lenient
    /// `require_client_certificate` (server).
    public var requireClientCertificate = false
    /// `session_ticket_keys` (server): 80 bytes each, the first encrypts, all
    /// decrypt. Empty: OpenSSL's random keys, one set per context.
    public var sessionTicketKeys: [[UInt8]] = []
    /// `disable_stateless_session_resumption` (no tickets) and
    /// `disable_stateful_session_resumption` (no session cache) (server).
    public var disableTickets = false
    public var disableSessionCache = false
    /// `session_timeout` in seconds (server); nil for OpenSSL's default.
    public var sessionTimeoutSeconds: UInt64?
    /// `sni` (client).
    public var serverName: String?
    /// `auto_sni_san_validation` (client): the server's DNS SANs must name
    /// the SNI sent, in place of `match_typed_subject_alt_names`.
    public var autoSNISANValidation = false
    /// `auto_host_sni` (client): the cluster sends each host's hostname as
    /// the SNI (read by the cluster, which makes the session options).
    public var autoHostSNI = false
    /// An SDS secret this context reads has not arrived: every handshake is
    /// refused until it does (Envoy's "secrets not ready").
    public var waitingForSecrets = false
    /// `allow_renegotiation` (client): follow a server's TLS 1.2
    /// renegotiation; without it the connection fails, as BoringSSL's.
    public var allowRenegotiation = false
    /// The names Envoy gives the certificates in its
    /// `ssl.certificate.<name>.expiration_unix_time_seconds` gauges: one per
    /// `tls_certificates` entry (or SDS secret), and the trusted CA's.
    public var certificateNames: [String] = []
    public var trustedCAName: String?
    /// Where each chain (first, then `additionalCertificates`) and the
    /// trusted CA were read from: the file's path, or `<inline>` (Envoy's
    /// `/certs` `path`).
    public var certificatePaths: [String] = []
    public var trustedCAPath: String?
    /// `max_session_keys` (client; Envoy's default 1, 0 turns resumption off).
    public var maxSessionKeys = 1
    /// What else tells this context's sessions apart from another's with
    /// the same certificate and CA (the config's own bytes); server only.
    public var sessionContext: [UInt8] = []

    public init(role: Role) {
        self.role = role
    }

    /// Envoy's default TLS 1.2 suites (BoringSSL's equal-preference groups
    /// flattened: OpenSSL has no `[a|b]` syntax).
    public static let defaultCipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    ]
    /// Envoy's default `ecdh_curves`.
    public static let defaultCurves = ["X25519", "P-256"]
}

/// A context the TLS library would not build: a bad certificate, key,
/// CA bundle, cipher or curve. `field` is the path inside the TLS context
/// (`common_tls_context.tls_params.cipher_suites`).
public struct TLSConfigError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let field: String

    public init(_ message: String, field: String) {
        self.message = message
        self.field = field
    }

    public var description: String { "\(field): \(message)" }
}
