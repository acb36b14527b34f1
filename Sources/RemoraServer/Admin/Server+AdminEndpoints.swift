import Foundation
import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraUpstream
import RemoraXDS

/// Admin endpoints beyond stats and readiness, with Envoy 1.40's paths,
/// methods and output shapes (checked against the real Envoy).
extension Server {
    /// Envoy's `/help` lines: path (with `(POST)` for mutations), what it
    /// does, and its parameters.
    static let adminHelp: [(path: String, post: Bool, help: String, params: [(String, String)])] = [
        ("/certs", false, "print certs on machine", []),
        ("/clusters", false, "upstream cluster status", [
            ("filter", "Regular expression (Google re2) for filtering clusters by name"),
        ]),
        ("/config_dump", false, "dump current Envoy configs", [
            ("resource", "The resource to dump"),
            ("mask", "The mask to apply. When both resource and mask are specified, the mask is applied to every element "
                + "in the desired repeated field so that only a subset of fields are returned. The mask is parsed as a Protobuf::FieldMask"),
            ("name_regex", "Dump only the currently loaded configurations whose names match the specified regex. "
                + "Can be used with both resource and mask query parameters."),
            ("include_eds", "Dump currently loaded configuration including EDS. See the response definition for more information"),
        ]),
        ("/drain_listeners", true, "drain listeners", [
            ("graceful", "When draining listeners, enter a graceful drain period prior to closing listeners. "
                + "This behaviour and duration is configurable via server options or CLI"),
            ("skip_exit", "When draining listeners, drain the connections but never stop the listeners. "
                + "The graceful parameter has no effect when this is set, since the drain period only delays stopping the listeners"),
            ("inboundonly", "Drains all inbound listeners. traffic_direction field in envoy_v3_api_msg_config.listener.v3.Listener "
                + "is used to determine whether a listener is inbound or outbound."),
        ]),
        ("/healthcheck/fail", true, "cause the server to fail health checks", []),
        ("/healthcheck/ok", true, "cause the server to pass health checks", []),
        ("/help", false, "print out list of admin commands", []),
        ("/init_dump", false, "dump current Envoy init manager information (experimental)", [
            ("mask", "The desired component to dump unready targets. The mask is parsed as a Protobuf::FieldMask. "
                + "For example, get the unready targets of all listeners with /init_dump?mask=listener`"),
        ]),
        ("/listeners", false, "print listener info", [("format", "File format to use; One of (text, json)")]),
        ("/logging", true, "query/change logging levels", [
            ("paths", "Change multiple logging levels by setting to <logger_name1>:<desired_level1>,<logger_name2>:<desired_level2>."),
            ("level", "desired logging level, this will change all loggers's level; One of (, trace, debug, info, warning, error, critical, off)"),
        ]),
        ("/memory", false, "print current allocation/heap usage", []),
        ("/quitquitquit", true, "exit the server", []),
        ("/ready", false, "print server state, return 200 if LIVE, otherwise return 503", []),
        ("/reopen_logs", true, "reopen access logs", []),
        ("/reset_counters", true, "reset all counters to zero", []),
        ("/runtime", false, "print runtime values", []),
        ("/runtime_modify", true, "Adds or modifies runtime values as passed in query parameters. To delete a previously added key, "
            + "use an empty string as the value. Note that deletion only applies to overrides added via this endpoint; values loaded "
            + "from disk can be modified via override but not deleted. E.g. ?key1=value1&key2=value2...", []),
        ("/server_info", false, "print server version/status information", []),
        ("/stats", false, "print server stats", [
            ("usedonly", "Only include stats that have been written by system since restart"),
            ("filter", "Regular expression (Google re2) for filtering stats"),
            ("invert_filter", "Invert the filter regex"),
            ("format", "Format to use; One of (text, json, prometheus)"),
            ("type", "Stat types to include.; One of (All, Counters, Histograms, Gauges, TextReadouts)"),
            ("histogram_buckets", "Histogram bucket display mode; One of (cumulative, disjoint, detailed, summary)"),
        ]),
        ("/stats/prometheus", false, "print server stats in prometheus format", []),
    ]

    static var helpText: String {
        var body = "admin commands are:\n"
        for entry in adminHelp {
            body += "  \(entry.path)\(entry.post ? " (POST)" : ""): \(entry.help)\n"
            for (name, help) in entry.params { body += "      \(name): \(help)\n" }
        }
        return body
    }

    /// Envoy answers a GET to a mutating endpoint with 405.
    static func requirePost(_ request: AdminRequest) -> AdminResponse? {
        request.method == "POST" ? nil : .text(405, "Method \(request.method) not allowed, POST required.")
    }

    // MARK: - /clusters

    /// Envoy's `/clusters`: each cluster's circuit-breaker thresholds, then
    /// each host with its stats (summed over workers) and attributes. The
    /// hosts are the cluster's current membership; an `ORIGINAL_DST`
    /// cluster's are the destinations it has connected to.
    func clustersResponse(_ request: AdminRequest) -> AdminResponse {
        var filter: CompiledRegex?
        if let pattern = request.query["filter"], !pattern.isEmpty {
            guard let regex = try? CompiledRegex(pattern) else { return .text(400, "Invalid re2 regex\n") }
            filter = regex
        }
        struct Host { let address: SocketAddress; let stats: HostStats; let endpoint: EndpointConfig? }
        var clusters: [(ClusterConfig, [Host], ClusterResources.Limits, Bool)] = []
        // The bootstrap's in order, then those CDS added (active ones only, as Envoy lists).
        let dynamic = clusterManager.entries.values.filter(\.addedViaAPI).map(\.config.name).sorted()
        for name in self.config.clusters.map(\.name) + dynamic where filter.map({ $0.partialMatch(name) }) ?? true {
            guard let entry = clusterManager.entries[name] else { continue }
            let config = entry.config
            let seen = Dictionary(entry.resources.hostStats.all, uniquingKeysWith: { a, _ in a })
            let addresses: [SocketAddress]
            if case .originalDestination = config.discovery {
                addresses = seen.keys.sorted { $0.description < $1.description }
            } else {
                addresses = entry.hostSet.hosts
            }
            let hosts = addresses.enumerated().map { i, address in
                Host(address: address, stats: seen[address] ?? entry.resources.hostStats.stats(for: address),
                     endpoint: entry.hostSet.endpoints?[i])
            }
            clusters.append((config, hosts, entry.resources.limits, entry.addedViaAPI))
        }
        let high = ClusterResources.Limits.envoyDefaults
        guard request.query["format"] == "json" else {
            // Bytes appended piece by piece: at mesh size (10,000 hosts,
            // 7 MB) interpolated String lines cost twice Envoy's time.
            var body: [UInt8] = []
            body.reserveCapacity(clusters.reduce(0) { $0 + 512 + $1.1.count * 800 })
            // Four parts at most (no variadic array per line).
            func line(_ a: String, _ b: String, _ c: String = "", _ d: String = "") {
                body.append(contentsOf: a.utf8)
                body.append(contentsOf: b.utf8)
                body.append(contentsOf: c.utf8)
                body.append(contentsOf: d.utf8)
                body.append(UInt8(ascii: "\n"))
            }
            for (config, hosts, limits, viaAPI) in clusters {
                let n = config.name
                line(n, "::observability_name::", n)
                for (priority, l) in [("::default_priority::", limits), ("::high_priority::", high)] {
                    line(n, priority + "max_connections::", String(l.maxConnections))
                    line(n, priority + "max_pending_requests::", String(l.maxPendingRequests))
                    line(n, priority + "max_requests::", String(l.maxRequests))
                    line(n, priority + "max_retries::", String(l.maxRetries))
                }
                line(n, "::added_via_api::", viaAPI ? "true" : "false")
                // Envoy's text lists each host's stats by name: the order is
                // the same for every host, so it is found once.
                let names = hosts.first.map { ($0.stats.counters + $0.stats.gauges).map(\.0) } ?? []
                let order = names.indices.sorted { names[$0] < names[$1] }
                for host in hosts {
                    let h = n + "::" + host.address.description + "::"
                    let values = host.stats.counters + host.stats.gauges
                    for i in order { line(h, values[i].0, "::", String(values[i].1)) }
                    let e = host.endpoint
                    line(h, "hostname::", e?.hostname ?? "")
                    line(h, "health_flags::", Self.healthFlags(e))
                    line(h, "weight::", String(e?.weight ?? 1))
                    line(h, "region::", e?.region ?? "")
                    line(h, "zone::", e?.zone ?? "")
                    line(h, "sub_zone::", e?.subZone ?? "")
                    line(h, "canary::false")
                    line(h, "priority::", String(e?.priority ?? 0))
                    line(h, "success_rate::-1")
                    line(h, "local_origin_success_rate::-1")
                }
            }
            return .text(200, body)
        }
        func thresholds(_ l: ClusterResources.Limits, high: Bool) -> String {
            (high ? "{\"priority\":\"HIGH\"," : "{") + "\"max_connections\":\(l.maxConnections),\"max_pending_requests\":"
                + "\(l.maxPendingRequests),\"max_requests\":\(l.maxRequests),\"max_retries\":\(l.maxRetries)}"
        }
        let items = clusters.map { config, hosts, limits, viaAPI -> String in
            let hostItems = hosts.map { host -> String in
                let counters = host.stats.counters.map { name, value in
                    value == 0 ? "{\"name\":\"\(name)\"}" : "{\"value\":\"\(value)\",\"name\":\"\(name)\"}"
                }
                let gauges = host.stats.gauges.map { name, value in
                    value == 0 ? "{\"type\":\"GAUGE\",\"name\":\"\(name)\"}"
                        : "{\"type\":\"GAUGE\",\"value\":\"\(value)\",\"name\":\"\(name)\"}"
                }
                let address: String
                if case .unix(let path) = host.address {
                    address = "{\"pipe\":{\"path\":\(jsonString(path))}}"
                } else {
                    address = "{\"socket_address\":{\"address\":\(jsonString(host.address.host)),\"port_value\":\(host.address.port ?? 0)}}"
                }
                let e = host.endpoint
                var locality: [String] = []
                for (key, value) in [("region", e?.region), ("zone", e?.zone), ("sub_zone", e?.subZone)] {
                    if let value, !value.isEmpty { locality.append("\"\(key)\":\(jsonString(value))") }
                }
                let hostname = e.map { $0.hostname.isEmpty ? "" : ",\"hostname\":\(jsonString($0.hostname))" } ?? ""
                let priority = (e?.priority ?? 0) == 0 ? "" : ",\"priority\":\(e?.priority ?? 0)"
                return "{\"address\":\(address),\"stats\":[\((counters + gauges).joined(separator: ","))],"
                    + "\"health_status\":{\"eds_health_status\":\"\(e?.statusName ?? "HEALTHY")\"},\"weight\":\(e?.weight ?? 1)\(hostname)\(priority),"
                    + "\"locality\":{\(locality.joined(separator: ","))}}"
            }
            return "{\"name\":\(jsonString(config.name))" + (viaAPI ? ",\"added_via_api\":true" : "")
                + (hostItems.isEmpty ? "" : ",\"host_statuses\":[\(hostItems.joined(separator: ","))]")
                + ",\"circuit_breakers\":{\"thresholds\":[\(thresholds(limits, high: false)),\(thresholds(high, high: true))]},"
                + "\"observability_name\":\(jsonString(config.name))}"
        }
        return .json("{\"cluster_statuses\":[\(items.joined(separator: ","))]}\n")
    }

    /// Envoy's `health_flags` of a host with no health checker: what EDS said.
    static func healthFlags(_ endpoint: EndpointConfig?) -> String {
        switch endpoint?.health {
        case .unhealthy?: "/failed_eds_health"
        case .draining?: "/eds_status_draining"
        case .degraded?: "/degraded_eds_health"
        case .healthy?, nil: "healthy"
        }
    }

    // MARK: - /listeners

    func listenersResponse(_ request: AdminRequest) -> AdminResponse {
        let addresses: [(String, [SocketAddress])] = (config.listeners + (listenerManager?.activeConfigs ?? [])).map { listener in
            (listener.name, boundAddresses[listener.name] ?? listener.bindAddresses.map(\.address))
        }
        guard request.query["format"] == "json" else {
            var body = ""
            for (name, list) in addresses {
                for address in list { body += "\(name)::\(address)\n" }
            }
            return .text(200, body)
        }
        func socketAddress(_ a: SocketAddress) -> String {
            switch a {
            case .unix(let path): return "{\"pipe\":{\"path\":\(jsonString(path))}}"
            default: return "{\"socket_address\":{\"address\":\(jsonString(a.host)),\"port_value\":\(a.port ?? 0)}}"
            }
        }
        let items = addresses.map { name, list -> String in
            var item = "{\"name\":\(jsonString(name)),\"local_address\":\(list.first.map(socketAddress) ?? "{}")"
            if list.count > 1 {
                item += ",\"additional_local_addresses\":[\(list.dropFirst().map(socketAddress).joined(separator: ","))]"
            }
            return item + "}"
        }
        return .json("{\"listener_statuses\":[\(items.joined(separator: ","))]}\n")
    }

    // MARK: - /drain_listeners

    /// Envoy's `/drain_listeners`: the chosen listeners (all, or with
    /// `inboundonly` those with `traffic_direction: INBOUND`) start a drain:
    /// their HTTP connections, and those they accept meanwhile, are told to
    /// go by `--drain-strategy` over `--drain-time-s` (a response carries
    /// `connection: close`, or GOAWAY goes first). Then the listeners stop
    /// accepting: at once, or with `graceful` after the drain time; never
    /// with `skip_exit`. Connections are not closed by it, and the server
    /// stays LIVE. A graceful drain already under way for those listeners is
    /// not started again (Envoy's `DrainManager::draining(direction)`).
    func drainListenersResponse(_ request: AdminRequest) -> AdminResponse {
        let inboundOnly = request.query["inboundonly"] != nil
        let skipExit = request.query["skip_exit"] != nil
        let graceful = request.query["graceful"] != nil
        let alreadyDraining = adminDrainStarted.all || (inboundOnly && adminDrainStarted.inbound)
        if graceful && alreadyDraining { return .text(200, "OK\n") }
        if inboundOnly { adminDrainStarted.inbound = true } else { adminDrainStarted.all = true }
        let schedule = DrainSchedule(startMilliseconds: mainLoop.nowMilliseconds, durationSeconds: options.drainTimeSeconds,
                                     strategy: options.drainStrategy)
        for worker in workers {
            worker.loop.execute { worker.drainListeners(inboundOnly: inboundOnly, schedule: schedule) }
        }
        guard !skipExit else { return .text(200, "OK\n") }
        if graceful {
            let timer = Timer(loop: mainLoop)
            timer.start(afterMilliseconds: options.drainTimeSeconds * 1000) { [unowned self] in
                self.stopListeners(inboundOnly: inboundOnly)
                timer.close()
            }
        } else {
            stopListeners(inboundOnly: inboundOnly)
        }
        return .text(200, "OK\n")
    }

    /// Stops the chosen listeners on every worker (`listener_manager.listener_stopped`).
    private func stopListeners(inboundOnly: Bool) {
        if inboundOnly { listenersStopped.inbound = true } else { listenersStopped.all = true }
        let listenerManager = listenerManagerStats
        for worker in workers {
            worker.loop.execute {
                let stopped = worker.stopListeners(inboundOnly: inboundOnly)
                // Counted once, by the first worker (every worker stops the same listeners).
                if stopped > 0 && worker.index == 1 {
                    listenerManager.stats(ListenerManagerStat.self, thread: worker.index).add(.listenerStopped, Int64(stopped))
                }
            }
        }
    }

    // MARK: - /logging

    /// Envoy's `/logging`: no query lists the loggers; `level=` sets all,
    /// `paths=a:l,b:l` or `<name>=<level>` set some; then the listing.
    func loggingResponse(_ request: AdminRequest) -> AdminResponse {
        let control = LogControl.shared
        let usage = """
            usage: /logging?<name>=<level> (change single level)
            usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)
            usage: /logging?level=<level> (change all levels)
            usage: /logging?group=<group_name>:<level> (change group of loggers)
            levels: \(LogControl.Level.allCases.map(\.name).joined(separator: " ")) 

            """
        func failure(_ what: String) -> AdminResponse { .text(400, "error: \(what)\n\n" + usage + control.listing) }
        var changes: [(String, LogControl.Level)] = []
        for (key, value) in request.query.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "level":
                guard let level = LogControl.Level(name: value) else { return failure("unknown logger level") }
                changes += LogControl.loggerNames.map { ($0, level) }
            case "paths":
                for item in value.split(separator: ",") {
                    let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
                    guard parts.count == 2, LogControl.loggerNames.contains(parts[0]) else { return failure("unknown logger name") }
                    guard let level = LogControl.Level(name: parts[1]) else { return failure("unknown logger level") }
                    changes.append((parts[0], level))
                }
            default:
                guard LogControl.loggerNames.contains(key) else { return failure("unknown logger name") }
                guard let level = LogControl.Level(name: value) else { return failure("unknown logger level") }
                changes.append((key, level))
            }
        }
        for (name, level) in changes { control.set(name, level) }
        return .text(200, control.listing)
    }

    // MARK: - /memory, /runtime

    /// Envoy reports tcmalloc's figures; Remora runs on glibc malloc and
    /// reports its counterparts: bytes in use, bytes the heap holds, bytes
    /// free inside it, and the resident set. glibc has no page-heap
    /// unmapping or thread-cache totals it can report: those are 0.
    func memoryResponse() -> AdminResponse {
        let m = ProcessMemory.mallocStats
        return .json("""
        {
         "allocated": "\(m.allocated)",
         "heap_size": "\(m.heapSize)",
         "pageheap_unmapped": "0",
         "pageheap_free": "\(m.free)",
         "total_thread_cache": "0",
         "total_physical_bytes": "\(ProcessMemory.residentBytes)"
        }

        """)
    }

    /// `layered_runtime` as Envoy prints it: the layers by name, and each
    /// key with its value in every layer ("" where a layer lacks it) and the
    /// value of the last layer that has it.
    func runtimeResponse() -> AdminResponse {
        let layers = config.runtimeLayers
        func values(_ layer: RuntimeLayerConfig) -> [String: String] { layer.isAdmin ? runtimeOverrides : layer.values }
        let keys = Set(layers.flatMap { values($0).keys }).sorted()
        let entries = keys.map { key -> String in
            let perLayer = layers.map { values($0)[key] ?? "" }
            let final = perLayer.last { !$0.isEmpty } ?? ""
            return "  \(jsonString(key)): {\n   \"final_value\": \(jsonString(final)),\n   \"layer_values\": [\n"
                + perLayer.map { "    " + jsonString($0) }.joined(separator: ",\n") + "\n   ]\n  }"
        }
        let layerNames = layers.map { "  " + jsonString($0.name) }.joined(separator: ",\n")
        return .json("{\n \"entries\": {" + (entries.isEmpty ? "}" : "\n" + entries.joined(separator: ",\n") + "\n }")
            + ",\n \"layers\": [" + (layers.isEmpty ? "]" : "\n" + layerNames + "\n ]") + "\n}\n")
    }

    /// `POST /runtime_modify?k=v…`: sets keys in the admin layer (an empty
    /// value removes the override); 503 without an admin layer, the usage
    /// without parameters, as Envoy answers.
    func runtimeModifyResponse(_ request: AdminRequest) -> AdminResponse {
        guard !request.query.isEmpty else {
            return .text(400, "usage: /runtime_modify?key1=value1&key2=value2&keyN=valueN\n"
                + "       or send the parameters as form values\n"
                + "use an empty value to remove a previously added override")
        }
        guard config.runtimeLayers.contains(where: \.isAdmin) else { return .text(503, "No admin layer specified") }
        for (key, value) in request.query {
            runtimeOverrides[key] = value.isEmpty ? nil : value
        }
        loadRuntimeSnapshot()
        return .text(200, "OK\n")
    }

    /// A new runtime snapshot: counted and described in `runtime.*` as
    /// Envoy's loader does on each load.
    func loadRuntimeSnapshot() {
        let stats = runtimeStats.stats(RuntimeStat.self, thread: 0)
        let layers = config.runtimeLayers
        var keys: Set<String> = []
        for layer in layers { keys.formUnion(layer.isAdmin ? runtimeOverrides.keys : layer.values.keys) }
        stats.add(.loadSuccess)
        stats.add(.overrideDirNotExists)
        stats.set(.numKeys, Int64(keys.count))
        stats.set(.numLayers, Int64(layers.count))
        stats.set(.adminOverridesActive, runtimeOverrides.isEmpty ? 0 : 1)
    }

    // MARK: - /reset_counters

    /// Counters read from now on start from zero: their current totals
    /// become the baseline subtracted when stats are printed (the workers'
    /// rows are never written from here).
    func resetCounters() -> AdminResponse {
        for entry in store.snapshot() where entry.kind == .counter || entry.kind == .sparseCounter {
            counterBaseline[entry.name] = entry.value
        }
        return .text(200, "OK\n")
    }

    func applyCounterBaseline(_ entries: [StatsStore.Entry]) -> [StatsStore.Entry] {
        guard !counterBaseline.isEmpty else { return entries }
        return entries.map { entry in
            guard entry.kind == .counter || entry.kind == .sparseCounter, let base = counterBaseline[entry.name] else { return entry }
            return StatsStore.Entry(name: entry.name, kind: entry.kind, value: entry.value - base, histogram: entry.histogram)
        }
    }

    // MARK: - /config_dump

    /// The static config in Envoy's `ConfigDump` shape (see `ConfigDump`).
    func configDumpResponse(_ request: AdminRequest) -> AdminResponse {
        var nameRegex: CompiledRegex?
        if let pattern = request.query["name_regex"], !pattern.isEmpty {
            do throws(RegexSyntaxError) {
                nameRegex = try CompiledRegex(pattern)
            } catch {
                // Envoy's status text and RE2's message.
                return .text(400, "INVALID_ARGUMENT: Error while parsing name_regex from \(pattern): \(error.message)")
            }
        }
        let result = ConfigDump.json(bootstrapBytes: config.bootstrapBytes, lastUpdated: Self.timestamp(loadedAtSeconds),
                                     resource: request.query["resource"].flatMap { $0.isEmpty ? nil : $0 },
                                     mask: request.query["mask"].flatMap { $0.isEmpty ? nil : $0 },
                                     dynamicClusters: dynamicClustersDump(),
                                     endpoints: request.query["include_eds"] == nil ? nil : endpointsDump(),
                                     dynamic: listenerManager?.configDump(timestamp: Self.timestamp) ?? DynamicConfigDump(),
                                     secrets: secretManager?.configDump(timestamp: Self.timestamp) ?? SecretsDump(),
                                     buildVersion: XDSNode.make(bootstrap: config.node.message, version: binaryVersion).userAgentBuildVersion,
                                     named: { name in nameRegex.map { $0.fullMatch(name) } ?? true })
        switch result {
        case .success(let json): return .json(json)
        case .failure(.unknownResource(let resource)): return .text(404, "\(resource) not found in config dump")
        case .failure(.unavailable): return .text(500, "config_dump: the bootstrap is not available\n")
        case .failure(.maskNotApplicable(let mask)):
            return .text(400, "FieldMask \(mask) could not be successfully applied to any configs.")
        case .failure(.maskNotUsable(let paths)):
            // Envoy prints the mask's protobuf debug string here.
            return .text(400, "FieldMask " + paths.map { "paths: \"\($0)\"\n" }.joined() + " could not be successfully used.")
        }
    }

    /// RFC 3339 with milliseconds, as Envoy prints `last_updated`.
    /// The CDS clusters for `/config_dump`: active ones, and those (or the
    /// new versions of those) still warming, by name.
    func dynamicClustersDump() -> DynamicClusters {
        guard let discovery = clusterDiscovery else { return DynamicClusters() }
        func dump(_ records: [String: ClusterDiscovery.Record]) -> [DynamicCluster] {
            records.sorted { $0.key < $1.key }.map { _, record in
                DynamicCluster(versionInfo: record.versionInfo, bytes: record.bytes, lastUpdated: Self.timestamp(record.lastUpdatedSeconds))
            }
        }
        return DynamicClusters(versionInfo: discovery.versionInfo, active: dump(discovery.active), warming: dump(discovery.warming))
    }

    /// Every active cluster's hosts, for `?include_eds`: the bootstrap's,
    /// then the CDS ones, each by name (Envoy's cluster map is ordered).
    func endpointsDump() -> [ClusterEndpoints] {
        let dynamic = clusterManager.entries.values.filter(\.addedViaAPI).map(\.config.name).sorted()
        return (config.clusters.map(\.name).sorted() + dynamic).compactMap { name in
            guard let entry = clusterManager.entries[name] else { return nil }
            var assignment = name
            if case .eds(let service, _) = entry.config.discovery { assignment = service }
            let endpoints = entry.hostSet.endpoints ?? entry.hostSet.hosts.map { EndpointConfig(address: $0) }
            return ClusterEndpoints(name: assignment, dynamic: entry.addedViaAPI, endpoints: endpoints)
        }
    }

    static func timestamp(_ seconds: Double) -> String {
        rfc3339(seconds, milliseconds: true)
    }

    /// `2026-01-02T03:04:05.678Z` (or without the fraction), as protobuf's
    /// JSON prints a `Timestamp`. Built by hand: a Foundation
    /// `DateFormatter` per call (ICU underneath) was two thirds of a
    /// mesh-sized /config_dump's CPU.
    static func rfc3339(_ seconds: Double, milliseconds: Bool) -> String {
        // To the nearest millisecond (Envoy's clock readings have no more).
        let totalMilliseconds = Int64((seconds * 1000).rounded())
        var time = time_t(totalMilliseconds / 1000)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        var text = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
        if milliseconds {
            text += "." + String(String(totalMilliseconds % 1000 + 1000).dropFirst())
        }
        return text + "Z"
    }
}
