import Atomics
import Synchronization

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

/// Sees every histogram sample as it is recorded, on the recording thread
/// (Envoy's `Sink::onHistogramComplete`, which its statsd sink uses).
public protocol HistogramSampleSink: AnyObject, Sendable {
    func record(scope: StatScope, index: Int, milliseconds: UInt64)
}

/// A group of stats under one prefix (`cluster.backend.`), with one row of
/// slots per thread: row 0 for the main thread, row `i` for worker `i`.
///
/// Each thread writes only its own row (relaxed load-and-store, no lock, no
/// read-modify-write bus lock); any thread may read all rows and sum them.
/// A histogram's bin chunks are allocated and written by their row's thread
/// only and published with release ordering. The flushed histogram
/// snapshots are touched by the main thread only. Those single-writer rules
/// are why the `@unchecked Sendable` is safe.
public final class StatScope: @unchecked Sendable {
    public let prefix: String
    public let names: [String]
    public let kinds: [StatKind]
    public let threadCount: Int
    /// First slot of each stat inside a row (for a lazy stat: its place
    /// in the lazy region).
    let offsets: [Int]
    let rowWidth: Int
    /// Index of the first stat kept in lazy chunks (`Int.max`: none).
    let lazyStart: Int
    /// The row slot of the first lazy chunk's pointer.
    let lazyChunkSlot: Int
    /// Lazy stats in the scope.
    let lazyCount: Int
    private let storage: UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>

    /// A histogram's slots in a row: one chunk pointer per decade
    /// (`HistogramBinning`), allocated by the owning thread on its first
    /// sample there. No sum: Envoy's is computed from the bins.
    static let histogramWidth = HistogramBinning.chunkCount

    /// Told of every histogram sample on the recording thread (a statsd
    /// sink), or nil.
    public let sampleSink: (any HistogramSampleSink)?

    /// Scopes Envoy creates on first use (the `http2.*` codec stats appear
    /// with the first HTTP/2 connection): not listed until `markUsed()`.
    public let listedOnceUsed: Bool
    private let usedFlag = UnsafeAtomic<Bool>.create(false)
    /// Envoy's text readouts under this prefix (`version_text`), set by the
    /// main thread; nil until the first one.
    private let texts = Mutex<[String: String]?>(nil)

    /// Sets (or declares, with "") a text readout `prefix + name`.
    public func setText(_ name: String, _ value: String) {
        texts.withLock { texts in
            if texts == nil { texts = [:] }
            texts![name] = value
        }
    }

    /// The scope's text readouts by name (without the prefix).
    public var textReadouts: [String: String] { texts.withLock { $0 ?? [:] } }

    /// Lists the scope from now on (any thread; one relaxed load when already set).
    public func markUsed() {
        if !usedFlag.load(ordering: .relaxed) { usedFlag.store(true, ordering: .relaxed) }
    }

    public var isListed: Bool { !listedOnceUsed || usedFlag.load(ordering: .relaxed) }

    /// How many of the scope's stats are listed now: all, or (before
    /// `markUsed()`) those before the layout's `listedOnceUsedFrom`.
    public var listedCount: Int {
        listedOnceUsedFrom < names.count && !usedFlag.load(ordering: .relaxed) ? listedOnceUsedFrom : names.count
    }

    /// The stats from this index on are listed once `markUsed()` was
    /// called (the layout's; `Int.max`: none).
    let listedOnceUsedFrom: Int
    /// Per stat: a histogram whose row slot points to its chunk pointers
    /// (the layout's `indirectHistograms`).
    let indirect: [Bool]

    /// What the last stats flush saw of each histogram (main thread only).
    private var flushed: [Int: (cumulative: HistogramData, interval: HistogramData)] = [:]

    /// Histograms listed only once a sample was recorded (Envoy creates
    /// them on first use, e.g. `cluster.<name>.upstream_rq_time`).
    public let onFirstUseHistograms: Set<Int>

    public convenience init(prefix: String, stats: [(String, StatKind)], threadCount: Int, sampleSink: (any HistogramSampleSink)? = nil,
                            listedOnceUsed: Bool = false, onFirstUse: Set<String> = []) {
        self.init(prefix: prefix, layout: StatLayout(stats), threadCount: threadCount, sampleSink: sampleSink,
                  listedOnceUsed: listedOnceUsed, onFirstUse: onFirstUse)
    }

    /// A scope over a layout that other scopes may share: their names,
    /// kinds and offsets are one copy (1,000 clusters' scopes would
    /// otherwise each hold a thousand names).
    public init(prefix: String, layout: StatLayout, threadCount: Int, sampleSink: (any HistogramSampleSink)? = nil,
                listedOnceUsed: Bool = false, onFirstUse: Set<String> = []) {
        precondition(threadCount >= 1)
        self.listedOnceUsed = listedOnceUsed
        self.sampleSink = sampleSink
        self.onFirstUseHistograms = onFirstUse.isEmpty ? [] : Set(layout.kinds.indices.filter {
            layout.kinds[$0] == .histogram && onFirstUse.contains(layout.names[$0])
        })
        self.prefix = prefix
        self.names = layout.names
        self.kinds = layout.kinds
        self.threadCount = threadCount
        self.offsets = layout.offsets
        self.rowWidth = layout.rowWidth
        self.lazyStart = layout.lazyStart
        self.lazyChunkSlot = layout.lazyChunkSlot
        self.lazyCount = layout.lazyCount
        self.listedOnceUsedFrom = layout.listedOnceUsedFrom
        self.indirect = layout.indirect
        let total = max(layout.rowWidth * threadCount, 1)
        storage = .allocate(capacity: total)
        storage.initialize(repeating: UnsafeAtomic<Int64>.Storage(0), count: total)
    }

    deinit {
        usedFlag.destroy()
        for (i, kind) in kinds.enumerated() where kind == .histogram {
            for t in 0..<threadCount {
                guard let base = chunkPointers(row: storage + t * rowWidth, i) else { continue }
                for chunk in 0..<HistogramBinning.chunkCount {
                    let slot = UnsafeAtomic<Int64>(at: base + chunk)
                    if let bins = Self.chunk(slot.load(ordering: .acquiring)) {
                        bins.deinitialize(count: HistogramBinning.chunkSize(chunk))
                        bins.deallocate()
                    }
                }
                if indirect[i] {
                    base.deinitialize(count: HistogramBinning.chunkCount)
                    base.deallocate()
                }
            }
        }
        for t in 0..<threadCount {
            for chunk in 0..<StatLayout.lazyChunks(lazyCount) {
                let slot = UnsafeAtomic<Int64>(at: storage + t * rowWidth + lazyChunkSlot + chunk)
                if let block = Self.chunk(slot.load(ordering: .acquiring)) {
                    block.deinitialize(count: StatLayout.lazyChunkSize(chunk, of: lazyCount))
                    block.deallocate()
                }
            }
        }
        storage.deinitialize(count: max(rowWidth * threadCount, 1))
        storage.deallocate()
    }

    /// Where histogram `index`'s decade-chunk pointers are for the row at
    /// `row`: in the row, or for an indirect one in the block its row slot
    /// points to (nil until that thread's first sample made it).
    @inline(__always)
    func chunkPointers(row: UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>,
                       _ index: Int) -> UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>? {
        let slot = row + offsets[index]
        guard indirect[index] else { return slot }
        return Self.chunk(UnsafeAtomic<Int64>(at: slot).load(ordering: .acquiring))
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
        return index >= lazyStart ? lazyTotal(index) : total(slot: offsets[index])
    }

    /// When `index` is the first stat of a lazy chunk that no thread has
    /// counted into and that holds sparse counters only (none is listed),
    /// the index after the chunk; otherwise nil. Lets a reader skip a
    /// cluster's ~1,000 per-code counters a hundred at a time.
    func unlistedLazyChunkEnd(from index: Int) -> Int? {
        guard index >= lazyStart else { return nil }
        let (chunk, slot) = (index - lazyStart).quotientAndRemainder(dividingBy: StatLayout.lazyChunkCapacity)
        guard slot == 0 else { return nil }
        for t in 0..<threadCount {
            let pointer = UnsafeAtomic<Int64>(at: storage + t * rowWidth + lazyChunkSlot + chunk)
            if Self.chunk(pointer.load(ordering: .acquiring)) != nil { return nil }
        }
        let end = index + StatLayout.lazyChunkSize(chunk, of: lazyCount)
        return kinds[index..<end].allSatisfy { $0 == .sparseCounter } ? end : nil
    }

    /// Sum over threads of a lazy counter: rows whose chunk was never
    /// allocated count 0.
    private func lazyTotal(_ index: Int) -> Int64 {
        let (chunk, slot) = offsets[index].quotientAndRemainder(dividingBy: StatLayout.lazyChunkCapacity)
        var sum: Int64 = 0
        for t in 0..<threadCount {
            let pointer = UnsafeAtomic<Int64>(at: storage + t * rowWidth + lazyChunkSlot + chunk)
            guard let block = Self.chunk(pointer.load(ordering: .acquiring)) else { continue }
            sum &+= UnsafeAtomic<Int64>(at: block + slot).load(ordering: .relaxed)
        }
        return sum
    }

    /// Envoy's `used()` of a gauge: some thread has set or changed it
    /// (even back to 0). Counters are used once non-zero.
    public func isUsed(_ index: Int) -> Bool {
        switch kinds[index] {
        case .gauge: return (0..<threadCount).contains { t in
            UnsafeAtomic<Int64>(at: storage + t * rowWidth + offsets[index] + 1).load(ordering: .relaxed) != 0
        }
        case .counter, .sparseCounter: return value(index) != 0
        case .histogram: return hasSamples(index)
        }
    }

    public func value(named name: String) -> Int64? {
        guard let i = names.firstIndex(of: name), kinds[i] != .histogram else { return nil }
        return value(i)
    }

    static func chunk(_ bits: Int64) -> UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>? {
        UnsafeMutablePointer(bitPattern: Int(bits))
    }

    /// A histogram's samples so far, merged over threads. Reads each
    /// thread's chunks (published with release ordering) while they may be
    /// written: a sample in flight shows up in this read or the next.
    public func histogramData(_ index: Int) -> HistogramData {
        precondition(kinds[index] == .histogram)
        var counts: [Int: UInt64] = [:]
        for t in 0..<threadCount {
            guard let base = chunkPointers(row: storage + t * rowWidth, index) else { continue }
            for chunk in 0..<HistogramBinning.chunkCount {
                guard let bins = Self.chunk(UnsafeAtomic<Int64>(at: base + chunk).load(ordering: .acquiring)) else { continue }
                for slot in 0..<HistogramBinning.chunkSize(chunk) {
                    let n = UInt64(bitPattern: UnsafeAtomic<Int64>(at: bins + slot).load(ordering: .relaxed))
                    if n > 0 { counts[HistogramBinning.bin(chunk: chunk, slot: slot), default: 0] &+= n }
                }
            }
        }
        return HistogramData(bins: counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// Envoy's histogram merge at a stats flush: the samples since the last
    /// flush become the interval histogram, all samples the cumulative one.
    /// Main thread only (the flush timer and the admin handlers run there).
    public func flushHistograms() {
        for (i, kind) in kinds.enumerated() where kind == .histogram {
            let now = histogramData(i)
            // A histogram with no sample yet reads as empty without an
            // entry (a thousand clusters' idle histograms held none).
            if now.bins.isEmpty && flushed[i] == nil { continue }
            let before = flushed[i]?.cumulative ?? HistogramData()
            flushed[i] = (now, now.subtracting(before))
        }
    }

    /// Whether any thread has recorded a sample in histogram `index` (a
    /// chunk is allocated on a thread's first sample in it).
    public func hasSamples(_ index: Int) -> Bool {
        precondition(kinds[index] == .histogram)
        for t in 0..<threadCount {
            guard let base = chunkPointers(row: storage + t * rowWidth, index) else { continue }
            for chunk in 0..<HistogramBinning.chunkCount
            where Self.chunk(UnsafeAtomic<Int64>(at: base + chunk).load(ordering: .acquiring)) != nil {
                return true
            }
        }
        return false
    }

    /// The histogram as of the last flush: all samples, and those of the
    /// last flush interval. Main thread only.
    public func flushedHistogram(_ index: Int) -> (cumulative: HistogramData, interval: HistogramData) {
        precondition(kinds[index] == .histogram)
        return flushed[index] ?? (HistogramData(), HistogramData())
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
        if index >= scope.lazyStart {
            addLazy(index, delta)
            return
        }
        add(slot: scope.offsets[index], delta)
    }

    /// Adds to a counter kept in a lazy chunk; the first write to the chunk
    /// on this thread allocates it (this thread's, never freed before the
    /// scope), as a histogram's decade chunks are.
    private func addLazy(_ index: Int, _ delta: Int64) {
        let (chunk, slot) = scope.offsets[index].quotientAndRemainder(dividingBy: StatLayout.lazyChunkCapacity)
        let pointer = UnsafeAtomic<Int64>(at: base + scope.lazyChunkSlot + chunk)
        var block = StatScope.chunk(pointer.load(ordering: .relaxed))
        if block == nil {
            let size = StatLayout.lazyChunkSize(chunk, of: scope.lazyCount)
            let fresh = UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>.allocate(capacity: size)
            fresh.initialize(repeating: UnsafeAtomic<Int64>.Storage(0), count: size)
            pointer.store(Int64(Int(bitPattern: fresh)), ordering: .releasing)
            block = fresh
        }
        let counter = UnsafeAtomic<Int64>(at: block! + slot)
        counter.store(counter.load(ordering: .relaxed) &+ delta, ordering: .relaxed)
    }

    /// An indirect histogram's block of chunk pointers, made by this
    /// thread's first sample (and never freed before the scope).
    private func indirectChunkPointers(_ slot: UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>)
        -> UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage> {
        let pointer = UnsafeAtomic<Int64>(at: slot)
        if let block = StatScope.chunk(pointer.load(ordering: .relaxed)) { return block }
        let fresh = UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>.allocate(capacity: HistogramBinning.chunkCount)
        fresh.initialize(repeating: UnsafeAtomic<Int64>.Storage(0), count: HistogramBinning.chunkCount)
        pointer.store(Int64(Int(bitPattern: fresh)), ordering: .releasing)
        return fresh
    }

    /// Adds to a gauge and marks it used (one store, on the first change only).
    @inline(__always)
    public func addGauge(_ index: Int, _ delta: Int64) {
        let slot = scope.offsets[index]
        add(slot: slot, delta)
        let used = UnsafeAtomic<Int64>(at: base + slot + 1)
        if used.load(ordering: .relaxed) == 0 { used.store(1, ordering: .relaxed) }
    }

    /// Sets this thread's share of a gauge (the main thread's server gauges)
    /// and marks it used.
    public func set(_ index: Int, _ value: Int64) {
        precondition(index < scope.lazyStart, "a lazy counter is only added to")
        let slot = scope.offsets[index]
        UnsafeAtomic<Int64>(at: base + slot).store(value, ordering: .relaxed)
        if scope.kinds[index] == .gauge { UnsafeAtomic<Int64>(at: base + slot + 1).store(1, ordering: .relaxed) }
    }

    /// Records one sample in a histogram: one chunk-pointer load, one
    /// relaxed load-and-store; the first sample in a decade allocates that
    /// decade's chunk (this thread's, never freed before the scope).
    @inline(__always)
    public func record(_ index: Int, milliseconds: UInt64) {
        var base = self.base + scope.offsets[index]
        if scope.indirect[index] { base = indirectChunkPointers(base) }
        let (chunk, slot) = HistogramBinning.chunkAndSlot(milliseconds)
        let pointer = UnsafeAtomic<Int64>(at: base + chunk)
        var bins = StatScope.chunk(pointer.load(ordering: .relaxed))
        if bins == nil {
            let size = HistogramBinning.chunkSize(chunk)
            let fresh = UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>.allocate(capacity: size)
            fresh.initialize(repeating: UnsafeAtomic<Int64>.Storage(0), count: size)
            pointer.store(Int64(Int(bitPattern: fresh)), ordering: .releasing)
            bins = fresh
        }
        let counter = UnsafeAtomic<Int64>(at: bins! + slot)
        counter.store(counter.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        if let sink = scope.sampleSink { sink.record(scope: scope, index: index, milliseconds: milliseconds) }
    }
}

/// The names, kinds and slot offsets of a list of stats: what every scope
/// of that list has in common. Immutable; shared by the scopes made from it.
///
/// The counters from `lazyFrom` on (a cluster's thousand per-status-code
/// counters, of which a cluster uses a handful) are not in the row: the row
/// holds one pointer per `lazyChunkCapacity` of them, and a thread allocates
/// a chunk the first time it counts into it. A scope of a thousand stats
/// whose lazy ones are never used costs its eager slots only.
public final class StatLayout: Sendable {
    public let names: [String]
    public let kinds: [StatKind]
    /// First slot of each stat inside a row; for a lazy stat, its place in
    /// the lazy region.
    let offsets: [Int]
    let rowWidth: Int
    /// Index of the first lazy stat (`Int.max`: none).
    let lazyStart: Int
    let lazyCount: Int
    /// The row slot of the first lazy chunk's pointer.
    let lazyChunkSlot: Int
    /// Stats from this index on are listed only once their scope is marked
    /// used (Envoy creates them later than the others; `Int.max`: none).
    let listedOnceUsedFrom: Int
    /// Per stat: a histogram that takes one row slot, a pointer to its
    /// decade-chunk pointers made by its thread's first sample (for those
    /// most scopes never record: 1 slot instead of 11 per row).
    let indirect: [Bool]

    /// Lazy counters per chunk.
    static let lazyChunkCapacity = 100

    static func lazyChunks(_ lazyCount: Int) -> Int { (lazyCount + lazyChunkCapacity - 1) / lazyChunkCapacity }

    static func lazyChunkSize(_ chunk: Int, of lazyCount: Int) -> Int {
        min(lazyChunkCapacity, lazyCount - chunk * lazyChunkCapacity)
    }

    /// `lazyFrom`: the stats from this index on are counters kept in lazy
    /// chunks (nil: every stat has its slots in the row).
    /// `listedOnceUsedFrom`: the stats from this index on are listed once
    /// the scope is marked used. `indirectHistograms`: the histograms (by
    /// name) whose row part is made on first use.
    public init(_ stats: [(String, StatKind)], lazyFrom: Int? = nil, listedOnceUsedFrom: Int? = nil,
                indirectHistograms: Set<String> = []) {
        self.listedOnceUsedFrom = listedOnceUsedFrom ?? Int.max
        indirect = stats.map { $0.1 == .histogram && indirectHistograms.contains($0.0) }
        names = stats.map(\.0)
        kinds = stats.map(\.1)
        let eager = lazyFrom ?? stats.count
        precondition(eager >= 0 && eager <= stats.count)
        precondition(stats[eager...].allSatisfy { $0.1 == .counter || $0.1 == .sparseCounter }, "only counters can be lazy")
        var offsets: [Int] = []
        var width = 0
        for (i, (_, kind)) in stats[..<eager].enumerated() {
            offsets.append(width)
            switch kind {
            case .histogram: width += indirect[i] ? 1 : StatScope.histogramWidth
            // The value, then whether this thread ever wrote it (Envoy's `used()`).
            case .gauge: width += 2
            case .counter, .sparseCounter: width += 1
            }
        }
        lazyCount = stats.count - eager
        lazyStart = lazyCount > 0 ? eager : Int.max
        lazyChunkSlot = width
        offsets.append(contentsOf: 0..<lazyCount)
        self.offsets = offsets
        rowWidth = width + Self.lazyChunks(lazyCount)
    }
}
