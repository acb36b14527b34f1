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
    ///
    /// At mesh size this is ~115,000 stats, so the body is written as bytes
    /// into one buffer, label names are sanitized once per tag name and bucket
    /// bounds formatted once per bound (`StatsRendererTests` compares it with
    /// the plain per-stat form on varied names).
    func prometheus(textReadouts: Bool = false) -> String {
        struct Member { let entry: StatsStore.Entry; let tags: [TagProducer.Tag] }
        var groups: [StatKind: [String: [Member]]] = [:]
        for entry in entries {
            let (name, tags) = settings.tags.produceTags(entry.name)
            let kind: StatKind = entry.kind == .sparseCounter ? .counter : entry.kind
            groups[kind, default: [:]][name, default: []].append(Member(entry: entry, tags: tags))
        }
        var out: [UInt8] = []
        out.reserveCapacity(entries.count * 96)
        func put(_ s: String) { out.append(contentsOf: s.utf8) }
        var labelNames: [String: String] = [:]
        // `name="value",…` (no braces) for the tags, and `extra` after them.
        func labels(_ tags: [TagProducer.Tag], extra: String? = nil, trailingComma: Bool = false) {
            for (i, tag) in tags.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if let known = labelNames[tag.name] { put(known) } else {
                    let sanitized = Self.sanitize(tag.name)
                    labelNames[tag.name] = sanitized
                    put(sanitized)
                }
                put("=\"")
                Self.appendEscaped(tag.value, to: &out)
                out.append(UInt8(ascii: "\""))
            }
            if let extra {
                if !tags.isEmpty { out.append(UInt8(ascii: ",")) }
                put(extra)
            }
            if trailingComma && !tags.isEmpty { out.append(UInt8(ascii: ",")) }
        }
        var boundTexts: [Double: String] = [:]
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
                    put("# TYPE \(metric) gauge\n")
                    for member in members {
                        put(metric)
                        out.append(UInt8(ascii: "{"))
                        labels(member.tags, extra: "text_value=\"" + Self.escape(member.value) + "\"")
                        put("} 0\n")
                    }
                }
            }
            for (name, members) in (groups[kind] ?? [:]).sorted(by: { $0.key < $1.key }) {
                let metric = "envoy_" + Self.sanitize(name)
                put("# TYPE \(metric) \(type)\n")
                for member in members {
                    guard kind == .histogram else {
                        put(metric)
                        out.append(UInt8(ascii: "{"))
                        labels(member.tags)
                        put("} ")
                        put(Self.gaugeText(member.entry))
                        out.append(UInt8(ascii: "\n"))
                        continue
                    }
                    let h = member.entry.histogram?.cumulative ?? HistogramData()
                    for bound in settings.buckets(for: member.entry.name) {
                        let text: String
                        if let known = boundTexts[bound] { text = known } else {
                            text = String(format: "%.32g", bound)
                            boundTexts[bound] = text
                        }
                        put(metric)
                        put("_bucket{")
                        labels(member.tags, trailingComma: true)
                        put("le=\"\(text)\"} \(h.countBelow(bound))\n")
                    }
                    let count = h.count
                    put(metric)
                    put("_bucket{")
                    labels(member.tags, trailingComma: true)
                    put("le=\"+Inf\"} \(count)\n")
                    put(metric)
                    put("_sum{")
                    labels(member.tags)
                    put("} \(String(format: "%.32g", h.approximateSum))\n")
                    put(metric)
                    put("_count{")
                    labels(member.tags)
                    put("} \(count)\n")
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Envoy's `Html::Utility::sanitize`, which the text form applies to a
    /// text readout's value.
    static func htmlSanitized(_ value: String) -> String {
        replacingCharacters(value) { c in
            switch c {
            case "&": "&amp;"
            case "<": "&lt;"
            case ">": "&gt;"
            case "\"": "&quot;"
            case "'": "&#39;"
            default: nil
            }
        }
    }

    /// `value` with each character `replacement` gives text for replaced by it.
    private static func replacingCharacters(_ value: String, _ replacement: (Character) -> String?) -> String {
        var out = ""
        for c in value {
            if let text = replacement(c) { out += text } else { out.append(c) }
        }
        return out
    }

    /// Every character outside `[a-zA-Z0-9_]` made `_` (one `_` for each
    /// Unicode scalar); ASCII names, all of them in practice, byte by byte.
    static func sanitize(_ name: String) -> String {
        var ascii = true
        let bytes = name.utf8.map { b -> UInt8 in
            if b >= 0x80 { ascii = false }
            return isNameByte(b) ? b : UInt8(ascii: "_")
        }
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        return sanitizeScalars(name)
    }

    /// `sanitize` for any string, by Unicode scalar.
    static func sanitizeScalars(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { s in
            s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || s == "_") ? s : "_"
        }))
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
    }

    static func escape(_ value: String) -> String {
        var out: [UInt8] = []
        appendEscaped(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// A label value with `\`, `"` and newline escaped, by Swift character:
    /// a CR LF pair is one character and is kept as it is. Byte by byte when
    /// the value is ASCII without CR.
    static func appendEscaped(_ value: String, to out: inout [UInt8]) {
        let simple = value.utf8.allSatisfy { $0 < 0x80 && $0 != UInt8(ascii: "\r") }
        guard simple else {
            out.append(contentsOf: escapeCharacters(value).utf8)
            return
        }
        for b in value.utf8 {
            switch b {
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(b)
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(b)
            case UInt8(ascii: "\n"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            default: out.append(b)
            }
        }
    }

    /// `escape` for any string, by Swift character.
    static func escapeCharacters(_ value: String) -> String {
        replacingCharacters(value) { c in
            switch c {
            case "\\": "\\\\"
            case "\"": "\\\""
            case "\n": "\\n"
            default: nil
            }
        }
    }
}
