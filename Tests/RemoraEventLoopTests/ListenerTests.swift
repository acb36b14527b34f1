import Dispatch
import Testing
import RemoraCore
@testable import RemoraEventLoop
#if canImport(Glibc)
import Glibc
#endif

@Suite("Listener")
struct ListenerTests {
    @Test func portZeroReportsTheRealPort() throws {
        let loop = try EventLoop()
        let listener = try Listener.bind(loop: loop, address: loopbackV4, reusePort: false)
        guard case .v4(let host, let port) = listener.boundAddress else {
            Issue.record("not v4: \(listener.boundAddress)")
            return
        }
        #expect(host == 0x7f00_0001)
        #expect(port != 0)
        listener.stopAccepting()
        listener.stopAccepting()
        #expect(throws: EventLoopError.invalidArgument) { try listener.startAccepting { _ in } }
        loop.stop()
        runLoop(loop)
    }

    @Test func secondBindOfAListeningPortFailsUnlessBothReusePort() throws {
        let loop = try EventLoop()
        let first = try Listener.bind(loop: loop, address: loopbackV4, reusePort: false)
        try first.startAccepting { _ in }
        #expect(throws: EventLoopError.addressInUse) {
            try Listener.bind(loop: loop, address: first.boundAddress, reusePort: false)
        }

        let shared = try Listener.bind(loop: loop, address: loopbackV4, reusePort: true)
        try shared.startAccepting { _ in }
        let twin = try Listener.bind(loop: loop, address: shared.boundAddress, reusePort: true)
        try twin.startAccepting { _ in }
        #expect(twin.boundAddress == shared.boundAddress)
        loop.stop()
        runLoop(loop)
    }

    @Test func staleUnixSocketIsReplacedButOtherFilesAreNot() throws {
        let path = temporarySocketPath("stale")
        // Leave a socket file behind, as a crashed process would.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(fd)
        try #require(bound == 0)
        #expect(access(path, F_OK) == 0)

        let loop = try EventLoop()
        let listener = try Listener.bind(loop: loop, address: .unix(path), reusePort: false)
        #expect(listener.boundAddress == .unix(path))
        listener.stopAccepting()

        let plainPath = temporarySocketPath("plain")
        let file = open(plainPath, O_CREAT | O_WRONLY, 0o600)
        try #require(file >= 0)
        close(file)
        defer { unlink(plainPath) }
        #expect(throws: EventLoopError.addressInUse) {
            try Listener.bind(loop: loop, address: .unix(plainPath), reusePort: false)
        }
        #expect(access(plainPath, F_OK) == 0)
        #expect(throws: EventLoopError.invalidArgument) {
            try Listener.bind(loop: loop, address: .unix("@abstract"), reusePort: false)
        }
        loop.stop()
        runLoop(loop)
        #expect(access(path, F_OK) != 0)
    }

    @Test(arguments: ["tcp", "unix"])
    func adoptedListenerAcceptsFromTheSameSocket(kind: String) throws {
        let loop = try EventLoop()
        let address: SocketAddress = kind == "tcp" ? loopbackV4 : .unix(temporarySocketPath("adopt"))
        let original = try Listener.bind(loop: loop, address: address, reusePort: false)
        let adopted = try Listener.adopt(loop: loop, duplicating: original)
        #expect(adopted.boundAddress == original.boundAddress)
        var acceptedByAdopted = 0
        try adopted.startAccepting { connection in
            acceptedByAdopted += 1
            connection.close()
            loop.stop()
        }
        // Listening through the duplicate alone is enough.
        Connection.connect(loop: loop, to: original.boundAddress, timeoutMilliseconds: 2_000) { result in
            if case .failure(let error) = result {
                Issue.record("connect failed: \(error)")
                loop.stop()
            }
        }
        runLoop(loop)
        #expect(acceptedByAdopted == 1)
    }

    @Test func sharedUnixListenerServesAnotherLoop() throws {
        let path = temporarySocketPath("share")
        let main = try EventLoop()
        let worker = try EventLoop.startThread(name: "remora-test-wk")
        defer {
            worker.stop()
            worker.join()
        }
        let listener = try Listener.bind(loop: main, address: .unix(path), reusePort: false)
        let share = try listener.makeShare()
        let adopted = DispatchSemaphore(value: 0)
        worker.execute {
            do {
                let workerListener = try Listener.adopt(loop: worker, duplicating: share)
                // Owned by the accept callback, which the listener drops when it closes.
                var delegates: [RecordingDelegate] = []
                try workerListener.startAccepting { connection in
                    // Greet from the worker's loop.
                    connection.write(Array("hi from worker".utf8))
                    connection.shutdownWrite()
                    connection.startReading()
                    let delegate = RecordingDelegate()
                    delegate.onEOF = { $0.close() }
                    delegate.onError = { connection, _ in connection.close() }
                    connection.delegate = delegate
                    delegates.append(delegate)
                }
            } catch {
                Issue.record("adopt failed: \(error)")
            }
            adopted.signal()
        }
        #expect(adopted.wait(timeout: .now() + 5) == .success)

        let client = RecordingDelegate()
        client.onEOF = { connection in
            connection.close()
            main.stop()
        }
        Connection.connect(loop: main, to: .unix(path), timeoutMilliseconds: 2_000) { result in
            guard case .success(let connection) = result else {
                Issue.record("connect failed")
                main.stop()
                return
            }
            connection.delegate = client
            connection.startReading()
        }
        runLoop(main)
        #expect(client.received == Array("hi from worker".utf8))
    }
}
