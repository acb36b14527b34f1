import RemoraConfig

extension Server {
    /// Subscribes to `dynamic_resources.lds_config` and to the RDS tables of
    /// the bootstrap's listeners, and calls `ready` once the first LDS
    /// update's listeners have warmed (their RDS) and are bound, or the
    /// initial fetches gave up, as Envoy's listener-manager init does.
    func startDynamicListeners(then ready: @escaping () -> Void) {
        listenerManager = ListenerManager(server: self, staticListeners: config.listeners)
        do throws(ConfigError) {
            try listenerManager.start(lds: config.dynamicResources?.lds, then: ready)
        } catch {
            fail("\(error)")
        }
    }

    /// Every cluster known now (static, and CDS's once it lands), for
    /// `validate_clusters` of the routes LDS and RDS bring.
    var knownClusterNames: Set<String> {
        Set(clusterManager.entries.keys)
    }
}
