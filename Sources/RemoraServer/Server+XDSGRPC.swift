import RemoraConfig
import RemoraCore
import RemoraHTTP
import RemoraTLS
import RemoraUpstream
import RemoraXDS

extension Server {
    /// The xDS gRPC streams' access to the static clusters: a main-loop
    /// `WorkerCluster` per cluster (built as a worker builds its own, on
    /// thread 0's stat slots), given the cluster manager's current hosts
    /// before each connection.
    func makeXDSGRPCSources(tlsScopes: [String: StatScope]) -> XDSGRPCSources {
        let clusters = XDSGRPCSources.Clusters(
            config: { [unowned self] name in self.config.cluster(named: name) },
            cluster: { [unowned self] name in self.xdsCluster(named: name, tlsScopes: tlsScopes) })
        return XDSGRPCSources(loop: mainLoop, store: store, node: XDSNode.make(bootstrap: config.node.message, version: binaryVersion),
                              ads: config.dynamicResources?.ads, clusters: clusters)
    }

    /// "1.2.3" from `options.version` ("remora/1.2.3/RELEASE").
    var binaryVersion: String {
        let parts = options.version.split(separator: "/")
        return parts.count > 1 ? String(parts[1]) : options.version
    }

    private func xdsCluster(named name: String, tlsScopes: [String: StatScope]) -> WorkerCluster? {
        mainLoop.assertInLoop()
        guard let entry = clusterManager?.entries[name] else { return nil }
        if let cluster = xdsClusters[name] {
            cluster.update(entry.hostSet)
            return cluster
        }
        let cluster = WorkerCluster(
            config: entry.config, hostSet: entry.hostSet, stats: entry.stats.stats(ClusterStat.self, thread: 0),
            resources: entry.resources, seed: mainLoop.nowMilliseconds, loop: mainLoop,
            http2Stats: entry.http2Stats.map { ($0, $0.stats(HTTP2CodecStat.self, thread: 0)) })
        if let tls = entry.config.tls {
            cluster.transport = TLSTransportFactory(
                context: tls, stats: tlsScopes["cluster.\(name)."]?.stats(SSLStat.self, thread: 0))
        }
        xdsClusters[name] = cluster
        return cluster
    }
}
