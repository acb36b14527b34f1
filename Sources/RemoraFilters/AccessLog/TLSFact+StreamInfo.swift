import RemoraConfig
import RemoraCore

extension TLSFact {
    /// The fact as Envoy 1.40 prints it, from what `info` recorded of
    /// `side`'s connection; nil when there is nothing to print (plaintext,
    /// no peer certificate, no SAN of that kind), which an access log shows
    /// as `-` and a header value as nothing.
    func text(in info: StreamInfo, _ side: TLSSide) -> String? {
        guard let security = side == .downstream ? info.downstreamSecurity : info.upstreamSecurity else { return nil }
        switch self {
        case .peerURISAN: return joined(security.peerURISANs)
        case .peerDNSSAN: return joined(security.peerDNSSANs)
        case .localURISAN: return joined(security.localURISANs)
        case .localDNSSAN: return joined(security.localDNSSANs)
        case .peerIPSAN: return joined(security.peerIPSANs)
        case .localIPSAN: return joined(security.localIPSANs)
        case .peerEmailSAN: return joined(security.peerEmailSANs)
        case .localEmailSAN: return joined(security.localEmailSANs)
        case .peerSubject: return nonEmpty(security.peerSubject)
        case .localSubject: return nonEmpty(security.localSubject)
        case .peerIssuer: return nonEmpty(security.peerIssuer)
        case .peerSerial: return nonEmpty(security.peerSerial)
        case .peerFingerprint256: return nonEmpty(security.peerCertificateDigest)
        case .peerFingerprint1: return nonEmpty(security.peerFingerprintSHA1)
        case .version: return nonEmpty(security.version)
        case .cipher: return nonEmpty(security.cipher)
        case .sessionID: return nonEmpty(security.sessionID)
        case .group: return nonEmpty(security.group)
        case .peerOtherNameSAN: return joined(security.peerOtherNameSANs)
        case .localOtherNameSAN: return joined(security.localOtherNameSANs)
        case .peerChainFingerprints256, .peerChainFingerprints1, .peerChainSerials, .peerIssuerFingerprint256, .peerIssuerSerial:
            let connection = side == .downstream ? info.downstreamConnection : info.upstreamConnection
            guard let chain = connection?.peerCertificateChainFacts() else { return nil }
            switch self {
            case .peerChainFingerprints256: return joined(chain.fingerprintsSHA256)
            case .peerChainFingerprints1: return joined(chain.fingerprintsSHA1)
            case .peerChainSerials: return joined(chain.serials)
            case .peerIssuerFingerprint256: return nonEmpty(chain.issuerFingerprintSHA256)
            default: return nonEmpty(chain.issuerSerial)
            }
        case .peerCertValidFrom, .peerCertValidTo:
            guard security.hasPeerCertificate else { return nil }
            // Envoy's default date format, as %START_TIME%'s (whole seconds: .000).
            var out: [UInt8] = []
            StartTimeFormat.appendDefaultSeconds(
                seconds: Int(self == .peerCertValidFrom ? security.peerValidFromSeconds : security.peerValidToSeconds), to: &out)
            StartTimeFormat.appendDefaultFraction(nanoseconds: 0, to: &out)
            return String(decoding: out, as: UTF8.self)
        case .peerCert:
            // Envoy's `urlEncodedPemEncodedPeerCertificate`: the leaf only.
            let connection = side == .downstream ? info.downstreamConnection : info.upstreamConnection
            guard let pem = connection?.peerCertificatesPEM()?.leaf, !pem.isEmpty else { return nil }
            return RequestHeaderPolicy.urlEncoded(pem)
        }
    }
}

/// SANs as Envoy prints them (comma-separated), nil for none.
private func joined(_ values: [String]) -> String? {
    values.isEmpty ? nil : values.joined(separator: ",")
}

private func nonEmpty(_ value: String) -> String? {
    value.isEmpty ? nil : value
}
