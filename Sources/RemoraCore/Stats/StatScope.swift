import Atomics

/// What a stat is; decides how it is merged and printed.
public enum StatKind: Sendable {
    /// Only goes up; threads' slots are summed.
    case counter
    /// A counter that is listed only once it is non-zero, like Envoy's
    /// dynamically created stats (`upstream_rq_503` appears when a 503 does).
    case sparseCounter
    /// Goes up and down; threads' slots are summed (each thread adds and
    /// removes its own share, e.g. its own active connections).
    case gauge
    /// Distribution of samples (milliseconds), in Envoy's default buckets.
    case histogram
}

/// A group of stats under one prefix (`cluster.backend.`), with one row of
/// slots per thread: row 0 for the main thread, row `i` for worker `i`.
///
/// Each thread writes only its own row (relaxed load-and-store, no lock, no
/// read-modify-write bus lock); any thread may read all rows and sum them.
/// That single-writer rule is why the `@unchecked Sendable` is safe.
public final class StatScope: @unchecked Sendable {
    public let prefix: String
    public let names: [String]
    public let kinds: [StatKind]
    public let threadCount: Int
    /// First slot of each stat inside a row.
    let offsets: [Int]
    let rowWidth: Int
    private let storage: UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>

    /// Envoy's default histogram bucket bounds (milliseconds).
    public static let histogramBounds: [Double] = [
        0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
        300000, 600000, 1800000, 3600000,
    ]
    /// A histogram's slots: one per bucket, one overflow bucket, the sample count, the sum.
    static let histogramWidth = histogramBounds.count + 3

    public init(prefix: String, stats: [(String, StatKind)], threadCount: Int) {
        precondition(threadCount >= 1)
        self.prefix = prefix
        self.names = stats.map(\.0)
        self.kinds = stats.map(\.1)
        self.threadCount = threadCount
        var offsets: [Int] = []
        var width = 0
        for (_, kind) in stats {
            offsets.append(width)
            width += kind == .histogram ? Self.histogramWidth : 1
        }
        self.offsets = offsets
        self.rowWidth = width
        let total = max(width * threadCount, 1)
        storage = .allocate(capacity: total)
        storage.initialize(repeating: UnsafeAtomic<Int64>.Storage(0), count: total)
    }

    deinit {
        storage.deinitialize(count: max(rowWidth * threadCount, 1))
        storage.deallocate()
    }

    /// The slots that thread `thread` may write.
    public func slots(thread: Int) -> StatSlots {
        precondition(thread >= 0 && thread < threadCount)
        return StatSlots(scope: self, base: storage + thread * rowWidth)
    }

    /// Sum over threads of one slot.
    func total(slot: Int) -> Int64 {
        var sum: Int64 = 0
        for t in 0..<threadCount {
            sum &+= UnsafeAtomic<Int64>(at: storage + t * rowWidth + slot).load(ordering: .relaxed)
        }
        return sum
    }

    /// Current value of a counter or gauge, summed over threads.
    public func value(_ index: Int) -> Int64 {
        precondition(kinds[index] != .histogram)
        return total(slot: offsets[index])
    }

    public func value(named name: String) -> Int64? {
        guard let i = names.firstIndex(of: name), kinds[i] != .histogram else { return nil }
        return value(i)
    }

    /// Merged histogram (bucket counts, count, sum) over threads.
    public func histogram(_ index: Int) -> HistogramSnapshot {
        precondition(kinds[index] == .histogram)
        let base = offsets[index]
        let buckets = (0...Self.histogramBounds.count).map { total(slot: base + $0) }
        let count = total(slot: base + Self.histogramBounds.count + 1)
        let sum = total(slot: base + Self.histogramBounds.count + 2)
        return HistogramSnapshot(bucketCounts: buckets, count: count, sum: sum)
    }
}

/// One thread's row of a `StatScope`. Cheap to copy; holds its scope alive.
public struct StatSlots: @unchecked Sendable {
    let scope: StatScope
    let base: UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>

    @inline(__always)
    private func add(slot: Int, _ delta: Int64) {
        let atomic = UnsafeAtomic<Int64>(at: base + slot)
        atomic.store(atomic.load(ordering: .relaxed) &+ delta, ordering: .relaxed)
    }

    /// Adds to a counter or gauge.
    @inline(__always)
    public func add(_ index: Int, _ delta: Int64 = 1) {
        add(slot: scope.offsets[index], delta)
    }

    /// Sets this thread's share of a gauge (the main thread's server gauges).
    public func set(_ index: Int, _ value: Int64) {
        UnsafeAtomic<Int64>(at: base + scope.offsets[index]).store(value, ordering: .relaxed)
    }

    /// Records one sample in a histogram.
    public func record(_ index: Int, milliseconds: UInt64) {
        let base = scope.offsets[index]
        let bounds = StatScope.histogramBounds
        let value = Double(milliseconds)
        var bucket = bounds.count
        for (i, bound) in bounds.enumerated() where value <= bound {
            bucket = i
            break
        }
        add(slot: base + bucket, 1)
        add(slot: base + bounds.count + 1, 1)
        add(slot: base + bounds.count + 2, Int64(clamping: milliseconds))
    }
}

/// A histogram merged over threads.
public struct HistogramSnapshot: Sendable, Equatable {
    public let bucketCounts: [Int64]
    public let count: Int64
    public let sum: Int64

    /// Estimated quantile `q` (0...1) by linear interpolation within buckets.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let bounds = StatScope.histogramBounds
        let target = q * Double(count)
        var seen: Double = 0
        for (i, c) in bucketCounts.enumerated() where c > 0 {
            let lower = i == 0 ? 0 : bounds[i - 1]
            let upper = i < bounds.count ? bounds[i] : bounds[bounds.count - 1] * 2
            if seen + Double(c) >= target {
                let fraction = c == 0 ? 0 : (target - seen) / Double(c)
                return lower + (upper - lower) * max(0, min(1, fraction))
            }
            seen += Double(c)
        }
        return bounds.last
    }
}
