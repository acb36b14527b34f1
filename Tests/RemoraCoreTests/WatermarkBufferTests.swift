import Testing
@testable import RemoraCore

@Suite("WatermarkBuffer")
struct WatermarkBufferTests {
    @Test func crossesHighGoingUpAndLowGoingDown() {
        var buffer = WatermarkBuffer(highWatermark: 100)
        #expect(buffer.lowWatermark == 50)
        #expect(buffer.added(100) == .none)  // at the mark is not above it
        #expect(buffer.added(1) == .aboveHigh)
        #expect(buffer.isAboveHigh)
        #expect(buffer.added(500) == .none)  // reported once
        #expect(buffer.drained(500) == .none)
        #expect(buffer.drained(50) == .none)  // 51 left: above low
        #expect(buffer.drained(1) == .belowLow)  // 50 = low
        #expect(!buffer.isAboveHigh)
        #expect(buffer.drained(50) == .none)
        #expect(buffer.bufferedBytes == 0)
    }

    @Test func betweenTheMarksNothingHappens() {
        var buffer = WatermarkBuffer(highWatermark: 100)
        #expect(buffer.added(80) == .none)
        #expect(buffer.drained(60) == .none)  // never went above high
        #expect(buffer.added(80) == .none)
    }

    @Test func zeroDisablesFlowControl() {
        var buffer = WatermarkBuffer(highWatermark: 0)
        #expect(buffer.added(1 << 30) == .none)
        #expect(!buffer.isAboveHigh)
    }

    @Test func changingTheMarkReevaluates() {
        var buffer = WatermarkBuffer(highWatermark: 100)
        #expect(buffer.added(80) == .none)
        #expect(buffer.setHighWatermark(50) == .aboveHigh)
        #expect(buffer.lowWatermark == 25)
        #expect(buffer.setHighWatermark(200) == .belowLow)  // 80 <= 100
        #expect(buffer.added(200) == .aboveHigh)
        #expect(buffer.setHighWatermark(0) == .belowLow)  // disabling releases
    }
}
