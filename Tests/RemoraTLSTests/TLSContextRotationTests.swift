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
