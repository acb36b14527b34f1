import Testing
@testable import RemoraConfig

/// The TLS formatter commands Envoy 1.40 knows, on each side.
@Suite struct TLSFactTests {
    @Test func commandsNameASideAndAFact() {
        #expect(TLSFact.command("DOWNSTREAM_PEER_URI_SAN")! == (.downstream, .peerURISAN))
        #expect(TLSFact.command("UPSTREAM_PEER_URI_SAN")! == (.upstream, .peerURISAN))
        #expect(TLSFact.command("UPSTREAM_PEER_CERT")! == (.upstream, .peerCert))
        #expect(TLSFact.command("DOWNSTREAM_PEER_CERT_V_END")! == (.downstream, .peerCertValidTo))
        #expect(TLSFact.command("UPSTREAM_TLS_CIPHER")! == (.upstream, .cipher))
        #expect(TLSFact.command("DOWNSTREAM_PEER_IP_SAN")! == (.downstream, .peerIPSAN))
        #expect(TLSFact.command("UPSTREAM_LOCAL_IP_SAN")! == (.upstream, .localIPSAN))
        #expect(TLSFact.command("DOWNSTREAM_LOCAL_EMAIL_SAN")! == (.downstream, .localEmailSAN))
        #expect(TLSFact.command("DOWNSTREAM_TLS_SESSION_ID")! == (.downstream, .sessionID))
        #expect(TLSFact.command("UPSTREAM_TLS_SESSION_ID")! == (.upstream, .sessionID))
        #expect(TLSFact.command("UPSTREAM_TLS_GROUP")! == (.upstream, .group))
        #expect(TLSFact.command("DOWNSTREAM_TLS_GROUP")! == (.downstream, .group))
        #expect(TLSFact.command("DOWNSTREAM_PEER_OTHERNAME_SAN")! == (.downstream, .peerOtherNameSAN))
        #expect(TLSFact.command("DOWNSTREAM_LOCAL_OTHERNAME_SAN")! == (.downstream, .localOtherNameSAN))
        #expect(TLSFact.command("DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256")! == (.downstream, .peerChainFingerprints256))
        #expect(TLSFact.command("DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_1")! == (.downstream, .peerChainFingerprints1))
        #expect(TLSFact.command("DOWNSTREAM_PEER_CHAIN_SERIALS")! == (.downstream, .peerChainSerials))
        #expect(TLSFact.command("DOWNSTREAM_PEER_ISSUER_FINGERPRINT_256")! == (.downstream, .peerIssuerFingerprint256))
        #expect(TLSFact.command("DOWNSTREAM_PEER_ISSUER_SERIAL")! == (.downstream, .peerIssuerSerial))
    }

    @Test func upstreamHasNoSerialFingerprintLocalSubjectEmailOrOtherNameSANOrChain() {
        for name in ["UPSTREAM_PEER_SERIAL", "UPSTREAM_PEER_FINGERPRINT_256", "UPSTREAM_PEER_FINGERPRINT_1",
                     "UPSTREAM_LOCAL_SUBJECT", "UPSTREAM_PEER_EMAIL_SAN", "UPSTREAM_LOCAL_EMAIL_SAN", "UPSTREAM_HOST",
                     "PEER_URI_SAN", "UPSTREAM_PEER_OTHERNAME_SAN", "UPSTREAM_LOCAL_OTHERNAME_SAN",
                     "UPSTREAM_PEER_CHAIN_SERIALS", "UPSTREAM_PEER_ISSUER_SERIAL"] {
            #expect(TLSFact.command(name) == nil, "\(name)")
        }
    }

    @Test func accessLogsAndHeaderValuesParseThem() throws {
        let segments = try AccessLogFormat.parseText("%UPSTREAM_TLS_VERSION%|%DOWNSTREAM_PEER_CERT%")
        #expect(AccessLogFormat(body: .text(segments)).operators == [.tls(.upstream, .version), .tls(.downstream, .peerCert)])
        let value = try HeaderValueTemplate.parse("id=%DOWNSTREAM_PEER_URI_SAN%", at: "v")
        #expect(value.segments == [.literal("id="), .variable(.tls(.downstream, .peerURISAN))])
    }
}
