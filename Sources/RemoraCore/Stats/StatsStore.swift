import Synchronization

/// All stat scopes of the process, for the admin endpoints to read.
///
/// Scopes are added by the main thread while it builds configuration and
/// read by the admin server (also the main thread); the lock guards only
/// that registry, never a stat update on the data path.
public final class StatsStore: Sendable {
    public let threadCount: Int
    private let scopes = Mutex<[StatScope]>([])

    /// Told of every histogram sample (a statsd sink), or nil.
    let sampleSink: (any HistogramSampleSink)?

    /// `workerCount` workers plus the main thread.
    public init(workerCount: Int, sampleSink: (any HistogramSampleSink)? = nil) {
        self.threadCount = workerCount + 1
        self.sampleSink = sampleSink
    }

    /// Creates and registers a scope. Stat names are `prefix + name`.
    public func makeScope(prefix: String, stats: [(String, StatKind)], listedOnceUsed: Bool = false,
                          onFirstUse: Set<String> = []) -> StatScope {
        let scope = StatScope(prefix: prefix, stats: stats, threadCount: threadCount, sampleSink: sampleSink,
                              listedOnceUsed: listedOnceUsed, onFirstUse: onFirstUse)
        scopes.withLock { $0.append(scope) }
        return scope
    }

    /// Creates and registers a scope over a shared layout.
    public func makeScope(prefix: String, layout: StatLayout, listedOnceUsed: Bool = false,
                          onFirstUse: Set<String> = []) -> StatScope {
        let scope = StatScope(prefix: prefix, layout: layout, threadCount: threadCount, sampleSink: sampleSink,
                              listedOnceUsed: listedOnceUsed, onFirstUse: onFirstUse)
        scopes.withLock { $0.append(scope) }
        return scope
    }

    public func remove(_ scope: StatScope) {
        let dependents = attached.withLock { pairs -> [StatScope] in
            let mine = pairs.filter { $0.owner === scope }.map(\.scope)
            pairs.removeAll { $0.owner === scope || $0.scope === scope }
            return mine
        }
        scopes.withLock { $0.removeAll { listed in listed === scope || dependents.contains { $0 === listed } } }
    }

    /// Scopes that live as long as their owner stays in the store.
    private let attached = Mutex<[(owner: StatScope, scope: StatScope)]>([])

    /// The scope at `prefix` that lives as long as `owner` does in the store
    /// (removing `owner` removes it): made on first call, the same one after
    /// (so two callers naming one stat share it, as Envoy's store would).
    /// For names only known once a config is built: the per-certificate
    /// gauges under a listener's or cluster's `ssl.` scope.
    public func scope(prefix: String, stats: [(String, StatKind)], attachedTo owner: StatScope) -> StatScope {
        attached.withLock { pairs in
            if let made = pairs.first(where: { $0.owner === owner && $0.scope.prefix == prefix }) { return made.scope }
            let scope = StatScope(prefix: prefix, stats: stats, threadCount: threadCount, sampleSink: sampleSink)
            pairs.append((owner, scope))
            scopes.withLock { $0.append(scope) }
            return scope
        }
    }

    /// One stat, merged over threads.
    public struct Entry: Sendable {
        public let name: String
        public let kind: StatKind
        public let value: Int64
        /// A histogram as of the last stats flush (nil for other kinds).
        public let histogram: FlushedHistogram?

        public init(name: String, kind: StatKind, value: Int64, histogram: FlushedHistogram?, gaugeUsed: Bool = false) {
            self.name = name
            self.kind = kind
            self.value = value
            self.histogram = histogram
            self.gaugeUsed = gaugeUsed
        }

        /// A gauge some thread has set or changed (even back to 0).
        public let gaugeUsed: Bool

        /// Envoy's `used()`: a counter once non-zero, a gauge once written, a
        /// histogram once a flush has seen a sample.
        public var used: Bool {
            switch kind {
            case .gauge: return gaugeUsed
            case .counter, .sparseCounter: return value != 0
            case .histogram: return histogram?.used ?? false
            }
        }
    }

    /// A histogram's cumulative and last-interval samples at the last flush.
    public struct FlushedHistogram: Sendable {
        public let cumulative: HistogramData
        public let interval: HistogramData
        /// Envoy's `used()`: some sample has been seen by a flush.
        public var used: Bool { !cumulative.bins.isEmpty }
    }

    /// Envoy's stats flush for histograms (every `stats_flush_interval`):
    /// snapshots every histogram's interval and cumulative samples. Main
    /// thread only.
    public func flushHistograms() {
        for scope in scopes.withLock({ $0 }) { scope.flushHistograms() }
    }

    /// Every stat, merged over threads; scopes with the same name add up.
    /// `including`, when given, keeps only the names it accepts (a filtered
    /// `/stats` need not merge and sort the rest).
    ///
    /// A name is built only for a stat that will be listed: a cluster's
    /// scope holds about a thousand sparse per-code counters, nearly all
    /// zero, and building and hashing each one's name made a `/stats` query
    /// at mesh size (1,000 clusters) cost a quarter of a second.
    public func snapshot(including: ((String) -> Bool)? = nil) -> [Entry] {
        let all = scopes.withLock { $0 }
        var merged: [String: Entry] = [:]
        for scope in all where scope.isListed {
            var next = 0
            let count = scope.listedCount
            while next < count {
                let i = next
                next += 1
                if let end = scope.unlistedLazyChunkEnd(from: i) {
                    next = end
                    continue
                }
                let kind = scope.kinds[i]
                if kind == .histogram {
                    // A histogram created on first use is listed once it has a sample (or another scope lists it).
                    let unused = scope.onFirstUseHistograms.contains(i) && !scope.hasSamples(i)
                    let name = scope.prefix + scope.names[i]
                    if unused && merged[name] == nil { continue }
                    if let including, !including(name) { continue }
                    var (cumulative, interval) = scope.flushedHistogram(i)
                    if let old = merged[name]?.histogram {
                        cumulative = cumulative.adding(old.cumulative)
                        interval = interval.adding(old.interval)
                    }
                    merged[name] = Entry(name: name, kind: kind, value: 0,
                        histogram: FlushedHistogram(cumulative: cumulative, interval: interval))
                } else {
                    let value = scope.value(i)
                    // Adding 0 changes no merged value: a zero sparse counter is listed only if another scope's is not zero.
                    if kind == .sparseCounter && value == 0 { continue }
                    let name = scope.prefix + scope.names[i]
                    if let including, !including(name) { continue }
                    let old = merged[name]
                    let gaugeUsed = kind == .gauge && ((old?.gaugeUsed ?? false) || scope.isUsed(i))
                    merged[name] = Entry(name: name, kind: kind, value: value + (old?.value ?? 0), histogram: nil,
                                         gaugeUsed: gaugeUsed)
                }
            }
        }
        return merged.values.sorted { $0.name < $1.name }
    }

    /// Every text readout of the listed scopes, by full name, sorted.
    public func textSnapshot() -> [(name: String, value: String)] {
        var merged: [String: String] = [:]
        for scope in scopes.withLock({ $0 }) where scope.isListed {
            for (name, value) in scope.textReadouts { merged[scope.prefix + name] = value }
        }
        return merged.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
    }

    public func value(of name: String) -> Int64? {
        snapshot().first { $0.name == name }?.value
    }
}
