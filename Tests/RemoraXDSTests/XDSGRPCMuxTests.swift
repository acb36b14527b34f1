import Foundation
import RemoraAPI
@testable import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraUpstream
import Testing
@testable import RemoraXDS

/// The gRPC xDS client against Tests/Interop/xds_control_plane.py (grpcio
/// and xds-protos, run with the interop venv's python) on 127.0.0.1, driven
/// on an event loop of this thread with recording handlers: SotW ACK/NACK,
/// Delta subscribe/unsubscribe/removals, reconnection after the control
/// plane restarts (versions, initial_resource_versions), back-off, an
/// api_config_source stream, initial_fetch_timeout.
@Suite(.serialized) struct XDSGRPCMuxTests {
    static let python: String? = {
        if let explicit = ProcessInfo.processInfo.environment["REMORA_TEST_PYTHON"] { return explicit }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let venv = root.appendingPathComponent(".venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }()

    final class Handler: XDSUpdateHandler {
        var updates: [XDSUpdate] = []
        var rejected: [String] = []
        var fetchFailures: [XDSResourceType] = []
        /// Names refused with "bad resource <name>".
        var refuse: Set<String> = []

        func apply(_ update: XDSUpdate) throws(XDSRejection) {
            if let bad = update.updated.first(where: { refuse.contains($0.name) }) {
                rejected.append(bad.name)
                throw XDSRejection("bad resource \(bad.name)")
            }
            updates.append(update)
        }

        func initialFetchFailed(_ type: XDSResourceType) { fetchFailures.append(type) }
    }

    struct Fixture {
        let loop: EventLoop
        let store = StatsStore(workerCount: 1)
        let cp: ControlPlaneProcess
        let sources: XDSGRPCSources
        /// The main-loop view of the control plane's cluster.
        let cluster: WorkerCluster

        init(delta: Bool, setNodeOnFirstMessageOnly: Bool = false) throws {
            loop = try EventLoop()
            cp = try ControlPlaneProcess(python: XDSGRPCMuxTests.python!)
            let host = SocketAddress.ip("127.0.0.1", port: cp.port)!
            var config = ClusterConfig(name: "xds", discovery: .staticHosts([host]), connectTimeoutMilliseconds: 1000,
                                       loadBalancing: .roundRobin, bufferLimitBytes: 1 << 20)
            config.http = UpstreamHTTPConfig(protocolSelection: .http2, http2: HTTP2ProtocolOptions())
            let scope = ClusterStat.makeScope(cluster: "xds", in: store)
            let cluster = WorkerCluster(config: config, hostSet: HostSet(hosts: [host]), stats: scope.stats(ClusterStat.self, thread: 0),
                                        resources: ClusterResources(limits: .envoyDefaults), seed: 1, loop: loop)
            self.cluster = cluster
            var node = Envoy_Config_Core_V3_Node()
            node.id = "sidecar~1"
            node.cluster = "mesh"
            let clusterConfig = config
            sources = XDSGRPCSources(
                loop: loop, store: store, node: XDSNode.make(bootstrap: node, version: "0.1.0"),
                ads: GRPCSourceConfig(delta: delta, clusterName: "xds", setNodeOnFirstMessageOnly: setNodeOnFirstMessageOnly),
                clusters: .init(config: { $0 == "xds" ? clusterConfig : nil }, cluster: { $0 == "xds" ? cluster : nil }))
        }

        func subscribe(_ type: XDSResourceType, _ names: Set<String>, prefix: String, source: ConfigSourceConfig = ConfigSourceConfig(kind: .ads),
                       handler: Handler) throws -> any XDSSubscription {
            let stats = store.makeScope(prefix: prefix, XDSSubscriptionStat.self).stats(XDSSubscriptionStat.self, thread: 0)
            return try sources.subscribe(type, source: source, names: names, statPrefix: prefix, stats: stats, handler: handler)
        }

        func stat(_ name: String) -> Int64? {
            store.snapshot().first { $0.name == name }?.value
        }

        /// The first request the control plane recorded that matches.
        func find(_ match: ([String: Any]) -> Bool) -> [String: Any]? {
            cp.requests().first(where: match)
        }
    }

    /// A test's script on the loop (which runs once): each step waits for
    /// its condition (polled every 10 ms), then acts; the loop stops after
    /// the last, or fails the test after `timeout` ms naming the step.
    final class Steps {
        private var steps: [(what: String, when: () -> Bool, action: () throws -> Void)] = []

        func then(_ what: String, when: @escaping () -> Bool = { true }, _ action: @escaping () throws -> Void = {}) {
            steps.append((what, when, action))
        }

        func run(on loop: EventLoop, timeout: UInt64 = 20_000) {
            let poll = Timer(loop: loop)
            let started = loop.nowMilliseconds
            var next = 0
            poll.start(afterMilliseconds: 0, repeatMilliseconds: 10) { [self] in
                while next < steps.count, steps[next].when() {
                    do { try steps[next].action() } catch { Issue.record("step '\(steps[next].what)': \(error)") }
                    next += 1
                }
                if next == steps.count {
                    loop.stop()
                } else if loop.nowMilliseconds - started > timeout {
                    Issue.record("timed out at step '\(steps[next].what)'")
                    loop.stop()
                }
            }
            loop.run()
        }
    }

    static func type(_ r: [String: Any]) -> String { r["type_url"] as? String ?? "" }

    static let needsVenv: Comment = "needs the interop venv with grpcio and xds-protos (scripts/setup.sh --with-python) or REMORA_TEST_PYTHON"
    static let cdsURL = XDSResourceType.cluster.typeURL
    static let edsURL = XDSResourceType.clusterLoadAssignment.typeURL

    static func stream(_ r: [String: Any]) -> Int { r["stream"] as? Int ?? 0 }

    @Test(.enabled(if: python != nil, needsVenv))
    func stateOfTheWorldOverADS() throws {
        let f = try Fixture(delta: false)
        defer { f.cp.stop() }
        try f.cp.set("cds", ["c1": ["name": "c1"]])
        try f.cp.set("eds", ["a": ["cluster_name": "a"], "other": ["cluster_name": "other"]])
        let cds = Handler(), eds = Handler()
        let cdsSub = try f.subscribe(.cluster, [], prefix: "cluster_manager.cds.", handler: cds)
        let edsSub = try f.subscribe(.clusterLoadAssignment, ["a"], prefix: "cluster.a.", handler: eds)
        let steps = Steps()
        var before = 0
        steps.then("first CDS and EDS updates, ACKed", when: {
            cds.updates.count == 1 && eds.updates.count == 1 && f.cp.requests().filter { $0["is_ack"] as? Bool == true }.count == 2
        }) {
            #expect(cds.updates.first?.updated.map(\.name) == ["c1"])
            #expect(eds.updates.first?.updated.map(\.name) == ["a"])
            #expect(f.stat("control_plane.connected_state") == 1)
            #expect(f.stat("cluster_manager.cds.update_success") == 1)
            // As Envoy 1.40 shows it: the start, then the update.
            #expect(f.stat("cluster_manager.cds.update_attempt") == 2)
            #expect(f.stat("control_plane.pending_requests") == 0 && f.stat("control_plane.rate_limit_enforced") == 0)
            #expect(f.stat("cluster_manager.cds.version") == Int64(bitPattern: XXHash64.hash("1")))
            let requests = f.cp.requests()
            // CDS first, with the node and Remora's user agent.
            #expect(requests.first.map(Self.type) == Self.cdsURL)
            #expect(requests.first?["method"] as? String == "StreamAggregatedResources")
            let node = (requests.first?["request"] as? [String: Any])?["node"] as? [String: Any]
            #expect(node?["id"] as? String == "sidecar~1" && node?["user_agent_name"] as? String == "remora")
            #expect(requests.first { Self.type($0) == Self.edsURL }?["names"] as? [String] == ["a"])
            let ack = requests.first { Self.type($0) == Self.cdsURL && $0["is_ack"] as? Bool == true }
            #expect(ack?["version_info"] as? String == "1" && ack?["has_node"] as? Bool == true)
            // A refused update is NACKed.
            cds.refuse = ["bad"]
            try f.cp.set("cds", ["bad": ["name": "bad"]])
            try f.cp.push()
        }
        steps.then("the NACK", when: { f.find { $0["is_nack"] as? Bool == true } != nil }) {
            let nack = f.find { $0["is_nack"] as? Bool == true }
            #expect(nack?["version_info"] as? String == "1")
            #expect(nack?["error_message"] as? String == "bad resource bad")
            #expect(nack?["error_code"] as? Int == 13)
            #expect(f.stat("cluster_manager.cds.update_rejected") == 1)
            cds.refuse = []
            try f.cp.remove("cds", ["bad", "c1"])
            try f.cp.set("cds", ["c2": ["name": "c2"]])
            try f.cp.push()
        }
        steps.then("the fixed update removes what it lacks", when: { cds.updates.count == 2 }) {
            #expect(cds.updates.last?.updated.map(\.name) == ["c2"])
            #expect(cds.updates.last?.removed.sorted() == ["bad", "c1"])
            // New EDS names are asked for at once.
            edsSub.setResourceNames(["a", "other"])
        }
        steps.then("EDS asks for the new names", when: {
            // (Each push also re-sent EDS: the control plane pushes every type.)
            eds.updates.last?.updated.count == 2 && f.find { $0["names"] as? [String] == ["a", "other"] } != nil
        }) {
            #expect(eds.updates.last?.updated.map(\.name).sorted() == ["a", "other"])
            before = f.cp.requests().count
            try f.cp.stopServing()
        }
        steps.then("the stream fails", when: { f.stat("control_plane.connected_state") == 0 }) {
            #expect(f.stat("cluster_manager.cds.update_failure")! >= 1)
            #expect(cds.updates.count == 2)
            try f.cp.start()
        }
        steps.then("both types asked again on a new stream", when: {
            f.cp.requests().dropFirst(before).count >= 2 && cds.updates.count == 3
        }) {
            let again = Array(f.cp.requests().dropFirst(before))
            // CDS before EDS, the last accepted versions, no nonce.
            #expect(again.prefix(2).map(Self.type) == [Self.cdsURL, Self.edsURL])
            #expect(again[0]["version_info"] as? String == "4" && again[0]["nonce"] as? String == "")
            #expect(again[1]["names"] as? [String] == ["a", "other"])
            #expect(Self.stream(again[0]) > 1)
            #expect(f.stat("control_plane.connected_state") == 1)
        }
        steps.run(on: f.loop)
        withExtendedLifetime((cdsSub, edsSub)) {}
    }

    /// Two watches of one type on the ADS stream (as the secret manager
    /// makes one per secret): the stream asks for the union of their names,
    /// each hears only of its own, with its own stats; cancelling one asks
    /// for the other's names only.
    @Test(.enabled(if: python != nil, needsVenv), arguments: [false, true])
    func watchesShareOneTypeOnADS(delta: Bool) throws {
        let f = try Fixture(delta: delta)
        defer { f.cp.stop() }
        try f.cp.set("eds", ["a": ["cluster_name": "a"], "b": ["cluster_name": "b"]])
        let first = Handler(), second = Handler()
        let firstSub = try f.subscribe(.clusterLoadAssignment, ["a"], prefix: "w.a.", handler: first)
        var secondSub: (any XDSSubscription)? = try f.subscribe(.clusterLoadAssignment, ["b"], prefix: "w.b.", handler: second)
        let steps = Steps()
        var count = 0
        steps.then("each watch hears of its own", when: { first.updates.count >= 1 && second.updates.count >= 1 }) {
            count = second.updates.count
            #expect(first.updates.allSatisfy { $0.updated.map(\.name) == ["a"] })
            #expect(second.updates.allSatisfy { $0.updated.map(\.name) == ["b"] })
            #expect(f.stat("w.a.update_success")! >= 1 && f.stat("w.b.update_success")! >= 1)
            // The stream asked for both names at some point.
            let names = f.cp.requests().filter { Self.type($0) == Self.edsURL }.flatMap {
                ($0["names"] as? [String] ?? []) + ($0["subscribe"] as? [String] ?? [])
            }
            #expect(Set(names) == ["a", "b"])
            secondSub?.cancel()
            secondSub = nil
            try f.cp.set("eds", ["a": ["cluster_name": "a", "policy": ["overprovisioning_factor": 150]],
                                 "b": ["cluster_name": "b", "policy": ["overprovisioning_factor": 150]]])
            try f.cp.push()
        }
        steps.then("after the cancel only the first hears", when: {
            first.updates.count >= 2 && (delta ? f.find { ($0["unsubscribe"] as? [String]) == ["b"] } != nil
                                              : f.find { ($0["names"] as? [String]) == ["a"] && $0["is_ack"] as? Bool == true } != nil)
        }) {
            #expect(second.updates.count == count)
            #expect(first.updates.last?.updated.map(\.name) == ["a"])
        }
        steps.run(on: f.loop)
        withExtendedLifetime(firstSub) {}
    }

    @Test(.enabled(if: python != nil, needsVenv))
    func deltaOverADS() throws {
        let f = try Fixture(delta: true)
        defer { f.cp.stop() }
        try f.cp.set("cds", ["c1": ["name": "c1"], "c2": ["name": "c2"]])
        try f.cp.set("eds", ["a": ["cluster_name": "a"], "b": ["cluster_name": "b"]])
        let cds = Handler(), eds = Handler()
        let cdsSub = try f.subscribe(.cluster, [], prefix: "cluster_manager.cds.", handler: cds)
        let edsSub = try f.subscribe(.clusterLoadAssignment, ["a"], prefix: "cluster.a.", handler: eds)
        let steps = Steps()
        var versions: [String: String] = [:]
        steps.then("first Delta updates", when: { cds.updates.count == 1 && eds.updates.count == 1 }) {
            #expect(cds.updates[0].updated.map(\.name).sorted() == ["c1", "c2"] && !cds.updates[0].isStateOfTheWorld)
            #expect(eds.updates[0].updated.map(\.name) == ["a"])
            let first = f.cp.requests()
            #expect(first.first?["method"] as? String == "DeltaAggregatedResources")
            #expect(first.first.map(Self.type) == Self.cdsURL && first.first?["subscribe"] as? [String] == [])
            #expect(first.first { Self.type($0) == Self.edsURL }?["subscribe"] as? [String] == ["a"])
            edsSub.setResourceNames(["a", "b"])
        }
        steps.then("subscribe b", when: { eds.updates.count == 2 && f.find { $0["subscribe"] as? [String] == ["b"] } != nil }) {
            #expect(eds.updates[1].updated.map(\.name) == ["b"])
            edsSub.setResourceNames(["b"])
        }
        steps.then("unsubscribe a", when: { f.find { $0["unsubscribe"] as? [String] == ["a"] } != nil }) {
            try f.cp.remove("cds", ["c2"])
            try f.cp.push()
        }
        steps.then("removal", when: { cds.updates.count == 2 }) {
            #expect(cds.updates[1].removed == ["c2"] && cds.updates[1].updated.isEmpty)
            cds.refuse = ["c3"]
            try f.cp.set("cds", ["c3": ["name": "c3"]])
            try f.cp.push()
        }
        steps.then("the NACK", when: { f.find { $0["is_nack"] as? Bool == true } != nil }) {
            let nack = f.find { $0["is_nack"] as? Bool == true }
            #expect(nack?["error_message"] as? String == "bad resource c3")
            #expect((nack?["nonce"] as? String)?.isEmpty == false && nack?["error_code"] as? Int == 13)
            cds.refuse = []
            versions = try f.cp.resourceVersions()
            try f.cp.stopServing()
        }
        steps.then("the stream fails", when: { f.stat("control_plane.connected_state") == 0 }) {
            try f.cp.start()
        }
        steps.then("the whole interest again with the versions held", when: {
            f.find { Self.type($0) == Self.edsURL && Self.stream($0) > 1 } != nil
        }) {
            let cdsAgain = f.find { Self.type($0) == Self.cdsURL && Self.stream($0) > 1 }
            // c3 was refused, so it is not held.
            #expect(cdsAgain?["initial_resource_versions"] as? [String: String] == ["c1": versions["c1"] ?? "?"])
            #expect(cdsAgain?["subscribe"] as? [String] == [])
            let edsAgain = f.find { Self.type($0) == Self.edsURL && Self.stream($0) > 1 }
            #expect(edsAgain?["subscribe"] as? [String] == ["b"])
            #expect(edsAgain?["initial_resource_versions"] as? [String: String] == ["b": versions["b"] ?? "?"])
        }
        steps.run(on: f.loop)
        withExtendedLifetime((cdsSub, edsSub)) {}
    }

    @Test(.enabled(if: python != nil, needsVenv))
    func apiConfigSourceStreamAndInitialFetchTimeout() throws {
        let f = try Fixture(delta: false, setNodeOnFirstMessageOnly: true)
        defer { f.cp.stop() }
        try f.cp.set("lds", ["l1": ["name": "l1"]])
        let lds = Handler(), rds = Handler()
        let source = ConfigSourceConfig(kind: .grpc(GRPCSourceConfig(delta: false, clusterName: "xds")))
        let ldsSub = try f.subscribe(.listener, [], prefix: "listener_manager.lds.", source: source, handler: lds)
        let missing = ConfigSourceConfig(kind: .ads, initialFetchTimeoutMilliseconds: 200)
        let rdsSub = try f.subscribe(.routeConfiguration, ["nowhere"], prefix: "http.in.rds.nowhere.", source: missing, handler: rds)
        let steps = Steps()
        steps.then("LDS update, RDS ACK and the RDS fetch timeout", when: {
            lds.updates.count == 1 && rds.fetchFailures.count == 1
                && f.find { Self.type($0) == XDSResourceType.routeConfiguration.typeURL && $0["is_ack"] as? Bool == true } != nil
        }) {
            #expect(f.stat("listener_manager.lds.control_plane.connected_state") == 1)
            #expect(f.stat("control_plane.connected_state") == 1)
            #expect(f.stat("http.in.rds.nowhere.init_fetch_timeout") == 1)
            #expect(rds.fetchFailures == [.routeConfiguration] && rds.updates.isEmpty)
            #expect(f.find { $0["method"] as? String == "StreamListeners" } != nil)
            // set_node_on_first_message_only on ADS: only its first request has the node.
            let rdsRequests = f.cp.requests().filter { Self.type($0) == XDSResourceType.routeConfiguration.typeURL }
            #expect(rdsRequests.map { $0["has_node"] as? Bool } == [true, false])
            ldsSub.cancel()
        }
        steps.then("cancelling closes the api_config_source stream; its control_plane.* leave with it", when: {
            f.stat("listener_manager.lds.control_plane.connected_state") == nil
        }) {
            #expect(rds.fetchFailures.count == 1)
        }
        steps.run(on: f.loop)
        withExtendedLifetime(rdsSub) {}
    }

    @Test(.enabled(if: python != nil, needsVenv))
    func backOffWhileTheControlPlaneIsDown() throws {
        let f = try Fixture(delta: false)
        defer { f.cp.stop() }
        let scope = f.store.makeScope(prefix: "control_plane.", XDSControlPlaneStat.self)
        let client = try GRPCAsyncClient(cluster: f.cluster, loop: f.loop)
        let mux = XDSGRPCStreams.make(delta: false, setNodeOnFirstMessageOnly: false, method: .aggregated(delta: false), loop: f.loop,
                                      node: Envoy_Config_Core_V3_Node(), controlPlaneStats: scope,
                                      backOff: XDSBackOff(base: 40, max: 160)) { client } as! XDSGRPCMux<SotWMuxState>
        try f.cp.set("cds", ["c1": ["name": "c1"]])
        let cds = Handler()
        let stats = f.store.makeScope(prefix: "cds.", XDSSubscriptionStat.self).stats(XDSSubscriptionStat.self, thread: 0)
        let sub = mux.subscribe(.cluster, names: [], stats: stats, initialFetchTimeoutMilliseconds: 0, handler: cds)
        let steps = Steps()
        steps.then("first update", when: { cds.updates.count == 1 }) {
            try f.cp.stopServing()
        }
        steps.then("six retries", when: { mux.retryDelays.count >= 6 }) {
            // Jittered below an interval doubling from 40 ms up to 160 ms.
            for (delay, bound) in zip(mux.retryDelays, [40, 80, 160, 160, 160, 160] as [UInt64]) { #expect(delay < bound) }
            #expect(f.stat("cds.update_failure")! >= 6)
            #expect(cds.updates.count == 1)
            try f.cp.start()
        }
        steps.then("back after the restart", when: { mux.isConnected && cds.updates.count == 2 }) {
            mux.shutdown()
        }
        steps.run(on: f.loop)
        withExtendedLifetime(sub) {}
    }
}

/// Tests/Interop/xds_control_plane.py as a process, driven by JSON lines.
final class ControlPlaneProcess {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    let port: UInt16
    private var buffer = Data()

    init(python: String) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/xds_control_plane.py")
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = Self.readLine(output, &buffer)
        let words = line.split(separator: " ")
        guard words.count == 2, words[0] == "PORT", let port = UInt16(words[1]) else {
            process.terminate()
            throw ControlPlaneError(message: "xds_control_plane.py did not start (are grpcio and xds-protos installed?): \(line)")
        }
        self.port = port
    }

    private static func readLine(_ pipe: Pipe, _ buffer: inout Data) -> String {
        while !buffer.contains(UInt8(ascii: "\n")) {
            let more = pipe.fileHandleForReading.availableData
            if more.isEmpty { break }
            buffer.append(more)
        }
        guard let end = buffer.firstIndex(of: UInt8(ascii: "\n")) else {
            defer { buffer = Data() }
            return String(decoding: buffer, as: UTF8.self)
        }
        let line = String(decoding: buffer[buffer.startIndex..<end], as: UTF8.self)
        buffer = Data(buffer[buffer.index(after: end)...])
        return line
    }

    @discardableResult
    func command(_ body: [String: Any]) throws -> [String: Any] {
        var data = try JSONSerialization.data(withJSONObject: body)
        data.append(UInt8(ascii: "\n"))
        input.fileHandleForWriting.write(data)
        let line = Self.readLine(output, &buffer)
        guard let answer = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              answer["ok"] as? Bool == true else {
            throw ControlPlaneError(message: "control plane: \(line)")
        }
        return answer
    }

    func set(_ type: String, _ resources: [String: [String: Any]]) throws {
        try command(["op": "set", "type": type, "resources": resources])
    }

    func remove(_ type: String, _ names: [String]) throws { try command(["op": "remove", "type": type, "names": names]) }
    func push() throws { try command(["op": "push"]) }
    func start() throws { try command(["op": "start"]) }
    func stopServing() throws { try command(["op": "stop"]) }

    /// Stops serving, runs `between` (the client notices), serves the same port again.
    func restart(between: () -> Void) throws {
        try command(["op": "stop"])
        between()
        try command(["op": "start"])
    }

    func requests() -> [[String: Any]] {
        (try? command(["op": "requests"]))?["requests"] as? [[String: Any]] ?? []
    }

    /// Every resource's current version, by name (the control plane's counters).
    func resourceVersions() throws -> [String: String] {
        try command(["op": "versions"])["versions"] as? [String: String] ?? [:]
    }

    func stop() {
        if process.isRunning {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }
}

struct ControlPlaneError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
