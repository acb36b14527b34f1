/// `upstream_connection_options.tcp_keepalive`: SO_KEEPALIVE on a cluster's
/// upstream sockets, with the probe count, idle time and probe interval
/// (seconds) the config gives; an unset one keeps the system's default.
public struct TCPKeepalive: Sendable, Equatable {
    public var probes: UInt32?
    public var idleSeconds: UInt32?
    public var intervalSeconds: UInt32?

    public init(probes: UInt32? = nil, idleSeconds: UInt32? = nil, intervalSeconds: UInt32? = nil) {
        self.probes = probes
        self.idleSeconds = idleSeconds
        self.intervalSeconds = intervalSeconds
    }
}
