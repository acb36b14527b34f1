import Testing
@testable import RemoraCore
@testable import RemoraTLS

/// The facts behind Envoy's newer TLS formatter commands: otherName SANs,
/// the key-exchange group, the peer's chain, and a client's session id.
@Suite struct TLSEngineFactsTests {
    let engines = TLSEngineTests()

    func established(_ pair: EnginePair) -> Bool {
        let (client, server) = pair.pump()
        return client == .established && server == .established
    }

    @Test func otherNameSANsPrintAsEnvoyDoes() throws {
        var server = engines.serverSettings(san: nil)
        server.requireClientCertificate = true
        let p = try engines.pair(server: server, client: engines.clientSettings(certificate: "upn"))
        #expect(established(p))
        let facts = p.server.securityInfo()
        #expect(facts.peerOtherNameSANs == ["alice@example.com", "256", "true", "1.2.840.113549"])
        #expect(facts.peerURISANs == ["spiffe://cluster.local/ns/default/sa/client"])
        #expect(p.client.securityInfo().localOtherNameSANs == facts.peerOtherNameSANs)
        #expect(facts.group == "X25519")
    }

    @Test func theChainIsTheOneSentAndTheIssuerTheVerifiedOne() throws {
        let p = try engines.pair(server: engines.serverSettings(), client: engines.clientSettings())
        #expect(established(p))
        let chain = try #require(p.server.peerCertificateChainFacts())
        let leaf = p.server.securityInfo()
        // The client sends its configured chain, its leaf alone (as
        // BoringSSL: nothing added from the trust store); the issuer is the
        // CA of the chain the verification built.
        #expect(chain.fingerprintsSHA256 == [leaf.peerCertificateDigest])
        #expect(chain.fingerprintsSHA1 == [leaf.peerFingerprintSHA1])
        #expect(chain.serials == [leaf.peerSerial])
        #expect(chain.issuerFingerprintSHA256.count == 64 && chain.issuerFingerprintSHA256 != leaf.peerCertificateDigest)
        #expect(!chain.issuerSerial.isEmpty && chain.issuerSerial != leaf.peerSerial)

        // A client that verifies nothing: the server's chain, no issuer.
        var client = engines.clientSettings()
        client.trustedCAPEM = nil
        client.subjectAltNameMatchers = []
        let unverified = try engines.pair(server: engines.serverSettings(), client: client)
        #expect(established(unverified))
        let facts = try #require(unverified.client.peerCertificateChainFacts())
        #expect(facts.fingerprintsSHA256 == [unverified.client.securityInfo().peerCertificateDigest])
        #expect(facts.issuerFingerprintSHA256.isEmpty && facts.issuerSerial.isEmpty)
    }

    @Test func aClientSessionIdOnTLS12OnlyAndKeptOnResumption() throws {
        var client = engines.clientSettings()
        client.maximumVersion = .tls12
        // No SNI: the server does not acknowledge one, so a session would keep no name to be offered under.
        client.serverName = nil
        let clientContext = try TLSContext(client)
        let serverContext = try TLSContext(engines.serverSettings())
        let first = EnginePair(client: TLSEngine(context: clientContext), server: TLSEngine(context: serverContext))
        #expect(established(first))
        let id = first.client.securityInfo().sessionID
        // A ticket's session: the SHA-256 of the ticket, as BoringSSL names it.
        #expect(id.count == 64)
        let second = EnginePair(client: TLSEngine(context: clientContext), server: TLSEngine(context: serverContext))
        #expect(established(second))
        #expect(second.client.sessionReused)
        #expect(second.client.securityInfo().sessionID == id)

        let tls13 = try engines.pair(server: engines.serverSettings(), client: engines.clientSettings())
        #expect(established(tls13))
        #expect(tls13.client.securityInfo().sessionID == "")
    }

    @Test func certificateNamesAndExpiriesLineUp() throws {
        var settings = engines.serverSettings()
        settings.certificateNames = ["workload"]
        settings.trustedCAName = "ca"
        let context = try TLSContext(settings)
        let expiries = context.current.expiries
        #expect(expiries.map(\.name) == ["workload", "ca"])
        #expect(expiries.allSatisfy { $0.notAfter > 1_700_000_000 })
        #expect(Certificate.sha256Hex([]).prefix(8) == "e3b0c442")
        #expect(Certificate.dottedObjectIdentifier("msUPN") == "1.3.6.1.4.1.311.20.2.3")
        #expect(Certificate.dottedObjectIdentifier("1.2.3.4") == "1.2.3.4")
        #expect(Certificate.dottedObjectIdentifier("bogus") == nil)
        #expect(Certificate.dottedObjectIdentifier("") == nil)
    }
}
