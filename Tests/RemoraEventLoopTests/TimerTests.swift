import Testing
import RemoraCore
@testable import RemoraEventLoop
#if canImport(Glibc)
import Glibc
#endif

private func monotonicMilliseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000 + UInt64(now.tv_nsec) / 1_000_000
}

@Suite("Timer")
struct TimerTests {
    @Test func oneShotFiresOnceAfterItsDelay() throws {
        let loop = try EventLoop()
        let start = loop.nowMilliseconds
        var fired: [UInt64] = []
        let timer = Timer(loop: loop)
        timer.start(afterMilliseconds: 20) { fired.append(loop.nowMilliseconds - start) }
        #expect(timer.isActive)
        after(100, on: loop) { loop.stop() }
        runLoop(loop)
        #expect(fired.count == 1)
        #expect((fired.first ?? 0) >= 20)
        #expect(!timer.isActive)
    }

    @Test func timerStartedBeforeRunCountsFromItsStart() throws {
        let loop = try EventLoop()
        // Time passes between making the loop and starting the timer.
        usleep(150_000)
        let started = monotonicMilliseconds()
        var elapsed: UInt64 = 0
        Timer(loop: loop).start(afterMilliseconds: 50) {
            elapsed = monotonicMilliseconds() - started
            loop.stop()
        }
        runLoop(loop)
        #expect(elapsed >= 49)
    }

    @Test func repeatingTimerFiresUntilStopped() throws {
        let loop = try EventLoop()
        var count = 0
        let timer = Timer(loop: loop)
        timer.start(afterMilliseconds: 1, repeatMilliseconds: 5) {
            count += 1
            if count == 5 {
                timer.stop()
                after(30, on: loop) { loop.stop() }
            }
        }
        runLoop(loop)
        #expect(count == 5)
    }

    @Test func fireAndForgetTimerKeepsItselfAlive() throws {
        let loop = try EventLoop()
        var fired = false
        Timer(loop: loop).start(afterMilliseconds: 5) {
            fired = true
            loop.stop()
        }
        runLoop(loop)
        #expect(fired)
    }

    @Test func stoppedOrClosedTimersDoNotFire() throws {
        let loop = try EventLoop()
        var fired = 0
        let stopped = Timer(loop: loop)
        stopped.start(afterMilliseconds: 5) { fired += 1 }
        stopped.stop()
        let closed = Timer(loop: loop)
        closed.start(afterMilliseconds: 5) { fired += 1 }
        closed.close()
        closed.close()
        closed.start(afterMilliseconds: 1) { fired += 1 }
        after(50, on: loop) { loop.stop() }
        runLoop(loop)
        #expect(fired == 0)
        #expect(!closed.isActive)
    }

    @Test func restartReplacesTheCallback() throws {
        let loop = try EventLoop()
        var which: [String] = []
        let timer = Timer(loop: loop)
        timer.start(afterMilliseconds: 5) { which.append("first") }
        timer.start(afterMilliseconds: 10) {
            which.append("second")
            loop.stop()
        }
        runLoop(loop)
        #expect(which == ["second"])
    }

    @Test func droppedIdleTimerIsReleased() throws {
        let loop = try EventLoop()
        weak var weakTimer: Timer?
        do {
            let timer = Timer(loop: loop)
            timer.start(afterMilliseconds: 1_000) {}
            timer.stop()
            weakTimer = timer
        }
        #expect(weakTimer == nil)
        loop.stop()
        runLoop(loop)
    }
}

@Suite("Timer restarts without libuv")
struct TimerDisarmTests {
    @Test func disarmedTimerDoesNotFire() throws {
        let loop = try EventLoop()
        var fired = 0
        let timer = Timer(loop: loop)
        timer.start(afterMilliseconds: 5) { fired += 1 }
        timer.disarm()
        #expect(!timer.isActive)
        after(50, on: loop) { loop.stop() }
        runLoop(loop)
        #expect(fired == 0)
    }

    /// A later deadline reuses the pending libuv timer: it fires early,
    /// sets itself again, and the callback runs at the new deadline.
    @Test func restartForALaterDeadlineFiresAtTheNewDeadline() throws {
        let loop = try EventLoop()
        let timer = Timer(loop: loop)
        var firedAt: [UInt64] = []
        var started: UInt64 = 0
        timer.start(afterMilliseconds: 10) { firedAt.append(0) }
        timer.disarm()
        after(2, on: loop) {
            started = loop.nowMilliseconds
            timer.start(afterMilliseconds: 60) {
                firedAt.append(loop.nowMilliseconds - started)
                loop.stop()
            }
        }
        runLoop(loop)
        #expect(firedAt.count == 1)
        #expect((firedAt.first ?? 0) >= 60)
    }

    /// An earlier deadline than the pending one sets libuv again.
    @Test func restartForAnEarlierDeadlineFiresEarly() throws {
        let loop = try EventLoop()
        let timer = Timer(loop: loop)
        var fired: [String] = []
        timer.start(afterMilliseconds: 5_000) { fired.append("late") }
        timer.disarm()
        let started = monotonicMilliseconds()
        var elapsed: UInt64 = 0
        timer.start(afterMilliseconds: 10) {
            fired.append("early")
            elapsed = monotonicMilliseconds() - started
            loop.stop()
        }
        runLoop(loop)
        #expect(fired == ["early"])
        #expect(elapsed < 1_000)
    }

    @Test func repeatingTimerKeepsItsInterval() throws {
        let loop = try EventLoop()
        let timer = Timer(loop: loop)
        var count = 0
        timer.start(afterMilliseconds: 1, repeatMilliseconds: 3) {
            count += 1
            if count == 4 { timer.disarm(); after(20, on: loop) { loop.stop() } }
        }
        runLoop(loop)
        #expect(count == 4)
    }
}
