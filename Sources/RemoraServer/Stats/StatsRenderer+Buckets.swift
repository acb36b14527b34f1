import Foundation
import RemoraCore

/// `/stats?histogram_buckets=` as Envoy 1.40 prints it: `cumulative` and
/// `disjoint` list each configured bucket bound with the interval and
/// cumulative counts (counts at or below the bound, or in the bucket
/// alone); `detailed` lists the circllhist bins themselves
/// (`lower,width:count`) with the quantile summary.
extension StatsRenderer {
    enum BucketMode: Equatable {
        case summary, cumulative, disjoint, detailed

        /// Envoy's parameter values; nil for anything else (Envoy answers 400).
        init?(query value: String?) {
            switch value {
            case nil, "summary", "none": self = .summary
            case "cumulative": self = .cumulative
            case "disjoint": self = .disjoint
            case "detailed": self = .detailed
            default: return nil
            }
        }

        static let usage = "usage: /stats?histogram_buckets=(cumulative|disjoint|detailed|summary|prometheusnative)\n"
    }

    /// The interval and cumulative counts per bucket of `entry`, as
    /// cumulative or disjoint counts.
    private func bucketCounts(_ entry: StatsStore.Entry, disjoint: Bool) -> [(bound: Double, interval: UInt64, cumulative: UInt64)] {
        let h = entry.histogram
        var previous: (UInt64, UInt64) = (0, 0)
        return settings.buckets(for: entry.name).map { bound in
            let i = h?.interval.countBelow(bound) ?? 0
            let c = h?.cumulative.countBelow(bound) ?? 0
            defer { previous = (i, c) }
            return disjoint ? (bound, i - previous.0, c - previous.1) : (bound, i, c)
        }
    }

    /// Text form of one histogram line in `mode` (not `.summary`).
    func text(_ entry: StatsStore.Entry, mode: BucketMode) -> String {
        let used = entry.histogram?.used ?? false
        switch mode {
        case .summary:
            return "\(entry.name): \(Self.summary(entry.histogram))\n"
        case .cumulative, .disjoint:
            guard used else { return "\(entry.name): No recorded values\n" }
            let items = bucketCounts(entry, disjoint: mode == .disjoint).map { "B\(Self.formatG($0.bound))(\($0.interval),\($0.cumulative))" }
            return "\(entry.name): \(items.joined(separator: " "))\n"
        case .detailed:
            func detail(_ data: HistogramData?) -> String {
                Self.bins(data).map { "\(Self.formatG($0.lower)),\(Self.formatG($0.width)):\($0.count)" }.joined(separator: ", ")
            }
            return "\(entry.name):\n  totals=\(detail(entry.histogram?.cumulative))\n"
                + "  intervals=\(detail(entry.histogram?.interval))\n  summary=\(Self.summary(entry.histogram))\n"
        }
    }

    /// The `histograms` element of the JSON form in `mode` (not `.summary`).
    func jsonHistograms(_ histograms: [StatsStore.Entry], mode: BucketMode) -> String {
        switch mode {
        case .summary:
            preconditionFailure("the summary form is json()'s own")
        case .cumulative, .disjoint:
            let items = histograms.map { entry -> String in
                let buckets = bucketCounts(entry, disjoint: mode == .disjoint).map {
                    "{\"upper_bound\":\(Self.toChars($0.bound)),\"interval\":\($0.interval),\"cumulative\":\($0.cumulative)}"
                }
                return "{\"name\":\(Self.jsonString(entry.name)),\"buckets\":[\(buckets.joined(separator: ","))]}"
            }
            return "{\"histograms\":[\(items.joined(separator: ","))]}"
        case .detailed:
            func detail(_ data: HistogramData?) -> String {
                Self.bins(data).map {
                    "{\"lower_bound\":\(Self.toChars($0.lower)),\"width\":\(Self.toChars($0.width)),\"count\":\($0.count)}"
                }.joined(separator: ",")
            }
            let supported = HistogramData.supportedQuantiles.map { Self.toChars(100 * $0) }.joined(separator: ",")
            let details = histograms.map { entry -> String in
                let h = entry.histogram
                return "{\"name\":\(Self.jsonString(entry.name)),\"totals\":[\(detail(h?.cumulative))],"
                    + "\"intervals\":[\(detail(h?.interval))],\"percentiles\":[\(Self.jsonQuantiles(h))]}"
            }
            return "{\"histograms\":{\"supported_percentiles\":[\(supported)],\"details\":[\(details.joined(separator: ","))]}}"
        }
    }

    /// The circllhist bins of `data` with their edges, in value order.
    private static func bins(_ data: HistogramData?) -> [(lower: Double, width: Double, count: UInt64)] {
        (data?.bins ?? []).map { bin, count in
            let (lower, width) = HistogramBinning.edges(ofBin: bin)
            return (lower, width, count)
        }
    }

    /// C's `%g` (fmt's `{:g}`, absl's `StrCat` of a double): 6 significant digits.
    static func formatG(_ v: Double) -> String {
        String(format: "%g", v)
    }

    /// `std::to_chars` of a double, as Envoy's JSON writer prints numbers:
    /// the shortest digits that read back the same, in fixed or scientific
    /// form, whichever is shorter (fixed on a tie).
    static func toChars(_ v: Double) -> String {
        let fixed = shortest(v)
        guard v.isFinite, v != 0 else { return fixed }
        // The shortest round-trip digits, from the `e` form of Swift's own.
        var digits = ""
        var exponent = 0
        for precision in 1...17 {
            let s = String(format: "%.\(precision - 1)e", v)
            if Double(s) == v {
                let parts = s.split(separator: "e")
                digits = parts[0].replacingOccurrences(of: ".", with: "")
                exponent = Int(parts[1]) ?? 0
                break
            }
        }
        guard !digits.isEmpty else { return fixed }
        let negative = digits.hasPrefix("-")
        if negative { digits.removeFirst() }
        while digits.count > 1 && digits.hasSuffix("0") { digits.removeLast() }
        var scientific = negative ? "-" : ""
        scientific += String(digits.first!)
        if digits.count > 1 { scientific += "." + digits.dropFirst() }
        scientific += exponent < 0 ? "e-" : "e+"
        let magnitude = abs(exponent)
        scientific += magnitude < 10 ? "0\(magnitude)" : "\(magnitude)"
        return scientific.count < fixed.count ? scientific : fixed
    }
}
