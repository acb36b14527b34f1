import Testing
@testable import RemoraConfig
import RemoraCore
import RemoraEventLoop
@testable import RemoraUpstream

/// An ORIGINAL_DST cluster's host choice (Envoy's
/// `OriginalDstCluster::LoadBalancer::chooseHost`) and its clean-up.
@Suite struct OriginalDestinationClusterTests {
    func cluster(_ options: ClusterConfig.OriginalDestinationOptions = .init(), loop: EventLoop? = nil) -> WorkerCluster {
        let config = ClusterConfig(
            name: "pass", discovery: .originalDestination(options), connectTimeoutMilliseconds: 1000,
            loadBalancing: .clusterProvided, bufferLimitBytes: 1 << 20)
        let scope = ClusterStat.makeScope(cluster: "pass", in: StatsStore(workerCount: 1))
        return WorkerCluster(config: config, hostSet: HostSet(hosts: []), stats: scope.stats(ClusterStat.self, thread: 0),
                             resources: ClusterResources(limits: .envoyDefaults), seed: 1, loop: loop)
    }

    let destination = SocketAddress.ip("10.1.2.3", port: 8080)!

    @Test func restoredDestinationIsTheHost() {
        let c = cluster()
        #expect(c.picksOriginalDestination)
        #expect(c.chooseHost(context: HostSelectionContext(originalDestination: destination)) == destination)
        #expect(c.originalHostCount == 1)
    }

    @Test func noRestoredDestinationMeansNoHost() {
        let c = cluster()
        #expect(c.chooseHost() == nil)
        // The header counts only with use_http_header.
        #expect(c.chooseHost(context: HostSelectionContext(overrideHost: "10.9.9.9:80")) == nil)
        #expect(c.overrideHostHeader == nil)
        #expect(c.originalHostCount == 0)
    }

    @Test func headerOverridesWhenEnabledAndValid() {
        let c = cluster(.init(useHTTPHeader: true))
        #expect(c.overrideHostHeader == "x-envoy-original-dst-host")
        let header = SocketAddress.ip("10.9.9.9", port: 80)!
        #expect(c.chooseHost(context: HostSelectionContext(originalDestination: destination, overrideHost: "10.9.9.9:80")) == header)
        #expect(c.chooseHost(context: HostSelectionContext(overrideHost: "[::1]:9")) == SocketAddress.ip("::1", port: 9))
        // An invalid header falls back to the connection's destination.
        for bad in ["10.9.9.9", "example.com:80", "10.9.9.9:99999", "::1:80", "[::1]", "10.9.9.9:-1", ""] {
            #expect(c.chooseHost(context: HostSelectionContext(originalDestination: destination, overrideHost: bad)) == destination, "\(bad)")
            #expect(c.chooseHost(context: HostSelectionContext(overrideHost: bad)) == nil, "\(bad)")
        }
    }

    @Test func retriesDoNotAvoidTheOnlyDestination() {
        let c = cluster()
        #expect(c.chooseHost(excluding: destination, context: HostSelectionContext(originalDestination: destination)) == destination)
    }

    /// A host picked since the last sweep survives it; one that was not is
    /// dropped at the next.
    @Test func cleanupDropsHostsUnusedForAnInterval() {
        let c = cluster()
        _ = c.chooseHost(context: HostSelectionContext(originalDestination: destination))
        let other = SocketAddress.ip("10.1.2.4", port: 80)!
        _ = c.chooseHost(context: HostSelectionContext(originalDestination: other))
        c.cleanUpOriginalHosts()
        #expect(c.originalHostCount == 2)
        _ = c.chooseHost(context: HostSelectionContext(originalDestination: other))
        c.cleanUpOriginalHosts()
        #expect(c.originalHostCount == 1)
        c.cleanUpOriginalHosts()
        #expect(c.originalHostCount == 0)
    }

    @Test func cleanupTimerRunsOnTheLoop() throws {
        let loop = try EventLoop()
        let c = cluster(.init(cleanupIntervalMilliseconds: 20), loop: loop)
        _ = c.chooseHost(context: HostSelectionContext(originalDestination: destination))
        let stop = Timer(loop: loop)
        stop.start(afterMilliseconds: 200) { loop.stop() }
        loop.run()
        #expect(c.originalHostCount == 0)
    }
}
