import Testing
@testable import RemoraCore
@testable import RemoraTLS

/// A context replaced (an SDS rotation): sessions made after use the new
/// certificate, sessions made before keep theirs, a bad replacement changes nothing.
@Suite struct TLSContextRotationTests {
    let pki = TestPKI.shared

    func server(_ certificate: String, key: String? = nil) -> TLSSettings {
        var settings = TLSSettings(role: .server)
        settings.certificateChainPEM = pki.pem("\(certificate).crt")
        settings.privateKeyPEM = pki.pem("\(key ?? certificate).key")
        return settings
    }

    func session(_ server: TLSContext) throws -> EnginePair {
        var client = TLSSettings(role: .client)
        client.maximumVersion = .tls13
        let pair = EnginePair(client: TLSEngine(context: try TLSContext(client)), server: TLSEngine(context: server))
        let (c, s) = pair.pump()
        #expect(c == .established)
        #expect(s == .established)
        return pair
    }

    @Test func newSessionsUseTheReplacementAndOldOnesKeepTheirs() throws {
        let context = try TLSContext(server("server"))
        let before = try session(context)
        #expect(before.client.securityInfo().peerURISANs == ["spiffe://cluster.local/ns/default/sa/server"])

        try context.replace(with: server("client"))
        let after = try session(context)
        #expect(after.client.securityInfo().peerURISANs == ["spiffe://cluster.local/ns/default/sa/client"])

        // The session made before still carries data.
        #expect(Array("ping".utf8).withUnsafeBytes { before.client.write($0) } == nil)
        before.drain(before.client).withUnsafeBytes { before.server.feed($0) }
        #expect(before.readAll(before.server) == Array("ping".utf8))
        #expect(before.server.securityInfo().localURISANs == ["spiffe://cluster.local/ns/default/sa/server"])
    }

    @Test func aBadReplacementChangesNothing() throws {
        let context = try TLSContext(server("server"))
        #expect(throws: TLSConfigError.self) { try context.replace(with: server("server", key: "client")) }
        #expect(try session(context).client.securityInfo().peerURISANs == ["spiffe://cluster.local/ns/default/sa/server"])
    }
}

/// A server context with several certificates picks one per ClientHello.
@Suite struct CertificateSelectionTests {
    let pki = TestPKI.shared

    func served(server: TLSContext, client: TLSSettings, serverName: String?) throws -> String {
        let pair = EnginePair(client: TLSEngine(context: try TLSContext(client), serverName: serverName),
                              server: TLSEngine(context: server))
        let (c, s) = pair.pump()
        #expect(c == .established)
        #expect(s == .established)
        return pair.client.peerSignatureAlgorithm ?? ""
    }

    @Test func ecdsaWhenTheClientCanRSAOtherwise() throws {
        var settings = TLSSettings(role: .server)
        settings.certificateChainPEM = pki.pem("server-rsa.crt")
        settings.privateKeyPEM = pki.pem("server-rsa.key")
        settings.additionalCertificates = [CertificatePEM(chain: pki.pem("server.crt"), key: pki.pem("server.key"))]
        let server = try TLSContext(settings)
        var modern = TLSSettings(role: .client)
        modern.maximumVersion = .tls13
        #expect(try served(server: server, client: modern, serverName: "server.local").hasPrefix("ecdsa"))
        var rsaOnly = TLSSettings(role: .client)
        rsaOnly.maximumVersion = .tls12
        rsaOnly.cipherSuites = ["ECDHE-RSA-AES128-GCM-SHA256"]
        #expect(try served(server: server, client: rsaOnly, serverName: "server.local").hasPrefix("rsa"))
    }

    @Test func aKeyThatDoesNotMatchNamesItsEntry() {
        var settings = TLSSettings(role: .server)
        settings.certificateChainPEM = pki.pem("server.crt")
        settings.privateKeyPEM = pki.pem("server.key")
        settings.additionalCertificates = [CertificatePEM(chain: pki.pem("server-rsa.crt"), key: pki.pem("server.key"))]
        #expect { try TLSContext(settings) } throws: { ($0 as? TLSConfigError)?.field == "common_tls_context.tls_certificates[1].private_key" }
    }
}
