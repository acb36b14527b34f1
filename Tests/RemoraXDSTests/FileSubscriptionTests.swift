import Foundation
import Testing
import RemoraCore
import RemoraEventLoop
@testable import RemoraXDS

/// Records what a subscription delivers; can be told to refuse.
final class RecordingHandler: XDSUpdateHandler {
    var updates: [XDSUpdate] = []
    var failedFirstFetches: [XDSResourceType] = []
    var refuse: String?
    var onEvent: (() -> Void)?

    func apply(_ update: XDSUpdate) throws(XDSRejection) {
        defer { onEvent?() }
        if let refuse { throw XDSRejection(refuse) }
        updates.append(update)
    }

    func initialFetchFailed(_ type: XDSResourceType) {
        failedFirstFetches.append(type)
        onEvent?()
    }
}

@Suite(.serialized) struct FileSubscriptionTests {
    static func clusters(_ version: String, _ names: [String]) -> String {
        var text = "version_info: \"\(version)\"\nresources:\n"
        for name in names {
            text += """
            - "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
              name: \(name)
              type: STATIC

            """
        }
        return text
    }

    /// Writes beside the target and renames into place, as a control plane does.
    static func replace(_ path: String, with text: String) throws {
        let temporary = path + ".tmp"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        #expect(rename(temporary, path) == 0)
    }

    /// One step of a script: do something on the loop, wait for `events` handler calls.
    struct Step {
        var events: Int
        var action: () throws -> Void = {}
    }

    /// Runs the steps in order on one run of the loop (a loop runs once).
    static func run(_ loop: EventLoop, _ handler: RecordingHandler, _ steps: [Step], then check: (Int) -> Void = { _ in }) {
        var index = 0
        var seen = 0
        var timedOut = false
        func begin() {
            guard index < steps.count else { loop.stop(); return }
            seen = 0
            let step = steps[index]
            let kick = RemoraEventLoop.Timer(loop: loop)
            kick.start(afterMilliseconds: 0) {
                do { try step.action() } catch { Issue.record("step: \(error)") }
            }
        }
        handler.onEvent = {
            // Events after the last step (the loop stops at the end of its turn) are not counted.
            guard index < steps.count else { return }
            seen += 1
            if seen == steps[index].events {
                index += 1
                begin()
            }
        }
        let watchdog = RemoraEventLoop.Timer(loop: loop)
        watchdog.start(afterMilliseconds: 5000) { timedOut = true; loop.stop() }
        begin()
        loop.run()
        #expect(!timedOut, "timed out in step \(index) after \(seen) events")
    }

    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "remora-fs-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func readsAtStartThenOnMoveAndRemovesWhatIsGone() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/cds.yaml"
        try Self.replace(path, with: Self.clusters("1", ["a", "b"]))

        let loop = try EventLoop()
        let store = StatsStore(workerCount: 1)
        let handler = RecordingHandler()
        let factory = XDSSubscriptionFactory(loop: loop, store: store)
        let subscription = try factory.subscribe(.cluster, source: .init(kind: .path(path, watchedDirectory: nil)),
                                                 names: [], statPrefix: "cluster_manager.cds.", handler: handler)
        Self.run(loop, handler, [
            Step(events: 1),
            // A write in place is not seen (Envoy watches moves only); the rename is.
            Step(events: 1) {
                try Self.clusters("ignored", ["z"]).write(toFile: path, atomically: false, encoding: .utf8)
                try Self.replace(path, with: Self.clusters("2", ["b", "c"]))
            },
            // Unparsable: update_failure, nothing delivered. Refused: update_rejected.
            Step(events: 1) {
                handler.refuse = "cluster 'd': bad"
                try Self.replace(path, with: "version_info: 3\nresources: [{bogus: 1}]\n")
                // Identical inotify events not yet read are merged: the second move waits.
                RemoraEventLoop.Timer(loop: loop).start(afterMilliseconds: 100) {
                    #expect(throws: Never.self) { try Self.replace(path, with: Self.clusters("4", ["d"])) }
                }
            },
        ])
        #expect(handler.updates.map(\.versionInfo) == ["1", "2"])
        #expect(handler.updates.map { $0.updated.map(\.name) } == [["a", "b"], ["b", "c"]])
        #expect(handler.updates.map(\.removed) == [[], ["a"]])
        #expect(handler.updates.allSatisfy { $0.isStateOfTheWorld })
        let snapshot = Dictionary(store.snapshot().map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(snapshot["cluster_manager.cds.update_attempt"] == 4)
        #expect(snapshot["cluster_manager.cds.update_success"] == 2)
        #expect(snapshot["cluster_manager.cds.update_failure"] == 1)
        #expect(snapshot["cluster_manager.cds.update_rejected"] == 1)
        #expect(snapshot["cluster_manager.cds.version"] == Int64(bitPattern: XXHash64.hash("2")))
        #expect(handler.failedFirstFetches.isEmpty)
        subscription.cancel()
    }

    @Test func namedTypesDeliverOnlyWhatIsAskedAndAMissingFileFailsTheFirstFetch() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let loop = try EventLoop()
        let handler = RecordingHandler()
        let factory = XDSSubscriptionFactory(loop: loop, store: StatsStore(workerCount: 1))
        let path = dir + "/eds.yaml"
        try Self.replace(path, with: """
            version_info: v1
            resources:
            - {"@type": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment, cluster_name: one}
            - {"@type": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment, cluster_name: two}
            """)
        // (Subscribed after the file is in place: a move queued before a watch
        // of the same directory is read later, by every watch of it.)
        let missing = try factory.subscribe(.routeConfiguration, source: .init(kind: .path(dir + "/none.yaml", watchedDirectory: nil)),
                                            names: ["r"], statPrefix: "rds.", handler: handler)
        let eds = try factory.subscribe(.clusterLoadAssignment, source: .init(kind: .path(path, watchedDirectory: dir)),
                                        names: ["two"], statPrefix: "eds.", handler: handler)
        Self.run(loop, handler, [
            Step(events: 2),
            // Asking for more reads the file again; a move of any file into the watched directory does too.
            Step(events: 2) {
                eds.setResourceNames(["one", "two"])
                try "x".write(toFile: dir + "/other.tmp", atomically: false, encoding: .utf8)
                #expect(rename(dir + "/other.tmp", dir + "/other") == 0)
            },
        ])
        #expect(handler.failedFirstFetches == [.routeConfiguration])
        #expect(handler.updates.map { $0.updated.map(\.name) } == [["two"], ["one", "two"], ["one", "two"]])
        missing.cancel()
        eds.cancel()
    }

    @Test func aResourceOfAnotherTypeIsRefused() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/lds.yaml"
        try Self.replace(path, with: Self.clusters("1", ["a"]))
        let loop = try EventLoop()
        let handler = RecordingHandler()
        let store = StatsStore(workerCount: 1)
        let lds = try XDSSubscriptionFactory(loop: loop, store: store).subscribe(
            .listener, source: .init(kind: .path(path, watchedDirectory: nil)), names: [], statPrefix: "lds.", handler: handler)
        Self.run(loop, handler, [Step(events: 1)])
        #expect(handler.updates.isEmpty)
        #expect(handler.failedFirstFetches == [.listener])
        #expect(store.snapshot().first { $0.name == "lds.update_rejected" }?.value == 1)
        lds.cancel()
    }
}

@Suite struct XXHash64Tests {
    @Test func knownVectors() {
        #expect(XXHash64.hash("") == 0xEF46_DB37_51D8_E999)
        #expect(XXHash64.hash("a") == 0xD24E_C4F1_A98C_6E5B)
        #expect(XXHash64.hash("abc") == 0x44BC_2CF5_AD77_0999)
        #expect(XXHash64.hash("Nobody inspects the spammish repetition") == 0xFBCE_A83C_8A37_8BF1)
    }
}
