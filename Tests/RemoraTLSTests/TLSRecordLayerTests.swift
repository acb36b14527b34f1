import COpenSSL
import Testing
@testable import RemoraCore
@testable import RemoraTLS

/// A TLS 1.3 server session that left OpenSSL after its handshake
/// (`TLSEngine.detachRecordLayer`), talking to an OpenSSL client through
/// plain memory: every record either way is checked by OpenSSL itself.
@Suite struct TLSRecordLayerTests {
    let base = TLSEngineTests()
    let ciphers = TLSRecordCiphers()

    /// A handshaken pair whose server has left OpenSSL.
    func detachedPair(server: TLSSettings? = nil, client: TLSSettings? = nil,
                      configureClient: (OpaquePointer) -> Void = { _ in }) throws -> EnginePair {
        let p = try base.pair(server: server ?? base.serverSettings(), client: client ?? base.clientSettings())
        configureClient(p.client.ssl!)
        let (c, s) = p.pump()
        #expect(c == .established)
        #expect(s == .established)
        #expect(p.server.detachRecordLayer(ciphers: ciphers))
        #expect(p.server.isDetached)
        #expect(p.server.ssl == nil)
        return p
    }

    func send(_ bytes: [UInt8], from: TLSEngine, to: TLSEngine, in p: EnginePair) -> [UInt8] {
        #expect(bytes.withUnsafeBytes { from.write($0) } == nil)
        p.drain(from).withUnsafeBytes { to.feed($0) }
        return p.readAll(to)
    }

    func read(_ engine: TLSEngine) -> TLSEngine.ReadResult {
        var buffer = [UInt8](repeating: 0, count: 1000)
        return buffer.withUnsafeMutableBytes { engine.read(into: $0) }
    }

    @Test func aDetachedServerCarriesDataBothWays() throws {
        let p = try detachedPair()
        #expect(send(Array("ping".utf8), from: p.client, to: p.server, in: p) == Array("ping".utf8))
        // Several full records each way, with the plaintext handed out in 1,000-byte reads.
        let up = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        #expect(send(up, from: p.client, to: p.server, in: p) == up)
        let down = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        #expect(send(down, from: p.server, to: p.client, in: p) == down)
        // The session's and the certificates' facts outlive OpenSSL's session.
        let facts = p.server.securityInfo()
        #expect(facts.serverName == "server.local")
        #expect(facts.alpn == "http/1.1")
        #expect(facts.version == "TLSv1.3")
        #expect(facts.cipher == "TLS_AES_128_GCM_SHA256" || facts.cipher == "TLS_AES_256_GCM_SHA384")
        #expect(facts.peerURISANs == ["spiffe://cluster.local/ns/default/sa/client"])
        #expect(facts.peerCertificateDigest.count == 64)
        #expect(facts.peerSubject == "CN=client,O=Remora tests")
        #expect(facts.localURISANs == ["spiffe://cluster.local/ns/default/sa/server"])
        #expect(p.server.hasPeerCertificate)
        let pems = try #require(p.server.peerCertificatesPEM())
        #expect(pems.leaf.hasPrefix("-----BEGIN CERTIFICATE-----"))
    }

    @Test func aStreamThatNeverEndsOnARecordBoundaryKeepsTheInputBounded() throws {
        let p = try detachedPair()
        let up = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 11) }
        #expect(up.withUnsafeBytes { p.client.write($0) } == nil)
        let wire = p.drain(p.client)
        var received: [UInt8] = []
        var offset = 0
        while offset < wire.count {
            // 1,000-byte reads: a record's tail is always waiting for the next one.
            let end = min(wire.count, offset + 1000)
            wire[offset..<end].withUnsafeBytes { p.server.feed($0) }
            offset = end
            received += p.readAll(p.server)
            #expect(p.server.wire.inputHeld <= 5 + 16384 + 256 + 1000)
        }
        #expect(received == up)
    }

    @Test func recordsSealedStraightIntoABufferOpenAtTheClient() throws {
        let p = try detachedPair()
        var wire: [UInt8] = []
        for size in [0, 1, 1000, TLSEngine.maximumRecordPlaintext] {
            let bytes = [UInt8](repeating: UInt8(size & 0xff), count: size)
            var record = [UInt8](repeating: 0, count: size + TLSEngine.recordOverhead)
            let sealed = bytes.withUnsafeBytes { b in record.withUnsafeMutableBytes { p.server.sealRecord(b, into: $0) } }
            #expect(sealed)
            wire += record
        }
        wire.withUnsafeBytes { p.client.feed($0) }
        #expect(p.readAll(p.client).count == 1 + 1000 + TLSEngine.maximumRecordPlaintext)
        // After close_notify nothing more is sealed.
        p.server.close()
        var record = [UInt8](repeating: 0, count: 1 + TLSEngine.recordOverhead)
        #expect(![UInt8(1)].withUnsafeBytes { b in record.withUnsafeMutableBytes { p.server.sealRecord(b, into: $0) } })
    }

    @Test func everyTLS13SuiteWorks() throws {
        for suite in ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"] {
            let p = try detachedPair { _ = SSL_set_ciphersuites($0, suite) }
            #expect(p.client.cipher == suite)
            #expect(p.server.cipher == suite)
            #expect(p.server.securityInfo().cipher == suite)
            #expect(send(Array("to \(suite)".utf8), from: p.client, to: p.server, in: p) == Array("to \(suite)".utf8))
            #expect(send(Array("from \(suite)".utf8), from: p.server, to: p.client, in: p) == Array("from \(suite)".utf8))
        }
    }

    @Test func theClientsFirstBytesMayComeWithItsFinished() throws {
        let p = try base.pair(server: base.serverSettings(), client: base.clientSettings())
        // The server's first flight reaches the client; its Finished and a request go back together.
        _ = p.client.advance()
        p.drain(p.client).withUnsafeBytes { p.server.feed($0) }
        _ = p.server.advance()
        p.drain(p.server).withUnsafeBytes { p.client.feed($0) }
        #expect(p.client.advance() == .established)
        #expect(Array("GET / HTTP/1.1\r\n\r\n".utf8).withUnsafeBytes { p.client.write($0) } == nil)
        p.drain(p.client).withUnsafeBytes { p.server.feed($0) }
        #expect(p.server.advance() == .established)
        #expect(p.server.detachRecordLayer(ciphers: ciphers))
        #expect(p.readAll(p.server) == Array("GET / HTTP/1.1\r\n\r\n".utf8))
        // The ticket OpenSSL sent is counted: the next record opens at the client.
        #expect(send(Array("HTTP/1.1 200 OK\r\n\r\n".utf8), from: p.server, to: p.client, in: p) == Array("HTTP/1.1 200 OK\r\n\r\n".utf8))
    }

    @Test func withoutTicketsTheServerStartsAtRecordZero() throws {
        var settings = base.serverSettings()
        settings.disableTickets = true
        let p = try detachedPair(server: settings)
        #expect(send(Array("pong".utf8), from: p.server, to: p.client, in: p) == Array("pong".utf8))
    }

    @Test func keyUpdatesBothWays() throws {
        let p = try detachedPair()
        for round in 0..<3 {
            // The client updates its key and asks the server to update its own.
            #expect(SSL_key_update(p.client.ssl!, round == 1 ? SSL_KEY_UPDATE_NOT_REQUESTED : SSL_KEY_UPDATE_REQUESTED) == 1)
            #expect(SSL_do_handshake(p.client.ssl!) == 1)
            #expect(send(Array("after update \(round)".utf8), from: p.client, to: p.server, in: p) == Array("after update \(round)".utf8))
            #expect(send(Array("answer \(round)".utf8), from: p.server, to: p.client, in: p) == Array("answer \(round)".utf8))
        }
    }

    @Test func paddedRecordsAreOpened() throws {
        let p = try detachedPair { _ = SSL_set_block_padding($0, 512) }
        #expect(send(Array("padded".utf8), from: p.client, to: p.server, in: p) == Array("padded".utf8))
    }

    @Test func closeNotifyBothWays() throws {
        let p = try detachedPair()
        p.client.close()
        p.drain(p.client).withUnsafeBytes { p.server.feed($0) }
        #expect(read(p.server) == .closed)

        let q = try detachedPair()
        q.server.close()
        q.drain(q.server).withUnsafeBytes { q.client.feed($0) }
        #expect(read(q.client) == .closed)
        // Nothing is sent after close_notify.
        #expect(Array("late".utf8).withUnsafeBytes { q.server.write($0) } != nil)
    }

    @Test func aTamperedRecordFailsTheSessionWithAnAlert() throws {
        let p = try detachedPair()
        #expect(Array("ping".utf8).withUnsafeBytes { p.client.write($0) } == nil)
        var record = p.drain(p.client)
        record[record.count - 1] ^= 1
        record.withUnsafeBytes { p.server.feed($0) }
        guard case .failed(let failure) = read(p.server) else { Issue.record("tampered record read"); return }
        #expect(failure.reason.contains("DECRYPTION_FAILED_OR_BAD_RECORD_MAC"))
        // The client learns why.
        p.drain(p.server).withUnsafeBytes { p.client.feed($0) }
        guard case .failed(let alert) = read(p.client) else { Issue.record("no alert"); return }
        #expect(alert.reason.contains("BAD_RECORD_MAC"))
    }

    @Test func aPlaintextRecordAfterTheHandshakeIsRefused() throws {
        let p = try detachedPair()
        let plaintext: [UInt8] = [23, 3, 3, 0, 2, 0x41, 0x42]
        plaintext.withUnsafeBytes { p.server.feed($0) }
        guard case .failed = read(p.server) else { Issue.record("short record accepted"); return }
        let q = try detachedPair()
        let handshake: [UInt8] = [22, 3, 3, 0, 4, 24, 0, 0, 1]
        handshake.withUnsafeBytes { q.server.feed($0) }
        guard case .failed = read(q.server) else { Issue.record("plaintext handshake record accepted"); return }
    }

    @Test func tls12StaysWithOpenSSL() throws {
        var client = base.clientSettings()
        client.maximumVersion = .tls12
        let p = try base.pair(server: base.serverSettings(), client: client)
        _ = p.pump()
        #expect(p.server.version == "TLSv1.2")
        #expect(!p.server.detachRecordLayer(ciphers: ciphers))
        #expect(p.server.ssl != nil)
        #expect(send(Array("ping".utf8), from: p.client, to: p.server, in: p) == Array("ping".utf8))
    }

    @Test func aNegotiatedMaximumFragmentLengthStaysWithOpenSSL() throws {
        let p = try base.pair(server: base.serverSettings(), client: base.clientSettings())
        #expect(SSL_set_tlsext_max_fragment_length(p.client.ssl!, UInt8(TLSEXT_max_fragment_length_512)) == 1)
        _ = p.pump()
        #expect(!p.server.detachRecordLayer(ciphers: ciphers))
        let down = [UInt8](repeating: 9, count: 5000)
        #expect(send(down, from: p.server, to: p.client, in: p) == down)
    }

    @Test func aClientStaysWithOpenSSL() throws {
        let p = try base.pair(server: base.serverSettings(), client: base.clientSettings())
        _ = p.pump()
        #expect(!p.client.detachRecordLayer(ciphers: ciphers))
    }
}
