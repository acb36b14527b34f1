import RemoraConfig
import RemoraUpstream

extension Server {
    /// Subscribes to `dynamic_resources.cds_config` (and the EDS its
    /// clusters and the bootstrap's need) and calls `ready` once the first
    /// CDS update and the EDS of its clusters are in (or their
    /// `initial_fetch_timeout` passed), as Envoy's cluster-manager init does.
    /// From then on, clusters added, replaced and removed reach the workers.
    func startDynamicClusters(then ready: @escaping () -> Void) {
        clusterManager.onInstall = { [unowned self] entry in
            if entry.addedViaAPI { self.clusterDiscovery?.activated(entry.config.name) }
            self.install(entry)
        }
        clusterManager.onRemove = { [unowned self] name in
            for worker in self.workers {
                worker.loop.execute { worker.removeCluster(name) }
            }
        }
        let discovery = ClusterDiscovery(config: config, manager: clusterManager, secrets: secretManager, factory: xds,
                                         store: store, tablesRelease: configTablesRelease) { [unowned self] in
            self.fail($0)
        }
        clusterDiscovery = discovery
        discovery.start(then: ready)
    }

    /// Posts a cluster (new or replacing one) to every worker.
    func install(_ entry: ClusterManager.Entry) {
        let (config, hosts, stats, resources, http2Stats) = (entry.config, entry.hostSet, entry.stats, entry.resources, entry.http2Stats)
        let ssl = clusterDiscovery?.sslScopes[config.name]
        for worker in workers {
            worker.loop.execute {
                worker.installCluster(config, hosts: hosts, stats: stats, resources: resources, http2Stats: http2Stats, sslStats: ssl)
            }
        }
    }
}
