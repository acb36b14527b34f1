/// The facts about a secured connection that filters and logs read.
///
/// The facts live in one shared, copy-on-write box: a connection that
/// never asks for them pays one pointer for the slot that would cache
/// them, not the ~270 bytes of strings and arrays, and handing them to a
/// request's stream info or an access log is one retain. Read and write
/// the fields as properties (`info.peerURISANs`), as before.
@dynamicMemberLookup
public struct SecurityInfo: Sendable, Equatable {
    /// The fields, stored in the box.
    public struct Fields: Sendable, Equatable {
        /// The SNI the client sent (server side) or asked for (client side).
        public var serverName: String?
        /// The protocol ALPN settled on, if any (`h2`, `http/1.1`).
        public var alpn: String?
        /// `TLSv1.2`, `TLSv1.3`.
        public var version: String
        /// `TLS_AES_128_GCM_SHA256`, `ECDHE-ECDSA-AES128-GCM-SHA256`.
        public var cipher: String
        /// The peer certificate's URI SANs (SPIFFE identities), DNS SANs,
        /// SHA-256 digest (lowercase hex) and subject (RFC 2253); empty without one.
        public var peerURISANs: [String] = []
        public var peerDNSSANs: [String] = []
        /// The peer certificate's IP SANs (dotted quad, RFC 5952 IPv6) and email SANs.
        public var peerIPSANs: [String] = []
        public var peerEmailSANs: [String] = []
        public var peerCertificateDigest: String = ""
        public var peerSubject: String = ""
        /// The peer certificate's issuer (RFC 2253), serial (lowercase hex, as
        /// Envoy prints it), SHA-1 digest and validity (seconds since the epoch).
        public var peerIssuer: String = ""
        public var peerSerial: String = ""
        public var peerFingerprintSHA1: String = ""
        public var peerValidFromSeconds: Int64 = 0
        public var peerValidToSeconds: Int64 = 0
        /// Our own certificate's URI and DNS SANs and subject.
        public var localURISANs: [String] = []
        public var localDNSSANs: [String] = []
        public var localIPSANs: [String] = []
        /// The TLS session's id, lowercase hex, as Envoy (BoringSSL) has one; empty without.
        public var sessionID: String = ""
        public var localEmailSANs: [String] = []
        public var localSubject: String = ""
        /// The otherName SANs' values (peer's and ours), as Envoy prints them.
        public var peerOtherNameSANs: [String] = []
        public var localOtherNameSANs: [String] = []
        /// The key-exchange group (`X25519`, `P-256`); empty if unknown.
        public var group: String = ""

        public init(serverName: String?, alpn: String?, version: String, cipher: String) {
            self.serverName = serverName
            self.alpn = alpn
            self.version = version
            self.cipher = cipher
        }
    }

    /// Written only through `subscript(dynamicMember:)`'s setter, after
    /// `isKnownUniquelyReferenced` proved this value its only holder, so a
    /// box two values (or two threads) share is never mutated.
    @usableFromInline
    final class Storage: @unchecked Sendable {
        @usableFromInline var fields: Fields

        @usableFromInline init(_ fields: Fields) {
            self.fields = fields
        }
    }

    @usableFromInline var storage: Storage

    public init(serverName: String?, alpn: String?, version: String, cipher: String) {
        storage = Storage(Fields(serverName: serverName, alpn: alpn, version: version, cipher: cipher))
    }

    /// Facts filled in as a whole (one box, no copy-on-write checks per field).
    public init(_ fields: Fields) {
        storage = Storage(fields)
    }

    // Inlinable, so that callers in other modules read and write a field
    // directly rather than through a key path at run time.
    @inlinable
    public subscript<Value>(dynamicMember field: WritableKeyPath<Fields, Value>) -> Value {
        get { storage.fields[keyPath: field] }
        set {
            if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
            storage.fields[keyPath: field] = newValue
        }
    }

    public var hasPeerCertificate: Bool { !storage.fields.peerCertificateDigest.isEmpty }

    public static func == (lhs: SecurityInfo, rhs: SecurityInfo) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.fields == rhs.storage.fields
    }
}

/// What the peer's certificate chain says beyond its leaf, made on demand
/// (digests of every certificate cost more than a log line that never asks):
/// Envoy's `%DOWNSTREAM_PEER_CHAIN_*%` and `%DOWNSTREAM_PEER_ISSUER_*%`.
public struct PeerCertificateChainFacts: Sendable, Equatable {
    /// Each certificate the peer sent, leaf first: SHA-256 and SHA-1
    /// digests (lowercase hex) and serials (lowercase hex, as Envoy prints them).
    public var fingerprintsSHA256: [String] = []
    public var fingerprintsSHA1: [String] = []
    public var serials: [String] = []
    /// The leaf's issuer in the chain the verification built (empty when
    /// the chain was not verified against a trusted CA).
    public var issuerFingerprintSHA256: String = ""
    public var issuerSerial: String = ""

    public init() {}
}
