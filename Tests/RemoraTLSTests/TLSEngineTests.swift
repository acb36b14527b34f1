import Testing
@testable import RemoraCore
@testable import RemoraTLS

/// Accepts a certificate when one of its URI SANs is exactly `uri`.
struct ExactURI: SubjectAltNameMatcher {
    let uri: String
    func matches(_ names: SubjectAltNames) -> Bool { names.uris.contains(uri) }
}

/// Two engines exchanging records through plain memory: no sockets, no loop.
struct EnginePair {
    let client: TLSEngine
    let server: TLSEngine

    /// Moves records both ways until neither side has anything to send;
    /// returns each side's last handshake progress.
    func pump() -> (client: TLSEngine.Progress, server: TLSEngine.Progress) {
        var c = client.advance()
        var s = server.advance()
        for _ in 0..<20 {
            let toServer = drain(client)
            let toClient = drain(server)
            if toServer.isEmpty && toClient.isEmpty { break }
            toServer.withUnsafeBytes { server.feed($0) }
            if server.state == .handshaking { s = server.advance() }
            toClient.withUnsafeBytes { client.feed($0) }
            if client.state == .handshaking { c = client.advance() }
        }
        return (c, s)
    }

    func drain(_ engine: TLSEngine) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while engine.pendingOutput > 0 {
            let n = buffer.withUnsafeMutableBytes { engine.takeOutput(into: $0) }
            out += buffer[0..<n]
        }
        return out
    }

    func readAll(_ engine: TLSEngine) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1000)
        while case .bytes(let n) = buffer.withUnsafeMutableBytes({ engine.read(into: $0) }) { out += buffer[0..<n] }
        return out
    }
}

@Suite struct TLSEngineTests {
    let pki = TestPKI.shared

    func serverSettings(certificate: String = "server", trust: Bool = true, require: Bool = true,
                        san: String? = "spiffe://cluster.local/ns/default/sa/client") -> TLSSettings {
        var settings = TLSSettings(role: .server)
        settings.certificateChainPEM = pki.pem("\(certificate).crt")
        settings.privateKeyPEM = pki.pem("\(certificate).key")
        if trust { settings.trustedCAPEM = pki.pem("mesh-ca.crt") }
        settings.requireClientCertificate = require
        if let san { settings.subjectAltNameMatchers = [ExactURI(uri: san)] }
        settings.alpnProtocols = ["h2", "http/1.1"]
        return settings
    }

    func clientSettings(certificate: String? = "client", san: String = "spiffe://cluster.local/ns/default/sa/server") -> TLSSettings {
        var settings = TLSSettings(role: .client)
        if let certificate {
            settings.certificateChainPEM = pki.pem("\(certificate).crt")
            settings.privateKeyPEM = pki.pem("\(certificate).key")
        }
        settings.trustedCAPEM = pki.pem("mesh-ca.crt")
        settings.subjectAltNameMatchers = [ExactURI(uri: san)]
        settings.alpnProtocols = ["http/1.1"]
        settings.serverName = "server.local"
        settings.maximumVersion = .tls13
        return settings
    }

    func pair(server: TLSSettings, client: TLSSettings) throws -> EnginePair {
        let c = try TLSContext(client)
        return EnginePair(client: TLSEngine(context: c, serverName: client.serverName), server: TLSEngine(context: try TLSContext(server)))
    }

    @Test func mutualTLSCarriesDataBothWaysWithTheFacts() throws {
        let p = try pair(server: serverSettings(), client: clientSettings())
        let (c, s) = p.pump()
        #expect(c == .established)
        #expect(s == .established)
        #expect(Array("ping".utf8).withUnsafeBytes { p.client.write($0) } == nil)
        p.drain(p.client).withUnsafeBytes { p.server.feed($0) }
        #expect(p.readAll(p.server) == Array("ping".utf8))
        let big = [UInt8](repeating: 7, count: 100_000)
        #expect(big.withUnsafeBytes { p.server.write($0) } == nil)
        p.drain(p.server).withUnsafeBytes { p.client.feed($0) }
        #expect(p.readAll(p.client) == big)

        let server = p.server.securityInfo()
        #expect(server.serverName == "server.local")
        #expect(server.alpn == "http/1.1")
        #expect(server.version == "TLSv1.3")
        #expect(server.cipher.hasPrefix("TLS_"))
        #expect(server.peerURISANs == ["spiffe://cluster.local/ns/default/sa/client"])
        #expect(server.peerCertificateDigest.count == 64)
        #expect(server.peerSubject == "CN=client,O=Remora tests")
        #expect(server.localURISANs == ["spiffe://cluster.local/ns/default/sa/server"])
        let client = p.client.securityInfo()
        #expect(client.peerDNSSANs == ["server.local"])
        #expect(p.client.peerSignatureAlgorithm == "ecdsa_secp256r1_sha256")
    }

    @Test func closeNotifyEndsTheSession() throws {
        let p = try pair(server: serverSettings(), client: clientSettings())
        _ = p.pump()
        p.client.close()
        p.drain(p.client).withUnsafeBytes { p.server.feed($0) }
        var buffer = [UInt8](repeating: 0, count: 100)
        #expect(buffer.withUnsafeMutableBytes { p.server.read(into: $0) } == .closed)
    }

    @Test func aServerWithoutTheClientCertificateItRequiresRefusesIt() throws {
        let p = try pair(server: serverSettings(), client: clientSettings(certificate: nil))
        let (_, s) = p.pump()
        guard case .failed(let failure) = s else { Issue.record("server accepted: \(s)"); return }
        #expect(p.server.verifyFailure == .noCertificate)
        #expect(failure.reason.hasPrefix("TLS_error:|"))
        #expect(failure.reason.hasSuffix(":TLS_error_end"))
    }

    @Test func aCertificateFromAForeignCAIsRefused() throws {
        let p = try pair(server: serverSettings(), client: clientSettings(certificate: "foreign"))
        let (_, s) = p.pump()
        guard case .failed = s else { Issue.record("server accepted: \(s)"); return }
        if case .chain = p.server.verifyFailure {} else { Issue.record("verify failure: \(String(describing: p.server.verifyFailure))") }
    }

    @Test func aWrongSANIsRefusedOnBothSides() throws {
        let p = try pair(server: serverSettings(san: "spiffe://cluster.local/ns/default/sa/someone-else"), client: clientSettings())
        let (_, s) = p.pump()
        guard case .failed = s else { Issue.record("server accepted: \(s)"); return }
        #expect(p.server.verifyFailure == .subjectAltName)

        let q = try pair(server: serverSettings(), client: clientSettings(san: "spiffe://cluster.local/ns/default/sa/not-the-server"))
        let (c, _) = q.pump()
        guard case .failed(let failure) = c else { Issue.record("client accepted: \(c)"); return }
        #expect(q.client.verifyFailure == .subjectAltName)
        #expect(failure.reason.contains("CERTIFICATE_VERIFY_FAILED"))
    }

    @Test func versionBoundsAndRSAWork() throws {
        var server = serverSettings(certificate: "server-rsa", trust: false, require: false, san: nil)
        server.maximumVersion = .tls12
        var client = clientSettings(certificate: nil)
        client.subjectAltNameMatchers = []
        let p = try pair(server: server, client: client)
        let (c, s) = p.pump()
        #expect(c == .established && s == .established)
        #expect(p.server.securityInfo().version == "TLSv1.2")
        #expect(p.server.securityInfo().cipher == "ECDHE-RSA-AES128-GCM-SHA256" || p.server.securityInfo().cipher.hasPrefix("ECDHE-RSA"))
        #expect(!p.server.hasPeerCertificate)

        var old = clientSettings(certificate: nil)
        old.minimumVersion = .tls13
        old.maximumVersion = .tls13
        let q = try pair(server: server, client: old)
        let (c2, _) = q.pump()
        guard case .failed = c2 else { Issue.record("a TLS 1.3-only client met a TLS 1.2-only server: \(c2)"); return }
    }

    @Test func clientsStopAtTLS12UnlessTold() throws {
        var client = clientSettings(certificate: nil)
        client.maximumVersion = nil
        let p = try pair(server: serverSettings(require: false), client: client)
        let (c, s) = p.pump()
        #expect(c == .established && s == .established)
        #expect(p.client.securityInfo().version == "TLSv1.2")
    }

    @Test func garbageFailsTheHandshake() throws {
        let server = TLSEngine(context: try TLSContext(serverSettings()))
        Array("GET / HTTP/1.1\r\n\r\n".utf8).withUnsafeBytes { server.feed($0) }
        guard case .failed = server.advance() else { Issue.record("garbage accepted"); return }
        #expect(server.verifyFailure == nil)
    }

    @Test func badConfigurationIsRefusedWithItsField() {
        var settings = serverSettings()
        settings.cipherSuites = ["NOT-A-CIPHER"]
        #expect(throws: TLSConfigError.self) { try TLSContext(settings) }
        do { _ = try TLSContext(settings) } catch { #expect(error.field == "common_tls_context.tls_params.cipher_suites") }
        settings = serverSettings()
        settings.privateKeyPEM = pki.pem("client.key")
        do { _ = try TLSContext(settings); Issue.record("mismatched key accepted") } catch {
            #expect(error.field == "common_tls_context.tls_certificates[0].private_key")
        }
        settings = serverSettings()
        settings.ecdhCurves = ["P-999"]
        do { _ = try TLSContext(settings); Issue.record("bad curve accepted") } catch {
            #expect(error.field == "common_tls_context.tls_params.ecdh_curves")
        }
    }

    @Test func ipv6Text() {
        #expect(RemoraAddressText.ipv6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]) == "::1")
        #expect(RemoraAddressText.ipv6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]) == "2001:db8::1")
    }
}
