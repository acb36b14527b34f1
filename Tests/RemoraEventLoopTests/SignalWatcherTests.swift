import Testing
@testable import RemoraEventLoop
#if canImport(Glibc)
import Glibc
#endif

@Suite("SignalWatcher")
struct SignalWatcherTests {
    @Test func handlerRunsOnTheLoop() throws {
        let loop = try EventLoop()
        var received = 0
        let watcher = try SignalWatcher(loop: loop, signal: SIGUSR1) {
            received += 1
            #expect(loop.inLoop)
            loop.stop()
        }
        after(5, on: loop) { _ = kill(getpid(), SIGUSR1) }
        runLoop(loop)
        #expect(received == 1)
        watcher.close()
    }
}
