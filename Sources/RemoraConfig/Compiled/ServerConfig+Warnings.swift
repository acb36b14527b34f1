extension ServerConfig {
    /// Accepted config that does less than a user may expect, one sentence
    /// each, for the executable to log at start-up (main thread). Refusing
    /// would break configs written for Envoy; staying silent would hide it.
    public var startupWarnings: [String] {
        []
    }
}
