import Testing
import RemoraCore
@testable import RemoraEventLoop

/// Envoy's connection buffer gauges (`*_cx_rx_bytes_buffered`,
/// `*_cx_tx_bytes_buffered`) as a `Connection` keeps them.
@Suite("Connection buffer gauges")
struct ConnectionBufferStatsTests {
    @Test func readGaugeHoldsTheLastReadAndWriteGaugeWhatIsQueuedUntilClose() throws {
        let loop = try EventLoop()
        let scope = StatScope(prefix: "t.", stats: [("rx", .gauge), ("tx", .gauge)], threadCount: 1)
        let rx = { scope.value(0) }
        let tx = { scope.value(1) }
        let listener = try Listener.bind(loop: loop, address: loopbackV4, reusePort: false)
        var server: Connection?
        let serverDelegate = RecordingDelegate()
        serverDelegate.keepBytes = false
        try listener.startAccepting { connection in
            server = connection
            connection.delegate = serverDelegate
            connection.write([1, 2, 3, 4, 5])
        }
        let client = RecordingDelegate()
        var readSizes: [Int64] = []
        var queuedWhileStalled: Int64 = 0
        let chunk = ByteSlice(copying: pattern(count: 64 << 10))
        client.onRead = { connection, data in
            readSizes.append(rx())
            guard readSizes.count == 1 else { return }
            // The peer reads nothing yet: writes queue past what the
            // socket buffers take.
            for _ in 0..<256 { connection.write(chunk) }
            after(100, on: loop) {
                queuedWhileStalled = tx()
                server?.write([6, 6, 6, 6, 6, 6, 6])
                after(100, on: loop) {
                    connection.close()
                    loop.stop()
                }
            }
        }
        connectOrStop(loop, to: listener.boundAddress) { connection in
            connection.delegate = client
            connection.bufferGauges = ConnectionBufferGauges(scope.slots(thread: 0), rx: 0, tx: 1)
            connection.startReading()
        }
        runLoop(loop)
        #expect(readSizes == [5, 7])
        #expect(queuedWhileStalled > 0)
        #expect(rx() == 0 && tx() == 0)
    }
}
