import Foundation
import RemoraConfig
import RemoraCore

/// Envoy's `/stats` text and JSON forms and `/stats/prometheus`, from a
/// snapshot of the store. Main thread (admin); not on the data path.
struct StatsRenderer {
    let entries: [StatsStore.Entry]
    let settings: StatsSettings
    /// Text readouts (`version_text`), listed before the other stats.
    var texts: [(name: String, value: String)] = []

    /// A gauge's value as Envoy prints it. Envoy's gauges are unsigned; the
    /// `version` gauges hold a 64-bit hash, kept here in an `Int64`.
    static func gaugeText(_ entry: StatsStore.Entry) -> String {
        entry.kind == .gauge && entry.value < 0 && entry.name.hasSuffix(".version")
            ? String(UInt64(bitPattern: entry.value)) : String(entry.value)
    }

    // MARK: - Text

    /// Counters and gauges (`name: value`), then histograms with Envoy's
    /// `P0(interval,cumulative) … P100(…)` summary or `No recorded values`
    /// (or the buckets `mode` asks for).
    func text(buckets mode: BucketMode = .summary) -> String {
        var body = ""
        for text in texts { body += "\(text.name): \"\(Self.htmlSanitized(text.value))\"\n" }
        for entry in entries where entry.kind != .histogram {
            body += "\(entry.name): \(Self.gaugeText(entry))\n"
        }
        for entry in entries where entry.kind == .histogram {
            body += text(entry, mode: mode)
        }
        return body
    }

    static func summary(_ h: StatsStore.FlushedHistogram?) -> String {
        guard let h, h.used else { return "No recorded values" }
        let interval = h.interval.quantiles()
        let cumulative = h.cumulative.quantiles()
        return HistogramData.supportedQuantiles.indices.map { i in
            "P\(shortest(100 * HistogramData.supportedQuantiles[i]))(\(shortest(interval[i])),\(shortest(cumulative[i])))"
        }.joined(separator: " ")
    }

    /// fmt's `{}` for a double, as Envoy prints: the shortest form that
    /// reads back the same, no trailing `.0`, `nan` for NaN.
    static func shortest(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        var s = v.description
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }

    // MARK: - JSON

    /// `{"stats":[{"name":…,"value":…},…,{"histograms":{"supported_quantiles":
    /// […],"computed_quantiles":[{"name":…,"values":[{"cumulative":…,
    /// "interval":…},…]}]}}]}`; NaN is `null`, the histograms element only
    /// when some histogram is listed.
    func json(buckets mode: BucketMode = .summary) -> String {
        var items: [String] = texts.map { "{\"name\":\(Self.jsonString($0.name)),\"value\":\(Self.jsonString($0.value))}" }
        for entry in entries where entry.kind != .histogram {
            items.append("{\"name\":\(Self.jsonString(entry.name)),\"value\":\(Self.gaugeText(entry))}")
        }
        let histograms = entries.filter { $0.kind == .histogram }
        if !histograms.isEmpty && mode != .summary {
            items.append(jsonHistograms(histograms, mode: mode))
        } else if !histograms.isEmpty {
            let supported = HistogramData.supportedQuantiles.map { Self.shortest(100 * $0) }.joined(separator: ",")
            let computed = histograms.map { entry -> String in
                "{\"name\":\(Self.jsonString(entry.name)),\"values\":[\(Self.jsonQuantiles(entry.histogram))]}"
            }
            items.append("{\"histograms\":{\"supported_quantiles\":[\(supported)],\"computed_quantiles\":[\(computed.joined(separator: ","))]}}")
        }
        return "{\"stats\":[\(items.joined(separator: ","))]}"
    }

    /// `{"cumulative":…,"interval":…}` for each supported quantile (`null`
    /// for a histogram no flush has seen a sample of).
    static func jsonQuantiles(_ h: StatsStore.FlushedHistogram?) -> String {
        guard let h, h.used else {
            return HistogramData.supportedQuantiles.map { _ in "{\"cumulative\":null,\"interval\":null}" }.joined(separator: ",")
        }
        // An interval without samples has NaN quantiles: `null`.
        func number(_ v: Double) -> String { v.isNaN ? "null" : toChars(v) }
        return zip(h.cumulative.quantiles(), h.interval.quantiles()).map {
            "{\"cumulative\":\(number($0)),\"interval\":\(number($1))}"
        }.joined(separator: ",")
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    // MARK: - Prometheus

    /// Prometheus text exposition as Envoy writes it: stats grouped by
    /// tag-extracted name (`envoy_` + the name with every character outside
    /// `[a-zA-Z0-9_]` made `_`), one `# TYPE` line per group; counters, then
    /// gauges, then histograms, each sorted by tag-extracted name; tags in
    /// extraction order; histograms as `_bucket{le=…}` (cumulative counts
    /// at the configured bounds, then `+Inf`), `_sum` and `_count`.
    func prometheus(textReadouts: Bool = false) -> String {
        struct Member { let entry: StatsStore.Entry; let tags: [TagProducer.Tag] }
        var groups: [StatKind: [String: [Member]]] = [:]
        for entry in entries {
            let (name, tags) = settings.tags.produceTags(entry.name)
            let kind: StatKind = entry.kind == .sparseCounter ? .counter : entry.kind
            groups[kind, default: [:]][name, default: []].append(Member(entry: entry, tags: tags))
        }
        var body = ""
        // Text readouts (only when asked: `?text_readouts`) are gauges of 0
        // with the text as the `text_value` label, after the gauges.
        var readouts: [String: [(tags: [TagProducer.Tag], value: String)]] = [:]
        if textReadouts {
            for text in texts {
                let (name, tags) = settings.tags.produceTags(text.name)
                readouts[name, default: []].append((tags, text.value))
            }
        }
        for (kind, type) in [(StatKind.counter, "counter"), (.gauge, "gauge"), (.histogram, "histogram")] {
            if kind == .histogram {
                for (name, members) in readouts.sorted(by: { $0.key < $1.key }) {
                    let metric = "envoy_" + Self.sanitize(name)
                    body += "# TYPE \(metric) gauge\n"
                    for member in members {
                        let labels = member.tags.map { "\(Self.sanitize($0.name))=\"\(Self.escape($0.value))\"" }
                            + ["text_value=\"\(Self.escape(member.value))\""]
                        body += "\(metric){\(labels.joined(separator: ","))} 0\n"
                    }
                }
            }
            for (name, members) in (groups[kind] ?? [:]).sorted(by: { $0.key < $1.key }) {
                let metric = "envoy_" + Self.sanitize(name)
                body += "# TYPE \(metric) \(type)\n"
                for member in members {
                    let labels = member.tags.map { "\(Self.sanitize($0.name))=\"\(Self.escape($0.value))\"" }
                    guard kind == .histogram else {
                        body += "\(metric){\(labels.joined(separator: ","))} \(Self.gaugeText(member.entry))\n"
                        continue
                    }
                    let h = member.entry.histogram?.cumulative ?? HistogramData()
                    let prefix = labels.isEmpty ? "" : labels.joined(separator: ",") + ","
                    for bound in settings.buckets(for: member.entry.name) {
                        body += "\(metric)_bucket{\(prefix)le=\"\(String(format: "%.32g", bound))\"} \(h.countBelow(bound))\n"
                    }
                    let count = h.count
                    body += "\(metric)_bucket{\(prefix)le=\"+Inf\"} \(count)\n"
                    body += "\(metric)_sum{\(labels.joined(separator: ","))} \(String(format: "%.32g", h.approximateSum))\n"
                    body += "\(metric)_count{\(labels.joined(separator: ","))} \(count)\n"
                }
            }
        }
        return body
    }

    /// Envoy's `Html::Utility::sanitize`, which the text form applies to a
    /// text readout's value.
    static func htmlSanitized(_ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func sanitize(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { s in
            s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || s == "_") ? s : "_"
        }))
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}
