import Testing
@testable import RemoraEventLoop

@Suite struct HeapTrimPolicyTests {
    /// The policy's answers for a run of resident sizes.
    private static func answers(_ policy: inout HeapTrimPolicy, _ readings: [UInt64]) -> [Bool] {
        readings.map { policy.shouldTrim(resident: $0) }
    }

    @Test func trimsOnceGrownPastTheThresholdAboveTheLowWaterMark() {
        var policy = HeapTrimPolicy(threshold: 100)
        // The mark follows the lowest size seen (1000, then 900).
        #expect(Self.answers(&policy, [1000, 1099, 900, 999, 1000]) == [false, false, false, false, true])
        policy.trimmed(resident: 950)
        #expect(Self.answers(&policy, [1000, 1050]) == [false, true])
    }

    @Test func growthThatStaysIsNotTrimmedAgain() {
        var policy = HeapTrimPolicy(threshold: 100)
        #expect(Self.answers(&policy, [1000, 1500]) == [false, true])
        // The trim gave nothing back (all of it is in use): the mark moves up.
        policy.trimmed(resident: 1500)
        #expect(Self.answers(&policy, [1500, 1550]) == [false, false])
    }
}
