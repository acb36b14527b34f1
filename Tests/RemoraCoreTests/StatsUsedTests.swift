import Testing
@testable import RemoraCore

/// Envoy's `used()` flags and histograms made on first use, as the store
/// reports them (no sockets).
@Suite struct StatsUsedTests {
    @Test func gaugeIsUsedOnceWrittenEvenBackToZero() {
        let store = StatsStore(workerCount: 2)
        let scope = store.makeScope(prefix: "p.", stats: [("c", .counter), ("up_down", .gauge), ("set_zero", .gauge),
                                                          ("never", .gauge)])
        let worker = scope.slots(thread: 1)
        worker.addGauge(1, 1)
        worker.addGauge(1, -1)
        scope.slots(thread: 0).set(2, 0)
        let entries = Dictionary(uniqueKeysWithValues: store.snapshot().map { ($0.name, $0) })
        #expect(entries["p.up_down"]?.value == 0)
        #expect(entries["p.up_down"]?.used == true)
        #expect(entries["p.set_zero"]?.used == true)
        #expect(entries["p.never"]?.used == false)
        #expect(entries["p.c"]?.used == false)
        worker.add(0)
        #expect(store.snapshot().first { $0.name == "p.c" }?.used == true)
    }

    @Test func histogramMadeOnFirstUseIsListedOnceRecorded() {
        let store = StatsStore(workerCount: 1)
        let scope = store.makeScope(prefix: "cluster.x.", stats: [("upstream_rq_time", .histogram), ("upstream_cx_length_ms", .histogram)],
                                    onFirstUse: ["upstream_rq_time"])
        #expect(store.snapshot().map(\.name) == ["cluster.x.upstream_cx_length_ms"])
        scope.slots(thread: 1).record(0, milliseconds: 4)
        // Listed before any flush (Envoy's "No recorded values" until then).
        let names = store.snapshot().map(\.name)
        #expect(names == ["cluster.x.upstream_cx_length_ms", "cluster.x.upstream_rq_time"])
        #expect(store.snapshot().last?.used == false)
        store.flushHistograms()
        #expect(store.snapshot().last?.used == true)
    }

    /// A filtered snapshot lists what filtering the whole one would, merged
    /// the same way: scopes with one name add up, and a sparse counter that
    /// is zero in one scope is listed from another where it is not.
    @Test func filteredSnapshotMatchesFilteringTheWholeOne() {
        let store = StatsStore(workerCount: 1)
        let stats: [(String, StatKind)] = [("rq", .counter), ("rq_503", .sparseCounter), ("rq_200", .sparseCounter),
                                           ("cx", .gauge), ("time", .histogram)]
        let a = store.makeScope(prefix: "cluster.a.", stats: stats)
        let b = store.makeScope(prefix: "cluster.a.", stats: stats)
        let c = store.makeScope(prefix: "cluster.c.", stats: stats)
        a.slots(thread: 0).add(0, 2)
        b.slots(thread: 1).add(0, 3)
        b.slots(thread: 1).add(1, 4)
        c.slots(thread: 1).add(2, 1)
        c.slots(thread: 0).set(3, 7)
        let whole = store.snapshot()
        let names = whole.map(\.name)
        #expect(names == ["cluster.a.cx", "cluster.a.rq", "cluster.a.rq_503", "cluster.a.time",
                          "cluster.c.cx", "cluster.c.rq", "cluster.c.rq_200", "cluster.c.time"])
        #expect(whole.first { $0.name == "cluster.a.rq" }?.value == 5)
        #expect(whole.first { $0.name == "cluster.a.rq_503" }?.value == 4)
        for accept: (String) -> Bool in [{ $0.hasPrefix("cluster.a.") }, { $0.hasSuffix("rq_503") || $0.hasSuffix(".cx") },
                                         { _ in false }, { _ in true }] {
            let filtered = store.snapshot(including: accept)
            #expect(filtered.map(\.name) == whole.filter { accept($0.name) }.map(\.name))
            #expect(filtered.map(\.value) == whole.filter { accept($0.name) }.map(\.value))
            #expect(filtered.map(\.used) == whole.filter { accept($0.name) }.map(\.used))
        }
    }
}
