import Foundation
import RemoraAPI
import RemoraConfig
import RemoraCore
import RemoraXDS

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
            guard let mode = StatsRenderer.BucketMode(query: request.query["histogram_buckets"]) else {
                return .text(400, StatsRenderer.BucketMode.usage)
            }
            guard let types = StatsTypeFilter(query: request.query["type"]) else { return .text(400, "invalid &type= param") }
            guard let entries = selectedStats(request), let texts = selectedTexts(request) else { return Self.invalidFilter }
            let renderer = StatsRenderer(entries: entries.filter { types.accepts($0.kind) }, settings: config.stats,
                                         texts: types.acceptsTexts ? texts : [])
            if request.query["format"] == "json" { return .json(renderer.json(buckets: mode)) }
            if request.query["format"] == "prometheus" {
                return .text(200, renderer.prometheus(textReadouts: request.query["text_readouts"] != nil))
            }
            return .text(200, renderer.text(buckets: mode))
        case "/stats/prometheus":
            guard let entries = selectedStats(request), let texts = selectedTexts(request) else { return Self.invalidFilter }
            return .text(200, StatsRenderer(entries: entries, settings: config.stats, texts: texts)
                .prometheus(textReadouts: request.query["text_readouts"] != nil))
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
        case "/init_dump":
            return initDumpResponse(request)
        case "/certs":
            return certsResponse()
        case "/logging":
            return Self.requirePost(request) ?? loggingResponse(request)
        case "/runtime_modify":
            return Self.requirePost(request) ?? runtimeModifyResponse(request)
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
        var regex: CompiledRegex?
        if let filter = request.query["filter"], !filter.isEmpty {
            guard let compiled = try? CompiledRegex(filter) else { return nil }
            regex = compiled
        }
        let invert = request.query["invert_filter"] != nil
        let matcher = config.stats.matcher
        // `stats_matcher` decides which stats exist at all; the names go
        // before merging, so a filtered query sorts only what it lists.
        var entries = applyCounterBaseline(store.snapshot { name in
            matcher.accepts(name) && (regex.map { $0.partialMatch(name) != invert } ?? true)
        })
        if request.query["usedonly"] != nil {
            entries = entries.filter(\.used)
        }
        return entries
    }

    /// The text readouts a request asks for, selected as the stats are
    /// (a readout is used once it is not empty); nil for a bad `filter`.
    private func selectedTexts(_ request: AdminRequest) -> [(name: String, value: String)]? {
        var texts = store.textSnapshot().filter { config.stats.matcher.accepts($0.name) }
        if request.query["usedonly"] != nil { texts = texts.filter { !$0.value.isEmpty } }
        if let filter = request.query["filter"], !filter.isEmpty {
            guard let regex = try? CompiledRegex(filter) else { return nil }
            let invert = request.query["invert_filter"] != nil
            texts = texts.filter { regex.partialMatch($0.name) != invert }
        }
        return texts
    }

    private static var invalidFilter: AdminResponse { .text(400, "Invalid re2 regex\n") }

    /// `/stats?type=`: which kinds of stat to list.
    private enum StatsTypeFilter {
        case all, counters, gauges, histograms, textReadouts

        init?(query value: String?) {
            switch value {
            case nil, "All": self = .all
            case "Counters": self = .counters
            case "Gauges": self = .gauges
            case "Histograms": self = .histograms
            case "TextReadouts": self = .textReadouts
            default: return nil
            }
        }

        func accepts(_ kind: StatKind) -> Bool {
            switch self {
            case .all: return true
            case .counters: return kind == .counter || kind == .sparseCounter
            case .gauges: return kind == .gauge
            case .histograms: return kind == .histogram
            case .textReadouts: return false
            }
        }

        var acceptsTexts: Bool { self == .all || self == .textReadouts }
    }

    // MARK: - /server_info

    /// Envoy's `ServerInfo`, fields in its order, every command-line
    /// option listed (Envoy prints defaults too). Options Remora has no
    /// counterpart for show Envoy's defaults; hot restart is always off.
    private func serverInfoJSON() -> String {
        let o = self.options
        let uptime = "\"\(uptimeSeconds)s\""
        func duration(milliseconds: UInt64) -> String {
            let fraction = milliseconds % 1000
            return "\"\(milliseconds / 1000)" + (fraction == 0 ? "" : "." + String(String(fraction + 1000).dropFirst())) + "s\""
        }
        let options: [(String, String)] = [
            ("base_id", "\"\(o.baseID)\""), ("concurrency", "\(o.concurrency)"), ("config_path", jsonString(o.configPath)),
            ("config_yaml", jsonString(o.configYAML)), ("allow_unknown_static_fields", "false"), ("admin_address_path", "\"\""),
            ("local_address_ip_version", "\"v4\""), ("log_level", jsonString(o.logLevel)),
            ("component_log_level", jsonString(o.componentLogLevel)), ("log_format", jsonString(o.logFormat)),
            ("log_path", jsonString(o.logPath)), ("service_cluster", jsonString(o.serviceCluster ?? "")),
            ("service_node", jsonString(o.serviceNode ?? "")), ("service_zone", "\"\""),
            ("file_flush_interval", duration(milliseconds: o.fileFlushIntervalMilliseconds)),
            ("drain_time", "\"\(o.drainTimeSeconds)s\""), ("parent_shutdown_time", "\"\(o.parentShutdownTimeSeconds)s\""),
            ("mode", "\"Serve\""), ("disable_hot_restart", "true"), ("enable_mutex_tracing", "false"), ("restart_epoch", "0"),
            ("cpuset_threads", "false"), ("reject_unknown_dynamic_fields", "false"), ("log_format_escaped", "false"),
            ("disabled_extensions", "[]"), ("ignore_unknown_dynamic_fields", "false"),
            ("use_dynamic_base_id", o.useDynamicBaseID ? "true" : "false"), ("base_id_path", "\"\""),
            ("drain_strategy", o.drainStrategy == .immediate ? "\"Immediate\"" : "\"Gradual\""), ("enable_fine_grain_logging", "false"), ("socket_path", "\"@envoy_domain_socket\""),
            ("socket_mode", "0"), ("enable_core_dump", "false"), ("stats_tag", "[]"), ("skip_hot_restart_on_no_parent", "false"),
            ("skip_hot_restart_parent_stats", "false"), ("skip_deprecated_logs", "false"), ("file_flush_min_size", "0"),
            ("log_stacktrace_single_entry", "false"),
        ]
        return """
        {
         "version": \(jsonString(o.version)),
         "state": "\(stateName)",
         "uptime_current_epoch": \(uptime),
         "uptime_all_epochs": \(uptime),
         "hot_restart_version": "disabled",
         "command_line_options": {
        \(options.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n"))
         },
         "node": \(serverInfoNodeJSON()),
         "hot_restart_initializing": false
        }

        """
    }

    /// The node as Envoy's `/server_info` shows its local info: the
    /// bootstrap's (with `--service-node`/`--service-cluster`), the user
    /// agent and build version xDS requests carry, and `id` and `cluster`
    /// even when empty.
    private func serverInfoNodeJSON() -> String {
        var node = XDSNode.make(bootstrap: config.node.message, version: binaryVersion)
        let id = node.id, cluster = node.cluster, agent = node.userAgentName
        let version = node.userAgentBuildVersion.version
        node.id = ""
        node.cluster = ""
        node.userAgentName = ""
        node.userAgentVersionType = nil
        let features = node.clientFeatures.map(jsonString).joined(separator: ",")
        let dynamicParameters = node.dynamicParameters
        node.clientFeatures = []
        node.dynamicParameters = [:]
        // Proto3 JSON leaves out empty strings, zeros and empty lists; Envoy
        // prints them. Envoy also lists its compiled-in `extensions`; Remora
        // lists none (see ARCHITECTURE "Admin").
        let rest = ConfigCompiler.nodeJSON(node).dropFirst().dropLast()
        var parameters = Envoy_Config_Core_V3_Node()
        parameters.dynamicParameters = dynamicParameters
        let parametersJSON = ConfigCompiler.nodeJSON(parameters).dropFirst().dropLast()
        return "{\"id\":\(jsonString(id)),\"cluster\":\(jsonString(cluster)),"
            + (rest.isEmpty ? "" : rest + ",")
            + "\"user_agent_name\":\(jsonString(agent)),\"user_agent_build_version\":{\"version\":{"
            + "\"major_number\":\(version.majorNumber),\"minor_number\":\(version.minorNumber),\"patch\":\(version.patch)}},"
            + "\"extensions\":[],\"client_features\":[\(features)],\"listening_addresses\":[],"
            + (parametersJSON.isEmpty ? "\"dynamic_parameters\":{}" : String(parametersJSON)) + "}"
    }

    func jsonString(_ s: String) -> String {
        StatsRenderer.jsonString(s)
    }
}
