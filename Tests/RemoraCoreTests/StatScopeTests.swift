import Testing
@testable import RemoraCore

@Suite struct StatScopeTests {
    @Test func socketAddressTextForms() {
        #expect(SocketAddress.ip("127.0.0.1", port: 80)?.description == "127.0.0.1:80")
        #expect(SocketAddress.ip("::1", port: 80)?.description == "[::1]:80")
        #expect(SocketAddress.ip("2001:db8::1:0:0:1", port: 1)?.host == "2001:db8::1:0:0:1")
        #expect(SocketAddress.ip("::ffff:10.0.0.1", port: 1)?.host == "::ffff:a00:1")
        #expect(SocketAddress.ip("1.2.3", port: 1) == nil)
        #expect(SocketAddress.ip("256.1.1.1", port: 1) == nil)
        #expect(SocketAddress.ip("1::2::3", port: 1) == nil)
        #expect(SocketAddress.ip("localhost", port: 1) == nil)
    }
}

@Suite struct RequestIDGeneratorTests {
    @Test func producesDistinctVersion4UUIDs() {
        var g = RequestIDGenerator()
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id = g.next()
            #expect(id.utf8.count == 36)
            let parts = id.split(separator: "-")
            #expect(parts.map(\.count) == [8, 4, 4, 4, 12])
            #expect(parts[2].first == "4")
            #expect("89ab".contains(parts[3].first!))
            #expect(id.allSatisfy { "0123456789abcdef-".contains($0) })
            seen.insert(id)
        }
        #expect(seen.count == 1000)
    }
}

/// Counters kept in lazy chunks (`StatLayout(lazyFrom:)`): the row holds
/// only chunk pointers until a thread counts into a chunk.
@Suite struct LazyStatTests {
    static let layout = StatLayout([("c", .counter), ("g", .gauge), ("h", .histogram)]
                                   + (0..<250).map { ("code_\($0)", StatKind.sparseCounter) }
                                   + [("last", .counter)], lazyFrom: 3)

    @Test func rowHoldsEagerSlotsAndOnePointerPerChunk() {
        // 1 + 2 + 11 eager slots, then ⌈251 / 100⌉ chunk pointers.
        #expect(Self.layout.rowWidth == 1 + 2 + HistogramBinning.chunkCount + 3)
        #expect(Self.layout.lazyStart == 3)
        #expect(StatLayout([("a", .counter)]).lazyStart == Int.max)
        #expect(StatLayout.lazyChunkSize(2, of: 251) == 51)
    }

    @Test func lazyCountersSumOverThreadsAndListOnceUsed() {
        let store = StatsStore(workerCount: 2)
        let scope = store.makeScope(prefix: "p.", layout: Self.layout)
        #expect(store.snapshot().map(\.name) == ["p.c", "p.g", "p.h", "p.last"])
        scope.slots(thread: 1).add(3 + 120, 2)
        scope.slots(thread: 2).add(3 + 120)
        scope.slots(thread: 2).add(3 + 250, 5)
        scope.slots(thread: 0).add(0)
        #expect(scope.value(3 + 120) == 3)
        #expect(scope.value(3 + 121) == 0)
        #expect(scope.value(3 + 250) == 5)
        #expect(scope.value(named: "code_120") == 3)
        let entries = Dictionary(uniqueKeysWithValues: store.snapshot().map { ($0.name, $0.value) })
        #expect(entries == ["p.c": 1, "p.g": 0, "p.h": 0, "p.code_120": 3, "p.last": 5])
    }
}

@Suite struct IndirectHistogramTests {
    static let layout = StatLayout([("c", .counter), ("h", .histogram), ("i", .histogram)], indirectHistograms: ["i"])

    @Test func anIndirectHistogramTakesOneRowSlot() {
        #expect(Self.layout.rowWidth == 1 + HistogramBinning.chunkCount + 1)
    }

    @Test func samplesOfEveryThreadMergeAsADirectOnes() {
        let store = StatsStore(workerCount: 2)
        let scope = store.makeScope(prefix: "p.", layout: Self.layout)
        #expect(!scope.hasSamples(2))
        #expect(scope.histogramData(2).bins.isEmpty)
        scope.slots(thread: 1).record(2, milliseconds: 5)
        scope.slots(thread: 2).record(2, milliseconds: 5)
        scope.slots(thread: 2).record(2, milliseconds: 300)
        scope.slots(thread: 1).record(1, milliseconds: 5)
        #expect(scope.hasSamples(2))
        let direct = scope.histogramData(1).bins
        let merged = scope.histogramData(2).bins
        #expect(merged.count == 2)
        #expect(merged.first?.0 == direct.first?.0 && merged.first?.1 == 2)
        #expect(merged.map(\.1).reduce(0, +) == 3)
        scope.flushHistograms()
        #expect(scope.flushedHistogram(2).cumulative.bins.map(\.1).reduce(0, +) == 3)
    }
}

@Suite struct ListedOnceUsedFromTests {
    @Test func theTailIsListedOnceTheScopeIsMarkedUsed() {
        let store = StatsStore(workerCount: 1)
        let layout = StatLayout([("always", .counter), ("later", .counter), ("later_gauge", .gauge)], listedOnceUsedFrom: 1)
        let scope = store.makeScope(prefix: "p.", layout: layout)
        #expect(store.snapshot().map(\.name) == ["p.always"])
        scope.markUsed()
        #expect(store.snapshot().map(\.name) == ["p.always", "p.later", "p.later_gauge"])
    }
}
