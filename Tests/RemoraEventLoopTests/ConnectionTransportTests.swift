import Testing
import RemoraCore
@testable import RemoraEventLoop

/// A stand-in transport: the "handshake" is one byte `H` each way, and
/// every byte after it is XORed with 0x5A on the wire. Enough to see the
/// seam carry bytes both ways, order the handshake event, hold writes made
/// before it, and hold plaintext while reads are stopped.
final class XORTransport: TransportSocket {
    let isClient: Bool
    private var sentHello = false
    private var established = false
    private var waiting: [ByteSlice] = []
    private(set) var closedCount = 0

    init(isClient: Bool) { self.isClient = isClient }

    var securityInfo: SecurityInfo? {
        established ? SecurityInfo(serverName: nil, alpn: "xor", version: "XOR1", cipher: "XOR") : nil
    }

    func start(_ callbacks: any TransportSocketCallbacks) {
        if isClient { hello(callbacks) }
    }

    private func hello(_ callbacks: any TransportSocketCallbacks) {
        guard !sentHello else { return }
        sentHello = true
        callbacks.transportSocketSend(ByteSlice(copying: [UInt8(ascii: "H")]))
    }

    func received(_ bytes: ByteSlice, _ callbacks: any TransportSocketCallbacks) {
        var data = bytes.bytes
        if !established {
            guard data.first == UInt8(ascii: "H") else { callbacks.transportSocketFailed("TLS_error:|bad hello:TLS_error_end"); return }
            data.removeFirst()
            hello(callbacks)
            established = true
            callbacks.transportSocketHandshakeCompleted()
            for slice in waiting { send(slice, callbacks) }
            waiting = []
        }
        // One "record" per byte, so a read holds many deliveries.
        for byte in data { callbacks.transportSocketDeliver(ByteSlice(copying: [byte ^ 0x5A])) }
    }

    func send(_ plaintext: ByteSlice, _ callbacks: any TransportSocketCallbacks) {
        guard established else { waiting.append(plaintext); return }
        callbacks.transportSocketSend(ByteSlice(copying: plaintext.bytes.map { $0 ^ 0x5A }))
    }

    func shutdown(_ callbacks: any TransportSocketCallbacks) {}
    func closed() { closedCount += 1 }
}

final class XORFactory: TransportSocketFactory {
    func makeTransportSocket(pool: BufferPool) -> any TransportSocket { XORTransport(isClient: true) }
}

final class HandshakeRecorder: ConnectionDelegate {
    let inner = RecordingDelegate()
    var handshakes = 0
    var onHandshake: ((Connection) -> Void)?
    func connection(_ connection: Connection, didRead data: ByteSlice) { inner.connection(connection, didRead: data) }
    func connectionDidReadEOF(_ connection: Connection) { inner.connectionDidReadEOF(connection) }
    func connection(_ connection: Connection, didFailWith error: EventLoopError) { inner.connection(connection, didFailWith: error) }
    func connectionDidClose(_ connection: Connection) { inner.connectionDidClose(connection) }
    func connectionDidCompleteHandshake(_ connection: Connection) {
        handshakes += 1
        onHandshake?(connection)
    }
}

/// Accepts on `listener` with the XOR transport and `server` as delegate;
/// `setup` runs before reads start.
func serveXOR(_ listener: Listener, _ server: HandshakeRecorder, setup: @escaping (Connection) -> Void) throws {
    try listener.startAccepting { connection in
        connection.delegate = server
        connection.installTransport(XORTransport(isClient: false))
        setup(connection)
    }
}

@Suite("Connection transport seam")
struct ConnectionTransportTests {
    @Test func bytesCrossTheTransportBothWaysAfterTheHandshake() throws {
        let loop = try EventLoop()
        let listener = try Listener.bind(loop: loop, address: loopbackV4, reusePort: false)
        let server = HandshakeRecorder()
        var serverConnection: Connection?
        try serveXOR(listener, server) { connection in
            serverConnection = connection
            // Written before the handshake: waits in the transport.
            connection.write(Array("early".utf8))
            server.onHandshake = { connection in
                // Stopped right at the handshake: this read's plaintext is held.
                connection.stopReading()
                after(50, on: loop) {
                    #expect(server.inner.received.isEmpty)
                    connection.startReading()
                    #expect(server.inner.received == Array("ping".utf8))
                    connection.write(Array("pong".utf8))
                }
            }
            connection.startReading()
        }
        // A raw client speaks the transport by hand: its hello and its first
        // bytes arrive in one read, so the server's handshake event comes
        // with plaintext behind it in the same read.
        let client = RecordingDelegate()
        var clientConnection: Connection?
        let expected = [UInt8(ascii: "H")] + Array("earlypong".utf8).map { $0 ^ 0x5A }
        Connection.connect(loop: loop, to: listener.boundAddress, timeoutMilliseconds: 2_000) { result in
            guard case .success(let connection) = result else { Issue.record("connect failed: \(result)"); loop.stop(); return }
            clientConnection = connection
            connection.delegate = client
            connection.write([UInt8(ascii: "H")] + Array("ping".utf8).map { $0 ^ 0x5A })
            client.onRead = { _, _ in
                if client.received.count >= expected.count { loop.stop() }
            }
            connection.startReading()
        }
        runLoop(loop)
        #expect(server.handshakes == 1)
        #expect(serverConnection?.securityInfo?.version == "XOR1")
        #expect(client.received == expected)
        _ = clientConnection
    }

    @Test func aConnectWithATransportCompletesAfterItsHandshake() throws {
        let loop = try EventLoop()
        let listener = try Listener.bind(loop: loop, address: loopbackV4, reusePort: false)
        let server = HandshakeRecorder()
        var serverConnection: Connection?
        try serveXOR(listener, server) { connection in
            serverConnection = connection
            server.inner.onRead = { connection, _ in
                if server.inner.received == Array("ping".utf8) { connection.write(Array("pong".utf8)) }
            }
            connection.startReading()
        }
        let client = RecordingDelegate()
        var clientConnection: Connection?
        Connection.connect(loop: loop, to: listener.boundAddress, timeoutMilliseconds: 2_000, transport: XORFactory()) { result in
            guard case .success(let connection) = result else { Issue.record("connect failed: \(result)"); loop.stop(); return }
            #expect(connection.securityInfo?.version == "XOR1")
            clientConnection = connection
            connection.delegate = client
            connection.write(Array("ping".utf8))
            client.onRead = { _, _ in
                if client.received == Array("pong".utf8) { loop.stop() }
            }
            connection.startReading()
        }
        runLoop(loop)
        #expect(client.received == Array("pong".utf8))
        _ = clientConnection
        _ = serverConnection
    }

    @Test func aRefusedHandshakeFailsTheConnect() throws {
        let loop = try EventLoop()
        let listener = try Listener.bind(loop: loop, address: loopbackV4, reusePort: false)
        try listener.startAccepting { connection in
            // Not a transport peer: answers the hello with garbage.
            connection.delegate = RecordingDelegate()
            connection.write(Array("nope".utf8))
            connection.startReading()
        }
        var failure: EventLoopError?
        Connection.connect(loop: loop, to: listener.boundAddress, timeoutMilliseconds: 2_000, transport: XORFactory()) { result in
            if case .failure(let error) = result { failure = error }
            loop.stop()
        }
        runLoop(loop)
        #expect(failure == .transportFailure)
        #expect(failure?.connectFailureReason == "TLS_error:|bad hello:TLS_error_end")
    }

    @Test func aHandshakeThatNeverEndsTimesOut() throws {
        let loop = try EventLoop()
        let listener = try Listener.bind(loop: loop, address: loopbackV4, reusePort: false)
        var accepted: [Connection] = []
        try listener.startAccepting { connection in
            // Never answers.
            accepted.append(connection)
            connection.delegate = RecordingDelegate()
        }
        var failure: EventLoopError?
        Connection.connect(loop: loop, to: listener.boundAddress, timeoutMilliseconds: 200, transport: XORFactory()) { result in
            if case .failure(let error) = result { failure = error }
            loop.stop()
        }
        runLoop(loop)
        #expect(failure == .timedOut)
        #expect(accepted.count == 1)
    }
}
