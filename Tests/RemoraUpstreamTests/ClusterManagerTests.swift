import Testing
@testable import RemoraConfig
import RemoraCore
import RemoraEventLoop
@testable import RemoraUpstream

/// Clusters added, replaced and removed at run time, warming EDS clusters
/// and load assignments → host sets (on a loop, as the server runs them).
@Suite struct ClusterManagerTests {
    static let edsSource = ConfigSourceConfig(kind: .path("/tmp/eds.json", watchedDirectory: nil), initialFetchTimeoutMilliseconds: 0)

    func staticCluster(_ name: String, port: UInt16) -> ClusterConfig {
        ClusterConfig(name: name, discovery: .staticHosts([SocketAddress.ip("127.0.0.1", port: port)!]),
                      connectTimeoutMilliseconds: 1000, loadBalancing: .roundRobin, bufferLimitBytes: 1 << 20)
    }

    func edsCluster(_ name: String, service: String) -> ClusterConfig {
        ClusterConfig(name: name, discovery: .eds(serviceName: service, source: Self.edsSource),
                      connectTimeoutMilliseconds: 1000, loadBalancing: .roundRobin, bufferLimitBytes: 1 << 20)
    }

    /// Runs `body` with a loop owned by this thread (nothing here waits on it).
    func onLoop(_ body: (EventLoop, StatsStore) -> Void) throws {
        body(try EventLoop(), StatsStore(workerCount: 1))
    }

    @Test func addModifyRemoveCountAndTellTheWorkers() throws {
        try onLoop { loop, store in
            var installed: [String] = []
            var removed: [String] = []
            let manager = ClusterManager(loop: loop, store: store) { _, _ in }
            manager.onInstall = { installed.append($0.config.name) }
            manager.onRemove = { removed.append($0) }
            manager.start([staticCluster("boot", port: 1)]) {}
            #expect(manager.addOrUpdate(staticCluster("a", port: 2)) == .added)
            #expect(manager.addOrUpdate(staticCluster("a", port: 3)) == .modified)
            #expect(manager.entries["a"]?.hostSet.hosts == [SocketAddress.ip("127.0.0.1", port: 3)!])
            // The bootstrap's cluster cannot be replaced or removed.
            #expect(manager.addOrUpdate(staticCluster("boot", port: 4)) == .staticCluster)
            #expect(!manager.remove("boot"))
            #expect(manager.entries["boot"]?.hostSet.hosts == [SocketAddress.ip("127.0.0.1", port: 1)!])
            #expect(manager.remove("a"))
            #expect(!manager.remove("a"))
            #expect(installed == ["a", "a"])
            #expect(removed == ["a"])
            #expect(store.value(of: "cluster_manager.cluster_added") == 2)
            #expect(store.value(of: "cluster_manager.cluster_modified") == 1)
            #expect(store.value(of: "cluster_manager.cluster_removed") == 1)
            #expect(store.value(of: "cluster_manager.active_clusters") == 1)
            // A removed cluster's stats are no longer listed.
            #expect(store.value(of: "cluster.a.upstream_rq_total") == nil)
            #expect(store.value(of: "cluster.boot.upstream_rq_total") == 0)
        }
    }

    @Test func edsClusterWarmsUntilItsAssignment() throws {
        try onLoop { loop, store in
            var installed: [String] = []
            var published: [HostSet] = []
            let manager = ClusterManager(loop: loop, store: store) { _, hosts in published.append(hosts) }
            manager.onInstall = { installed.append($0.config.name) }
            #expect(manager.addOrUpdate(edsCluster("e", service: "svc")) == .added)
            #expect(!manager.isWarm)
            #expect(installed.isEmpty)
            #expect(store.value(of: "cluster_manager.warming_clusters") == 1)
            #expect(manager.edsServices == [Self.edsSource: ["svc"]])
            let host = SocketAddress.ip("10.0.0.1", port: 80)!
            manager.applyAssignment(service: "svc", source: Self.edsSource, endpoints: [EndpointConfig(address: host)],
                                    versionHash: 7, timeMilliseconds: 1)
            #expect(manager.isWarm)
            #expect(installed == ["e"])
            #expect(manager.entries["e"]?.hostSet.hosts == [host])
            #expect(store.value(of: "cluster_manager.active_clusters") == 1)
            #expect(store.value(of: "cluster.e.update_success") == 1)
            #expect(store.value(of: "cluster.e.version") == 7)
            // The same membership again is no rebuild; a new one is published.
            manager.applyAssignment(service: "svc", source: Self.edsSource, endpoints: [EndpointConfig(address: host)],
                                    versionHash: 8, timeMilliseconds: 2)
            #expect(store.value(of: "cluster.e.update_no_rebuild") == 1)
            #expect(published.isEmpty)
            manager.applyAssignment(service: "svc", source: Self.edsSource,
                                    endpoints: [EndpointConfig(address: host, health: .unhealthy)], versionHash: 9, timeMilliseconds: 3)
            #expect(published.count == 1)
            #expect(store.value(of: "cluster.e.membership_healthy") == 0)
            manager.assignmentRejected(service: "svc", source: Self.edsSource)
            #expect(store.value(of: "cluster.e.update_rejected") == 1)
            // A second cluster naming a known service needs no wait.
            #expect(manager.addOrUpdate(edsCluster("f", service: "svc")) == .added)
            #expect(manager.isWarm)
            #expect(manager.entries["f"]?.hostSet.hosts == [host])
            // The services asked for follow removals (the EDS request drops them).
            #expect(manager.addOrUpdate(edsCluster("g", service: "other")) == .added)
            #expect(manager.edsServices == [Self.edsSource: ["svc", "other"]])
            #expect(manager.clusters(fedBy: "svc", from: Self.edsSource).sorted() == ["e", "f"])
            #expect(manager.remove("g"))
            #expect(manager.edsServices == [Self.edsSource: ["svc"]])
            #expect(manager.remove("e") && manager.remove("f"))
            #expect(manager.edsServices.isEmpty)
        }
    }

    @Test func failedInitialFetchEndsWarmingOfTheServiceItWasFor() throws {
        try onLoop { loop, store in
            let manager = ClusterManager(loop: loop, store: store) { _, _ in }
            _ = manager.addOrUpdate(edsCluster("a", service: "a"))
            _ = manager.addOrUpdate(edsCluster("b", service: "b"))
            manager.initialFetchFailed(source: Self.edsSource, service: "a")
            #expect(manager.entries["a"] != nil && manager.entries["b"] == nil)
            #expect(manager.warming["b"] != nil)
        }
    }

    /// A refused update (replacements: false) activates the clusters with no
    /// version serving; a replacement warms on beside its active version.
    @Test func refusedUpdateEndsWarmingOfNewClustersOnly() throws {
        try onLoop { loop, store in
            let manager = ClusterManager(loop: loop, store: store) { _, _ in }
            let host = SocketAddress.ip("10.0.0.1", port: 80)!
            manager.applyAssignment(service: "x", source: Self.edsSource, endpoints: [EndpointConfig(address: host)],
                                    versionHash: 1, timeMilliseconds: 1)
            _ = manager.addOrUpdate(edsCluster("r", service: "x"))
            #expect(manager.entries["r"]?.hostSet.hosts == [host])
            _ = manager.addOrUpdate(edsCluster("r", service: "y"))
            _ = manager.addOrUpdate(edsCluster("n", service: "z"))
            #expect(manager.warming["r"] != nil && manager.warming["n"] != nil)
            manager.initialFetchFailed(source: Self.edsSource, replacements: false)
            #expect(manager.entries["n"]?.hostSet.hosts == [])
            #expect(manager.warming["n"] == nil)
            #expect(manager.warming["r"] != nil)
            #expect(manager.entries["r"]?.hostSet.hosts == [host])
        }
    }

    @Test func failedInitialFetchEndsWarming() throws {
        try onLoop { loop, store in
            let manager = ClusterManager(loop: loop, store: store) { _, _ in }
            _ = manager.addOrUpdate(edsCluster("e", service: "e"))
            manager.initialFetchFailed(source: Self.edsSource)
            #expect(manager.isWarm)
            #expect(manager.entries["e"]?.hostSet.hosts == [])
        }
    }

    @Test func missingAssignmentEndsWarmingAndAReplacementWarmsBesideTheActiveOne() throws {
        try onLoop { loop, store in
            var installed: [ClusterConfig] = []
            let manager = ClusterManager(loop: loop, store: store) { _, _ in }
            manager.onInstall = { installed.append($0.config) }
            _ = manager.addOrUpdate(edsCluster("e", service: "one"))
            manager.assignmentMissing(service: "one", source: Self.edsSource)
            #expect(manager.isWarm && installed.map(\.name) == ["e"])
            #expect(store.value(of: "cluster.e.update_empty") == 1)
            // The new version waits for its service; the workers keep the old one meanwhile.
            #expect(manager.addOrUpdate(edsCluster("e", service: "two")) == .modified)
            #expect(!manager.isWarm)
            #expect(manager.entries["e"]?.config == edsCluster("e", service: "one"))
            #expect(manager.warming["e"]?.config == edsCluster("e", service: "two"))
            manager.applyAssignment(service: "two", source: Self.edsSource,
                                    endpoints: [EndpointConfig(address: SocketAddress.ip("10.0.0.9", port: 80)!)],
                                    versionHash: 1, timeMilliseconds: 1)
            #expect(manager.isWarm && installed.count == 2)
            #expect(manager.entries["e"]?.config == edsCluster("e", service: "two"))
            #expect(store.value(of: "cluster_manager.cluster_modified") == 1)
        }
    }

    /// A cluster moved to another EDS service: while the new version warms
    /// the old one keeps taking its own service's updates; once it is
    /// replaced, the old service is no longer asked for (Envoy drops the old
    /// version's watch) nor fed to the cluster, and moving back asks for it
    /// again. A removed cluster's service goes the same way.
    @Test func aClusterMovedToAnotherServiceStopsAskingForTheOldOne() throws {
        try onLoop { loop, store in
            var published: [(String, HostSet)] = []
            var dropped = 0
            let manager = ClusterManager(loop: loop, store: store) { published.append(($0, $1)) }
            manager.onEDSServicesDropped = { dropped += 1 }
            let one = SocketAddress.ip("10.0.0.1", port: 80)!
            let two = SocketAddress.ip("10.0.0.2", port: 80)!
            let three = SocketAddress.ip("10.0.0.3", port: 80)!
            _ = manager.addOrUpdate(edsCluster("e", service: "one"))
            _ = manager.addOrUpdate(edsCluster("other", service: "kept"))
            manager.applyAssignment(service: "one", source: Self.edsSource, endpoints: [EndpointConfig(address: one)],
                                    versionHash: 1, timeMilliseconds: 1)
            manager.assignmentMissing(service: "kept", source: Self.edsSource)
            #expect(manager.isWarm)
            #expect(manager.edsServices == [Self.edsSource: ["one", "kept"]])

            _ = manager.addOrUpdate(edsCluster("e", service: "two"))
            #expect(manager.edsServices == [Self.edsSource: ["one", "two", "kept"]])
            // The active version still follows "one"; the warming one is not woken by it.
            manager.applyAssignment(service: "one", source: Self.edsSource, endpoints: [EndpointConfig(address: three)],
                                    versionHash: 2, timeMilliseconds: 2)
            #expect(!manager.isWarm)
            #expect(manager.entries["e"]?.hostSet.hosts == [three])
            #expect(published.map(\.0) == ["e"])

            manager.applyAssignment(service: "two", source: Self.edsSource, endpoints: [EndpointConfig(address: two)],
                                    versionHash: 3, timeMilliseconds: 3)
            #expect(manager.isWarm)
            #expect(manager.entries["e"]?.hostSet.hosts == [two])
            #expect(dropped == 1)
            #expect(manager.edsServices == [Self.edsSource: ["two", "kept"]])
            // An update of the old service no longer reaches the cluster.
            manager.applyAssignment(service: "one", source: Self.edsSource, endpoints: [EndpointConfig(address: one)],
                                    versionHash: 4, timeMilliseconds: 4)
            #expect(manager.entries["e"]?.hostSet.hosts == [two])
            manager.assignmentMissing(service: "one", source: Self.edsSource)
            #expect(store.value(of: "cluster.e.update_empty") == 0)

            // Back to "one": asked for again (its last assignment stands in, from a file source).
            _ = manager.addOrUpdate(edsCluster("e", service: "one"))
            #expect(manager.entries["e"]?.config == edsCluster("e", service: "one"))
            #expect(manager.entries["e"]?.hostSet.hosts == [one])
            #expect(manager.edsServices == [Self.edsSource: ["one", "kept"]])
            #expect(dropped == 2)

            #expect(manager.remove("other"))
            #expect(manager.edsServices == [Self.edsSource: ["one"]])
            #expect(dropped == 3)
        }
    }

    /// An assignment sent again with the same digest is taken from the host
    /// set already made (counted as a new one would be, a warming cluster
    /// goes active); another digest, or a forgotten service, is not.
    @Test func anUnchangedAssignmentIsTakenWithoutCompiling() throws {
        try onLoop { loop, store in
            var published: [HostSet] = []
            let manager = ClusterManager(loop: loop, store: store) { published.append($1) }
            let host = SocketAddress.ip("10.0.0.1", port: 80)!
            let first = AssignmentDigest(count: 20, hash: 1)
            _ = manager.addOrUpdate(edsCluster("e", service: "svc"))
            #expect(!manager.applyUnchangedAssignment(service: "svc", source: Self.edsSource, digest: first,
                                                      versionHash: 1, timeMilliseconds: 1))
            #expect(!manager.isWarm)
            manager.applyAssignment(service: "svc", source: Self.edsSource, endpoints: [EndpointConfig(address: host)],
                                    versionHash: 1, timeMilliseconds: 1, digest: first)
            #expect(manager.isWarm)
            #expect(manager.applyUnchangedAssignment(service: "svc", source: Self.edsSource, digest: first,
                                                     versionHash: 2, timeMilliseconds: 2))
            #expect(store.value(of: "cluster.e.update_no_rebuild") == 1)
            #expect(store.value(of: "cluster.e.update_success") == 2)
            #expect(store.value(of: "cluster.e.version") == 2)
            // Another digest (same length, other bytes) must be compiled.
            #expect(!manager.applyUnchangedAssignment(service: "svc", source: Self.edsSource,
                                                      digest: AssignmentDigest(count: 20, hash: 2), versionHash: 3, timeMilliseconds: 3))
            #expect(!manager.applyUnchangedAssignment(service: "svc", source: Self.edsSource,
                                                      digest: AssignmentDigest(count: 21, hash: 1), versionHash: 3, timeMilliseconds: 3))
            #expect(store.value(of: "cluster.e.update_success") == 2)
            // A new version of the cluster warms; the unchanged assignment wakes it.
            var replaced = edsCluster("e", service: "svc")
            replaced.connectTimeoutMilliseconds = 2000
            _ = manager.addOrUpdate(replaced)
            #expect(manager.isWarm) // a file source: the known assignment stands in at once
            let changed = AssignmentDigest(count: 30, hash: 3)
            manager.applyAssignment(service: "svc", source: Self.edsSource,
                                    endpoints: [EndpointConfig(address: host), EndpointConfig(address: SocketAddress.ip("10.0.0.2", port: 80)!)],
                                    versionHash: 4, timeMilliseconds: 4, digest: changed)
            #expect(published.count == 1)
            #expect(!manager.applyUnchangedAssignment(service: "svc", source: Self.edsSource, digest: first,
                                                      versionHash: 5, timeMilliseconds: 5))
            #expect(manager.applyUnchangedAssignment(service: "svc", source: Self.edsSource, digest: changed,
                                                     versionHash: 5, timeMilliseconds: 5))
            #expect(published.count == 1)
            manager.forgetAssignments(except: [])
            #expect(!manager.applyUnchangedAssignment(service: "svc", source: Self.edsSource, digest: changed,
                                                      versionHash: 6, timeMilliseconds: 6))
        }
    }

    @Test func clusterWaitingForSecretsWarmsUntilTheyArriveAndItsHostsAreIn() throws {
        try onLoop { loop, store in
            var installed: [String] = []
            let manager = ClusterManager(loop: loop, store: store) { _, _ in }
            manager.onInstall = { installed.append($0.config.name) }
            // A STATIC cluster has its hosts at once; it waits for its secrets only.
            #expect(manager.addOrUpdate(staticCluster("s", port: 1), waitingForSecrets: true) == .added)
            #expect(!manager.isWarm && installed.isEmpty)
            #expect(store.value(of: "cluster_manager.warming_clusters") == 1)
            manager.secretsArrived("s")
            #expect(manager.isWarm && installed == ["s"])
            // An EDS one whose secrets come first still waits for its hosts, and the other way round.
            _ = manager.addOrUpdate(edsCluster("e", service: "svc"), waitingForSecrets: true)
            manager.secretsArrived("e")
            #expect(!manager.isWarm)
            manager.applyAssignment(service: "svc", source: Self.edsSource,
                                    endpoints: [EndpointConfig(address: SocketAddress.ip("10.0.0.1", port: 80)!)],
                                    versionHash: 1, timeMilliseconds: 1)
            #expect(manager.isWarm && installed == ["s", "e"])
            _ = manager.addOrUpdate(edsCluster("f", service: "other"), waitingForSecrets: true)
            manager.assignmentMissing(service: "other", source: Self.edsSource)
            #expect(!manager.isWarm && installed == ["s", "e"])
            // A replacement that waits forgets the version it replaced.
            _ = manager.addOrUpdate(edsCluster("f", service: "svc"), waitingForSecrets: true)
            #expect(!manager.isWarm)
            manager.secretsArrived("f")
            #expect(manager.isWarm && installed == ["s", "e", "f"])
            #expect(manager.entries["f"]?.config == edsCluster("f", service: "svc"))
            // Secrets of a removed cluster change nothing.
            _ = manager.addOrUpdate(staticCluster("g", port: 2), waitingForSecrets: true)
            #expect(manager.remove("g"))
            manager.secretsArrived("g")
            #expect(manager.isWarm && manager.entries["g"] == nil)
        }
    }

    @Test func hostSetHealthAndPanic() {
        let a = SocketAddress.ip("10.0.0.1", port: 80)!
        let b = SocketAddress.ip("10.0.0.2", port: 80)!
        let c = SocketAddress.ip("10.0.0.3", port: 80)!
        // Half the hosts not draining are healthy: no panic, the healthy one only.
        let set = HostSet(endpoints: [EndpointConfig(address: a), EndpointConfig(address: b, health: .unhealthy),
                                      EndpointConfig(address: c, health: .draining)])
        #expect(!set.inPanic)
        #expect(set.balanced == [a])
        #expect(set.healthyCount == 1 && set.excludedCount == 1 && set.hosts == [a, b, c])
        // One of three: panic, every host not draining.
        let panic = HostSet(endpoints: [EndpointConfig(address: a), EndpointConfig(address: b, health: .unhealthy),
                                        EndpointConfig(address: c, health: .unhealthy)])
        #expect(panic.inPanic)
        #expect(panic.balanced == [a, b, c])
        let drained = HostSet(endpoints: [EndpointConfig(address: a, health: .draining)])
        #expect(drained.balanced.isEmpty && !drained.inPanic)
    }

    @Test func weightedRoundRobinFollowsTheWeights() {
        let a = SocketAddress.ip("10.0.0.1", port: 80)!
        let b = SocketAddress.ip("10.0.0.2", port: 80)!
        let config = ClusterConfig(name: "w", discovery: .eds(serviceName: "w", source: Self.edsSource), connectTimeoutMilliseconds: 1000,
                                   loadBalancing: .roundRobin, bufferLimitBytes: 1 << 20)
        let set = HostSet(endpoints: [EndpointConfig(address: a, weight: 3), EndpointConfig(address: b)])
        #expect(set.balancedWeights == [3, 1])
        let cluster = WorkerCluster(config: config, hostSet: set,
                                    stats: ClusterStat.makeScope(cluster: "w", in: StatsStore(workerCount: 1)).stats(ClusterStat.self, thread: 0),
                                    resources: ClusterResources(limits: .envoyDefaults), seed: 1)
        let picks = (0..<8).compactMap { _ in cluster.chooseHost() }
        #expect(picks.filter { $0 == a }.count == 6)
        // Spread out, not three in a row then one.
        #expect(picks[0..<4].contains(b) && picks[4..<8].contains(b))
        #expect(HostSet(endpoints: [EndpointConfig(address: a), EndpointConfig(address: b)]).balancedWeights == nil)
    }
}
