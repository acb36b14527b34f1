import RemoraConfig

extension Server {
    /// Subscribes to `dynamic_resources.cds_config` and calls `ready` once
    /// the first CDS update and the EDS of its clusters are in (or their
    /// `initial_fetch_timeout` passed), as Envoy's cluster-manager init does.
    func startDynamicClusters(then ready: @escaping () -> Void) {
        guard config.dynamicResources?.cds == nil else {
            fail("dynamic_resources.cds_config: CDS is not implemented yet")
            return
        }
        ready()
    }
}
