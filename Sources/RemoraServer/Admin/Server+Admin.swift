import Foundation
import RemoraConfig
import RemoraCore

/// The admin endpoints, with Envoy's paths and formats. Runs on the main
/// loop (Foundation is fine here: this is not the data path).
extension Server {
    func handleAdmin(_ request: AdminRequest) -> AdminResponse {
        switch request.path {
        case "/ready":
            return .text(isLive ? 200 : 503, "\(stateName)\n")
        case "/server_info":
            return .json(serverInfoJSON())
        case "/stats":
            guard let entries = selectedStats(request) else { return Self.invalidFilter }
            if request.query["format"] == "json" { return .json(statsJSON(entries)) }
            if request.query["format"] == "prometheus" { return .text(200, prometheusText(entries)) }
            return statsText(entries)
        case "/stats/prometheus":
            guard let entries = selectedStats(request) else { return Self.invalidFilter }
            return .text(200, prometheusText(entries))
        case "/help":
            return .text(200, Self.helpText)
        case "/clusters":
            return clustersResponse(request)
        case "/listeners":
            return listenersResponse(request)
        case "/memory":
            return memoryResponse()
        case "/runtime":
            return runtimeResponse()
        case "/config_dump":
            return configDumpResponse(request)
        case "/logging":
            return Self.requirePost(request) ?? loggingResponse(request)
        case "/healthcheck/fail", "/healthcheck/ok":
            if let refused = Self.requirePost(request) { return refused }
            health.setFailed(request.path == "/healthcheck/fail")
            refreshServerGauges()
            return .text(200, "OK\n")
        case "/drain_listeners":
            return Self.requirePost(request) ?? drainListenersResponse(request)
        case "/reset_counters":
            return Self.requirePost(request) ?? resetCounters()
        case "/reopen_logs":
            if let refused = Self.requirePost(request) { return refused }
            accessLogFiles.reopen()
            return .text(200, "OK\n")
        case "/quitquitquit":
            if let refused = Self.requirePost(request) { return refused }
            var response = AdminResponse.text(200, "OK\n")
            response.afterWrite = { [unowned self] in
                self.logger.info("shutting down from admin /quitquitquit")
                self.shutdown(code: 0)
            }
            return response
        default:
            return .text(404, "invalid path. " + Self.helpText)
        }
    }

    // MARK: - /stats

    /// The stats a request asks for; nil when its `filter` is not a valid
    /// regex. `filter` is RE2, as in Envoy: a stat is listed when the regex
    /// matches part of its name, and matching takes linear time whatever the
    /// pattern (this runs on the main loop).
    private func selectedStats(_ request: AdminRequest) -> [StatsStore.Entry]? {
        var entries = applyCounterBaseline(store.snapshot())
        if request.query["usedonly"] != nil {
            entries = entries.filter { $0.kind == .histogram ? ($0.histogram?.count ?? 0) > 0 : $0.value != 0 }
        }
        if let filter = request.query["filter"], !filter.isEmpty {
            guard let regex = try? CompiledRegex(filter) else { return nil }
            entries = entries.filter { regex.partialMatch($0.name) }
        }
        return entries
    }

    private static var invalidFilter: AdminResponse { .text(400, "Invalid re2 regex\n") }

    private func statsText(_ entries: [StatsStore.Entry]) -> AdminResponse {
        var body = ""
        for entry in entries where entry.kind != .histogram {
            body += "\(entry.name): \(entry.value)\n"
        }
        for entry in entries where entry.kind == .histogram {
            body += "\(entry.name): \(Self.histogramSummary(entry.histogram))\n"
        }
        return .text(200, body)
    }

    /// Envoy's `/stats` form for histograms: `P0(interval,cumulative) ...`.
    /// Remora keeps cumulative values only, so the interval part is `nan`.
    static func histogramSummary(_ h: HistogramSnapshot?) -> String {
        guard let h, h.count > 0 else { return "No recorded values" }
        let quantiles: [(String, Double)] = [
            ("P0", 0), ("P25", 0.25), ("P50", 0.5), ("P75", 0.75), ("P90", 0.9), ("P95", 0.95),
            ("P99", 0.99), ("P99.5", 0.995), ("P99.9", 0.999), ("P100", 1),
        ]
        return quantiles.map { name, q in
            "\(name)(nan,\(formatNumber(h.quantile(q) ?? 0)))"
        }.joined(separator: " ")
    }

    static func formatNumber(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(format: "%.6g", v)
    }

    private func statsJSON(_ entries: [StatsStore.Entry]) -> String {
        var items: [String] = []
        for entry in entries where entry.kind != .histogram {
            items.append("{\"name\":\(jsonString(entry.name)),\"value\":\(entry.value)}")
        }
        return "{\"stats\":[\(items.joined(separator: ","))]}"
    }

    /// Prometheus text exposition: `envoy_` prefix, dots to underscores, as Envoy does.
    /// (Envoy also extracts tags such as `envoy_cluster_name`; Remora does not yet.)
    private func prometheusText(_ entries: [StatsStore.Entry]) -> String {
        var body = ""
        for entry in entries {
            let name = "envoy_" + String(entry.name.map { (c: Character) -> Character in c.isLetter || c.isNumber ? c : "_" })
            switch entry.kind {
            case .counter, .sparseCounter:
                body += "# TYPE \(name) counter\n\(name){} \(entry.value)\n"
            case .gauge:
                body += "# TYPE \(name) gauge\n\(name){} \(entry.value)\n"
            case .histogram:
                guard let h = entry.histogram else { continue }
                body += "# TYPE \(name) histogram\n"
                var cumulative: Int64 = 0
                for (i, bound) in StatScope.histogramBounds.enumerated() {
                    cumulative += h.bucketCounts[i]
                    body += "\(name)_bucket{le=\"\(Self.formatNumber(bound))\"} \(cumulative)\n"
                }
                body += "\(name)_bucket{le=\"+Inf\"} \(h.count)\n\(name)_sum{} \(h.sum)\n\(name)_count{} \(h.count)\n"
            }
        }
        return body
    }

    // MARK: - /server_info

    private func serverInfoJSON() -> String {
        let uptime = "\"\(uptimeSeconds)s\""
        let options = """
        {"concurrency":\(self.options.concurrency),"config_path":\(jsonString(self.options.configPath)),\
        "log_level":\(jsonString(self.options.logLevel)),"service_cluster":\(jsonString(self.options.serviceCluster ?? "")),\
        "service_node":\(jsonString(self.options.serviceNode ?? "")),"mode":"Serve","drain_time":"\(self.options.drainTimeSeconds)s",\
        "disable_hot_restart":true}
        """
        return """
        {
         "version": \(jsonString(self.options.version)),
         "state": "\(stateName)",
         "hot_restart_version": "disabled",
         "command_line_options": \(options),
         "node": \(config.node.json),
         "uptime_current_epoch": \(uptime),
         "uptime_all_epochs": \(uptime)
        }

        """
    }

    func jsonString(_ s: String) -> String {
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
}
