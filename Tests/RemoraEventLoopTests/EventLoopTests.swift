import Dispatch
import Synchronization
import Testing
import RemoraCore
@testable import RemoraEventLoop
#if canImport(Glibc)
import Glibc
#endif

/// Loop-confined state handed between threads in these tests. Only the loop
/// thread touches `count` / `offLoopRuns`, hence `@unchecked`.
private final class LoopCounter: @unchecked Sendable {
    var count = 0
    var offLoopRuns = 0
}

/// Records when the loop asks it to frame; can ask again from inside.
/// Touched only on the loop thread, hence `@unchecked`.
private final class FramingRecorder: DeferredFraming, @unchecked Sendable {
    let loop: EventLoop
    var log: [String] = []
    var scheduleAgain = false

    init(loop: EventLoop) { self.loop = loop }

    func frameDeferredOutput() {
        log.append("framed")
        if scheduleAgain {
            scheduleAgain = false
            loop.scheduleFraming(self)
        }
    }
}

@Suite("EventLoop")
struct EventLoopTests {
    @Test func framingRunsOnceAfterTheCallbackThatScheduledIt() throws {
        let loop = try EventLoop()
        let owner = FramingRecorder(loop: loop)
        owner.scheduleAgain = true
        loop.execute {
            loop.scheduleFraming(owner)
            // Nothing is framed from inside the callback.
            owner.log.append("callback")
            loop.execute {
                owner.log.append("next callback")
                loop.stop()
            }
        }
        runLoop(loop)
        // Framed at the end of that iteration, before the loop polls again;
        // a framing scheduled while framing runs in the same pass.
        #expect(owner.log == ["callback", "framed", "framed", "next callback"])
    }

    @Test func executeFromOtherThreadsRunsOnTheLoopThread() throws {
        let loop = try EventLoop.startThread(name: "remora-test-loop")
        #expect(!loop.inLoop)
        let counter = LoopCounter()
        let posters = 4
        let perPoster = 1_000
        DispatchQueue.concurrentPerform(iterations: posters) { _ in
            for _ in 0..<perPoster {
                loop.execute {
                    if !loop.inLoop { counter.offLoopRuns += 1 }
                    counter.count += 1
                }
            }
        }
        let done = DispatchSemaphore(value: 0)
        loop.execute { done.signal() }
        #expect(done.wait(timeout: .now() + 5) == .success)
        loop.stop()
        loop.join()
        #expect(counter.count == posters * perPoster)
        #expect(counter.offLoopRuns == 0)
        // Posts after the loop has gone are dropped, not crashed on.
        loop.execute { counter.count += 1 }
        loop.stop()
        #expect(counter.count == posters * perPoster)
    }

    @Test func executePreservesOrderFromOneThread() throws {
        let loop = try EventLoop()
        var seen: [Int] = []
        let order = Mutex<[Int]>([])
        for index in 0..<100 {
            loop.execute { order.withLock { $0.append(index) } }
        }
        loop.execute { loop.stop() }
        runLoop(loop)
        seen = order.withLock { $0 }
        #expect(seen == Array(0..<100))
    }

    @Test func stopClosesEveryHandleOnTheLoop() throws {
        let loop = try EventLoop.startThread(name: "remora-test-stop")
        let closed = DispatchSemaphore(value: 0)
        let ready = DispatchSemaphore(value: 0)
        loop.execute {
            do {
                let listener = try Listener.bind(loop: loop, address: loopbackV4, reusePort: false)
                let server = RecordingDelegate()
                try listener.startAccepting { $0.delegate = server; $0.startReading() }
                let repeating = Timer(loop: loop)
                repeating.start(afterMilliseconds: 1, repeatMilliseconds: 1) {}
                _ = try SignalWatcher(loop: loop, signal: SIGUSR2) {}
                let idle = Timer(loop: loop)
                _ = idle
                Connection.connect(loop: loop, to: listener.boundAddress, timeoutMilliseconds: 1_000) { result in
                    guard case .success(let connection) = result else { return }
                    let client = RecordingDelegate()
                    // The hook keeps the delegate alive until it runs, then lets go.
                    client.onClose = { _ in
                        client.onClose = nil
                        closed.signal()
                    }
                    connection.delegate = client
                    connection.startReading()
                    ready.signal()
                }
            } catch {
                Issue.record("setup failed: \(error)")
                ready.signal()
            }
        }
        #expect(ready.wait(timeout: .now() + 5) == .success)
        loop.stop()
        loop.join()
        #expect(closed.wait(timeout: .now()) == .success)
    }

    @Test func stopBeforeRunReturnsPromptly() throws {
        let loop = try EventLoop()
        loop.stop()
        loop.stop()
        loop.run()
        loop.join()
    }

    @Test func nowAdvancesWithTheLoop() throws {
        let loop = try EventLoop()
        let start = loop.nowMilliseconds
        var elapsed: UInt64 = 0
        after(30, on: loop) {
            elapsed = loop.nowMilliseconds - start
            loop.stop()
        }
        runLoop(loop)
        #expect(elapsed >= 30)
    }

    @Test func unusedLoopIsReleasedCleanly() throws {
        weak var weakLoop: EventLoop?
        do {
            let loop = try EventLoop()
            let timer = Timer(loop: loop)
            timer.close()
            weakLoop = loop
        }
        #expect(weakLoop == nil)
    }
}
