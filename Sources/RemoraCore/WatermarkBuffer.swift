/// Counts the bytes waiting to be written on one side of a connection and
/// reports when that count crosses its high watermark (going up) or falls
/// back to its low watermark or under (going down), so the owner can pause and
/// resume reading on the other side. A pure state machine: no I/O.
///
/// As in Envoy, a high watermark of 0 disables flow control, and the low
/// watermark is half the high one.
public struct WatermarkBuffer: Sendable {
    public enum Transition: Equatable, Sendable {
        case none
        case aboveHigh
        case belowLow
    }

    public private(set) var bufferedBytes = 0
    public private(set) var highWatermark: Int
    public private(set) var lowWatermark: Int
    public private(set) var isAboveHigh = false

    public init(highWatermark: Int) {
        precondition(highWatermark >= 0)
        self.highWatermark = highWatermark
        self.lowWatermark = highWatermark / 2
    }

    /// Bytes were queued for writing.
    public mutating func added(_ count: Int) -> Transition {
        bufferedBytes += count
        return check()
    }

    /// Bytes were written out (or dropped).
    public mutating func drained(_ count: Int) -> Transition {
        precondition(count <= bufferedBytes, "drained more than was buffered")
        bufferedBytes -= count
        return check()
    }

    public mutating func setHighWatermark(_ high: Int) -> Transition {
        precondition(high >= 0)
        highWatermark = high
        lowWatermark = high / 2
        return check()
    }

    private mutating func check() -> Transition {
        guard highWatermark > 0 else {
            if isAboveHigh { isAboveHigh = false; return .belowLow }
            return .none
        }
        if !isAboveHigh && bufferedBytes > highWatermark {
            isAboveHigh = true
            return .aboveHigh
        }
        if isAboveHigh && bufferedBytes <= lowWatermark {
            isAboveHigh = false
            return .belowLow
        }
        return .none
    }
}
