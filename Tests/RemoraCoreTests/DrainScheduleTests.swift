import Testing
@testable import RemoraCore

/// The drain decision each response asks while its connection drains
/// (Envoy's `Network::shouldDrainClose`), with the clock and the random
/// value handed in.
@Suite struct DrainScheduleTests {
    private let start: UInt64 = 1_000_000

    private func schedule(_ seconds: UInt64, _ strategy: DrainStrategy = .gradual) -> DrainSchedule {
        DrainSchedule(startMilliseconds: start, durationSeconds: seconds, strategy: strategy)
    }

    @Test func immediateClosesEveryResponseFromTheStart() {
        let drain = schedule(600, .immediate)
        for random: UInt64 in [0, 1, 599, .max] {
            #expect(drain.closesConnection(atMilliseconds: start, random: random))
            #expect(drain.closesConnection(atMilliseconds: start + 999, random: random))
        }
    }

    @Test func gradualNeverClosesInTheFirstSecond() {
        let drain = schedule(10)
        for random: UInt64 in [0, 1, 5, 9, 10, .max] {
            #expect(!drain.closesConnection(atMilliseconds: start, random: random))
            #expect(!drain.closesConnection(atMilliseconds: start + 999, random: random))
        }
    }

    /// P = elapsed whole seconds / drain time: after k seconds, the random
    /// values below k (modulo the drain time) close.
    @Test func gradualClosesWithAProbabilityRisingOverTheDrainTime() {
        let drain = schedule(10)
        for elapsed: UInt64 in 1..<10 {
            let now = start + elapsed * 1000 + 500
            let closing = (0..<UInt64(10)).filter { drain.closesConnection(atMilliseconds: now, random: $0) }
            #expect(closing == Array(0..<elapsed), "after \(elapsed) s")
            // The random value counts modulo the drain time.
            #expect(drain.closesConnection(atMilliseconds: now, random: 10 * 12345 + elapsed - 1))
            #expect(!drain.closesConnection(atMilliseconds: now, random: 10 * 12345 + elapsed))
        }
    }

    @Test func gradualAlwaysClosesOnceTheDrainTimeIsOver() {
        let drain = schedule(3)
        for random: UInt64 in [0, 2, 3, .max] {
            #expect(drain.closesConnection(atMilliseconds: start + 3000, random: random))
            #expect(drain.closesConnection(atMilliseconds: start + 60_000, random: random))
        }
        #expect(drain.endMilliseconds == start + 3000)
    }

    @Test func aZeroDrainTimeClosesAtOnce() {
        let drain = schedule(0)
        #expect(drain.closesConnection(atMilliseconds: start, random: 7))
    }

    /// A clock read before the drain began (another loop's cached time)
    /// counts as no time elapsed.
    @Test func aClockBeforeTheStartCountsAsTheStart() {
        let drain = schedule(5)
        #expect(!drain.closesConnection(atMilliseconds: start - 2000, random: 0))
    }

    /// Over many draws the share of closing responses follows elapsed / drain time.
    @Test func theShareOfClosingResponsesFollowsTheElapsedTime() {
        let drain = schedule(4)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        for elapsed: UInt64 in 0..<4 {
            let closed = (0..<4000).filter { _ in drain.closesConnection(atMilliseconds: start + elapsed * 1000, random: next()) }.count
            let expected = 4000 * Int(elapsed) / 4
            #expect(abs(closed - expected) < 200, "after \(elapsed) s: \(closed) of 4000")
        }
    }
}
