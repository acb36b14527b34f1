import Foundation
import Testing
@testable import RemoraCore

@Suite struct HistogramBinsTests {
    /// circllhist's bins for whole milliseconds: 0 alone, 1…9 width 0.1,
    /// 10…99 width 1, then 90 bins per decade.
    @Test func binsAreCircllhistBins() {
        func edges(_ v: UInt64) -> (Double, Double) {
            let (c, s) = HistogramBinning.chunkAndSlot(v)
            return HistogramBinning.edges(ofBin: HistogramBinning.bin(chunk: c, slot: s))
        }
        #expect(edges(0) == (0, 0))
        #expect(edges(3) == (3, 0.1))
        #expect(edges(33) == (33, 1))
        #expect(edges(100) == (100, 10))
        #expect(edges(125) == (120, 10))
        #expect(edges(999) == (990, 10))
        #expect(edges(1000) == (1000, 100))
        #expect(edges(3_600_000) == (3_600_000, 100_000))
        #expect(edges(UInt64.max).0 == 9.9e11, "past 10^12 ms counts in the last bin")
    }

    private func data(_ samples: [UInt64]) -> HistogramData {
        let scope = StatScope(prefix: "", stats: [("h", .histogram)], threadCount: 2)
        for (i, v) in samples.enumerated() { scope.slots(thread: i % 2).record(0, milliseconds: v) }
        return scope.histogramData(0)
    }

    /// The samples and quantiles of `histogram_buckets=detailed` output of
    /// Envoy 1.40 for the same bins (bins 3×3, 7×2, 30, 33, 200, then two
    /// more samples of 3): the printed values must come out digit for digit.
    @Test func quantilesMatchEnvoy() {
        let h = data([3, 3, 3, 7, 7, 30, 33, 200])
        #expect(h.count == 8)
        // Envoy's Prometheus _sum for these samples, printed with %.32g.
        #expect(String(format: "%.32g", h.approximateSum) == "292.10922113635757568772532977164")
        #expect(String(format: "%.32g", data([0, 1, 5, 12, 120]).approximateSum) == "143.37712399811408658933942206204")
        #expect(String(format: "%.32g", data([54]).approximateSum) == "54.495412844036700050764920888469")
        #expect(h.quantiles().map(Self.text) == [
            "3.025", "3.05", "7.033333333333333", "30.5", "205", "205", "205", "205", "205", "205",
        ])
        let later = data([3, 3, 3, 7, 7, 30, 33, 200, 3, 3])
        #expect(later.quantiles().map(Self.text) == [
            "3.0166666666666666", "3.05", "3.0833333333333335", "30.5", "33.5", "205", "205", "205", "205", "205",
        ])
        let interval = later.subtracting(h)
        #expect(interval.count == 2)
        #expect(interval.quantiles().map(Self.text) == [
            "3.033333333333333", "3.033333333333333", "3.033333333333333", "3.066666666666667",
            "3.066666666666667", "3.066666666666667", "3.066666666666667", "3.066666666666667",
            "3.066666666666667", "3.066666666666667",
        ])
        // Envoy: 0,1,5,12,120 ms → P0(nan,0) P25(nan,1.05) P50(nan,5.05) P75(nan,12.5) P90(nan,125).
        #expect(data([0, 1, 5, 12, 120]).quantiles().prefix(5).map(Self.text) == ["0", "1.05", "5.05", "12.5", "125"])
        #expect(HistogramData().quantiles().allSatisfy { $0.isNaN })
    }

    private static func text(_ v: Double) -> String {
        var s = v.description
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }

    /// Prometheus buckets count whole bins that end at or below the bound
    /// (Envoy: 3,3,3,7,7,30,33,200 → le=5: 3, le=10: 5, le=25: 5, le=50: 7, le=250: 8).
    @Test func countBelowMatchesEnvoyBuckets() {
        let h = data([3, 3, 3, 7, 7, 30, 33, 200])
        #expect([0.5, 1, 5, 10, 25, 50, 100, 250].map { h.countBelow($0) } == [0, 0, 3, 5, 5, 7, 7, 8])
        // A 1 ms sample's bin is [1, 1.1): not below le="1".
        #expect(data([1]).countBelow(1) == 0)
        #expect(data([0]).countBelow(0.5) == 1)
    }

    @Test func flushSplitsIntervalFromCumulative() {
        let scope = StatScope(prefix: "p.", stats: [("c", .counter), ("h", .histogram)], threadCount: 3)
        #expect(scope.flushedHistogram(1).cumulative.count == 0)
        scope.slots(thread: 1).record(1, milliseconds: 12)
        scope.slots(thread: 2).record(1, milliseconds: 12_345)
        #expect(scope.flushedHistogram(1).cumulative.count == 0, "nothing is seen before a flush, as in Envoy")
        scope.flushHistograms()
        #expect(scope.flushedHistogram(1).cumulative.count == 2)
        #expect(scope.flushedHistogram(1).interval.count == 2)
        scope.flushHistograms()
        #expect(scope.flushedHistogram(1).cumulative.bins.map(\.bin) == [12, 100 + 90 * 2 + 2])
        #expect(scope.flushedHistogram(1).interval.count == 0)
        scope.slots(thread: 0).record(1, milliseconds: 5)
        scope.flushHistograms()
        #expect(scope.flushedHistogram(1).interval == HistogramData(bins: [(5, 1)]))
        #expect(scope.flushedHistogram(1).cumulative.count == 3)
        #expect(scope.value(0) == 0, "histogram slots do not spill into other stats")
    }
}
