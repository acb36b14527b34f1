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
}
