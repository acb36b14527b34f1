/// The bins of Envoy's circllhist histograms for whole milliseconds, and the
/// statistics Envoy computes from them.
///
/// circllhist keeps two significant decimal digits per sample: 0 has its own
/// bin, 1…9 ms each have a bin of width 0.1 (`[3, 3.1)`), 10…99 ms bins of
/// width 1, 100…999 ms bins of width 10, and so on (90 bins per decade).
/// Remora records integer milliseconds, as Envoy does for its timing
/// histograms, so every sample lands in the bin Envoy would put it in and the
/// quantiles and bucket counts come out the same.
///
/// Bin numbers: 0…99 are the values 0…99 themselves; from 100 on, decade
/// `d ≥ 1` (values `10^(d+1) ..< 10^(d+2)`) holds bins `100 + 90(d-1) ..<
/// 100 + 90d`. Values from `10^(maxDecade+2)` on count in the last bin.
public enum HistogramBinning {
    /// Decades after the first chunk; values up to 10^12 ms (31 years) are exact.
    public static let maxDecade = 10
    /// Chunks per histogram row: the 0…99 chunk and one per decade.
    public static let chunkCount = maxDecade + 1
    public static let binCount = 100 + 90 * maxDecade

    static let powersOfTen: [UInt64] = (0...19).map { p in (0..<p).reduce(1) { r, _ in r * 10 } }

    /// The chunk (0 for values below 100) and the slot inside it for `value`.
    @inline(__always)
    public static func chunkAndSlot(_ value: UInt64) -> (chunk: Int, slot: Int) {
        if value < 100 { return (0, Int(value)) }
        var decade = 1
        var unit: UInt64 = 10
        while decade < maxDecade && value >= unit * 100 {
            unit *= 10
            decade += 1
        }
        let slot = Int(value / unit) - 10
        return (decade, min(slot, 89))
    }

    /// Slots in chunk `chunk`.
    @inline(__always)
    public static func chunkSize(_ chunk: Int) -> Int { chunk == 0 ? 100 : 90 }

    public static func bin(chunk: Int, slot: Int) -> Int { chunk == 0 ? slot : 100 + 90 * (chunk - 1) + slot }

    /// The lower edge and width of a bin, as circllhist computes them
    /// (`val/10 * 10^exp` and `10^exp / 10`, in doubles).
    public static func edges(ofBin bin: Int) -> (lower: Double, width: Double) {
        if bin == 0 { return (0, 0) }
        if bin < 10 { return (Double(bin * 10) / 10.0, 1.0 / 10.0) }
        if bin < 100 { return (Double(bin) / 10.0 * 10.0, 10.0 / 10.0) }
        let decade = (bin - 100) / 90 + 1
        let val = (bin - 100) % 90 + 10
        let power = Double(powersOfTen[decade + 1])
        return (Double(val) / 10.0 * power, power / 10.0)
    }
}

/// A histogram's samples by bin (sparse, sorted by bin), merged over threads.
public struct HistogramData: Sendable, Equatable {
    public private(set) var bins: [(bin: Int, count: UInt64)]

    public init(bins: [(bin: Int, count: UInt64)] = []) {
        self.bins = bins
    }

    public static func == (a: HistogramData, b: HistogramData) -> Bool {
        a.bins.elementsEqual(b.bins) { $0.bin == $1.bin && $0.count == $1.count }
    }

    /// The sum Envoy 1.40 reports (Prometheus `_sum`): each sample counted
    /// at the harmonic mean of its bin's edges, `2ab/(a+b)` (0 for the zero
    /// bin), summed in bin order. Found by matching Envoy's printed sums
    /// to 32 digits (see `HistogramBinsTests`).
    public var approximateSum: Double {
        var sum = 0.0
        for (bin, count) in bins {
            let (a, w) = HistogramBinning.edges(ofBin: bin)
            guard w > 0 else { continue }
            sum += 2.0 * a * (a + w) / (a + a + w) * Double(count)
        }
        return sum
    }

    public var count: UInt64 { bins.reduce(0) { $0 &+ $1.count } }

    /// Samples recorded since `earlier` (an older snapshot of the same counters).
    public func subtracting(_ earlier: HistogramData) -> HistogramData {
        var out: [(bin: Int, count: UInt64)] = []
        var j = 0
        for (bin, count) in bins {
            while j < earlier.bins.count && earlier.bins[j].bin < bin { j += 1 }
            let before = j < earlier.bins.count && earlier.bins[j].bin == bin ? earlier.bins[j].count : 0
            if count > before { out.append((bin, count - before)) }
        }
        return HistogramData(bins: out)
    }

    /// Both histograms' samples (stats of the same name in two scopes).
    public func adding(_ other: HistogramData) -> HistogramData {
        var merged: [Int: UInt64] = [:]
        for (bin, count) in bins + other.bins { merged[bin, default: 0] &+= count }
        return HistogramData(bins: merged.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// Envoy's quantiles (`0, .25, .5, .75, .9, .95, .99, .995, .999, 1`).
    public static let supportedQuantiles: [Double] = [0, 0.25, 0.5, 0.75, 0.90, 0.95, 0.99, 0.995, 0.999, 1]

    /// The quantile estimates Envoy 1.40 prints for these bins (NaN when
    /// empty). Checked against Envoy's own `histogram_buckets=detailed`
    /// output: the sample of rank `max(1, ⌈q·N⌉)` is taken, and the `n`
    /// samples of a bin are assumed evenly spread inside it, the `j`-th at
    /// `lower + j/(n+1)·width` (one sample sits in the middle of its bin,
    /// the zero bin is exactly 0).
    public func quantiles(_ qs: [Double] = supportedQuantiles) -> [Double] {
        let total = count
        guard total > 0 else { return qs.map { _ in .nan } }
        var out: [Double] = []
        out.reserveCapacity(qs.count)
        var index = 0
        var below: UInt64 = 0
        for q in qs {
            let rank = max(1, UInt64((q * Double(total)).rounded(.up)))
            while index < bins.count - 1 && below + bins[index].count < rank {
                below += bins[index].count
                index += 1
            }
            let (bin, n) = bins[index]
            let (lower, width) = HistogramBinning.edges(ofBin: bin)
            let j = min(rank - below, n)
            out.append(lower + Double(j) / Double(n + 1) * width)
        }
        return out
    }

    /// Samples in bins that end at or below `threshold` (circllhist's
    /// `hist_approx_count_below`, which Envoy's Prometheus buckets use).
    public func countBelow(_ threshold: Double) -> UInt64 {
        var running: UInt64 = 0
        for (bin, count) in bins {
            let (lower, width) = HistogramBinning.edges(ofBin: bin)
            guard lower + width <= threshold else { break }
            running += count
        }
        return running
    }
}
