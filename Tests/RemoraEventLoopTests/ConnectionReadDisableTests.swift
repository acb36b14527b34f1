import Testing
import RemoraCore
@testable import RemoraEventLoop

/// `Connection.readDisable` is a counter (Envoy's `readDisable(bool)`): one
/// party's release must not undo another's hold, and the owner's
/// `startReading()` must not undo any hold.
@Suite("Connection read-disable counter")
struct ConnectionReadDisableTests {
    @Test func readsResumeOnlyWhenEveryHoldIsReleased() throws {
        let loop = try EventLoop()
        let listener = try Listener.bind(loop: loop, address: loopbackV4, reusePort: false)
        let server = RecordingDelegate()
        var serverConnection: Connection?
        try listener.startAccepting { connection in
            serverConnection = connection
            connection.delegate = server
            connection.startReading()
            // Two parties hold reads off.
            connection.readDisable(true)
            connection.readDisable(true)
            #expect(!connection.isReading)
            // The owner asking again changes nothing while holds remain.
            connection.startReading()
            #expect(!connection.isReading)
        }
        let client = RecordingDelegate()
        var clientConnection: Connection?
        Connection.connect(loop: loop, to: listener.boundAddress, timeoutMilliseconds: 2_000) { result in
            guard case .success(let connection) = result else { Issue.record("connect failed"); loop.stop(); return }
            clientConnection = connection
            connection.delegate = client
            connection.write(Array("hello".utf8))
            after(100, on: loop) {
                // Held twice: nothing read yet.
                #expect(server.received.isEmpty)
                serverConnection?.readDisable(false)
                after(100, on: loop) {
                    // One hold left: still nothing.
                    #expect(server.received.isEmpty)
                    #expect(serverConnection?.readDisableCount == 1)
                    serverConnection?.readDisable(false)
                    after(100, on: loop) {
                        #expect(server.received == Array("hello".utf8))
                        #expect(serverConnection?.isReading == true)
                        loop.stop()
                    }
                }
            }
        }
        runLoop(loop)
        _ = clientConnection
        #expect(serverConnection != nil)
    }

    @Test func ownerStopWinsOverReleasedHolds() throws {
        let loop = try EventLoop()
        let listener = try Listener.bind(loop: loop, address: loopbackV4, reusePort: false)
        let server = RecordingDelegate()
        var serverConnection: Connection?
        try listener.startAccepting { connection in
            serverConnection = connection
            connection.delegate = server
            connection.readDisable(true)
            connection.stopReading()
            connection.readDisable(false)
            #expect(!connection.isReading)
            #expect(connection.readDisableCount == 0)
            loop.stop()
        }
        var clientConnection: Connection?
        Connection.connect(loop: loop, to: listener.boundAddress, timeoutMilliseconds: 2_000) { result in
            if case .success(let connection) = result { clientConnection = connection }
        }
        runLoop(loop)
        _ = clientConnection
        #expect(serverConnection != nil)
    }
}
