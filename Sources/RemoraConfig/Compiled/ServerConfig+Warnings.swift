extension ServerConfig {
    /// Accepted config that does less than a user may expect, one sentence
    /// each, for the executable to log at start-up (main thread). Refusing
    /// would break configs written for Envoy; staying silent would hide it.
    public var startupWarnings: [String] {
        var warnings: [String] = []
        for listener in listeners {
            let chains = listener.filterChains + (listener.defaultFilterChain.map { [$0] } ?? [])
            if chains.contains(where: { $0.httpConnectionManager?.codec == .auto }) {
                warnings.append(
                    "listener '\(listener.name)': codec_type AUTO serves HTTP/1.1 only until HTTP/2 is implemented")
            }
        }
        return warnings
    }
}
