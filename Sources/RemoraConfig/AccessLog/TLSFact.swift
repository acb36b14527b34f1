/// Which connection of a stream a TLS formatter command reads.
public enum TLSSide: Sendable, Equatable {
    case downstream, upstream
}

/// A fact about a stream's TLS connection that access logs and header
/// values print: `%DOWNSTREAM_PEER_URI_SAN%`, `%UPSTREAM_TLS_VERSION%`, …
/// (Envoy 1.40's `StreamInfo*SslConnectionInfoFormatterProvider` commands).
public enum TLSFact: Sendable, Equatable {
    case peerURISAN, peerDNSSAN, localURISAN, localDNSSAN
    case peerIPSAN, localIPSAN, peerEmailSAN, localEmailSAN
    case peerSubject, localSubject, peerIssuer, peerSerial
    case peerFingerprint256, peerFingerprint1
    case peerOtherNameSAN, localOtherNameSAN
    case version, cipher, sessionID, group
    case peerCertValidFrom, peerCertValidTo
    /// Every certificate the peer sent, leaf first, comma-separated.
    case peerChainFingerprints256, peerChainFingerprints1, peerChainSerials
    /// The leaf's issuer in the verified chain.
    case peerIssuerFingerprint256, peerIssuerSerial
    /// The peer's leaf certificate, PEM, URL-encoded.
    case peerCert

    /// Command names after `DOWNSTREAM_` / `UPSTREAM_`.
    private static let suffixes: [String: TLSFact] = [
        "PEER_URI_SAN": .peerURISAN, "PEER_DNS_SAN": .peerDNSSAN, "LOCAL_URI_SAN": .localURISAN,
        "LOCAL_DNS_SAN": .localDNSSAN, "PEER_IP_SAN": .peerIPSAN, "LOCAL_IP_SAN": .localIPSAN,
        "PEER_EMAIL_SAN": .peerEmailSAN, "LOCAL_EMAIL_SAN": .localEmailSAN, "PEER_SUBJECT": .peerSubject, "LOCAL_SUBJECT": .localSubject,
        "PEER_ISSUER": .peerIssuer, "PEER_SERIAL": .peerSerial, "PEER_FINGERPRINT_256": .peerFingerprint256,
        "PEER_FINGERPRINT_1": .peerFingerprint1, "TLS_VERSION": .version, "TLS_CIPHER": .cipher,
        "TLS_SESSION_ID": .sessionID, "TLS_GROUP": .group,
        "PEER_OTHERNAME_SAN": .peerOtherNameSAN, "LOCAL_OTHERNAME_SAN": .localOtherNameSAN,
        "PEER_CERT_V_START": .peerCertValidFrom, "PEER_CERT_V_END": .peerCertValidTo, "PEER_CERT": .peerCert,
        "PEER_CHAIN_FINGERPRINTS_256": .peerChainFingerprints256, "PEER_CHAIN_FINGERPRINTS_1": .peerChainFingerprints1,
        "PEER_CHAIN_SERIALS": .peerChainSerials, "PEER_ISSUER_FINGERPRINT_256": .peerIssuerFingerprint256,
        "PEER_ISSUER_SERIAL": .peerIssuerSerial,
    ]
    /// Envoy 1.40 has no `UPSTREAM_` form of these.
    private static let notUpstream: [TLSFact] = [.peerSerial, .peerFingerprint256, .peerFingerprint1, .localSubject,
                                                 .peerEmailSAN, .localEmailSAN, .peerOtherNameSAN, .localOtherNameSAN,
                                                 .peerChainFingerprints256, .peerChainFingerprints1, .peerChainSerials,
                                                 .peerIssuerFingerprint256, .peerIssuerSerial]

    /// The side and fact a command names, or nil for another command.
    public static func command(_ name: String) -> (TLSSide, TLSFact)? {
        let side: TLSSide
        let rest: Substring
        if name.hasPrefix("DOWNSTREAM_") {
            side = .downstream
            rest = name.dropFirst("DOWNSTREAM_".count)
        } else if name.hasPrefix("UPSTREAM_") {
            side = .upstream
            rest = name.dropFirst("UPSTREAM_".count)
        } else {
            return nil
        }
        guard let fact = suffixes[String(rest)], side == .downstream || !notUpstream.contains(fact) else { return nil }
        return (side, fact)
    }
}
