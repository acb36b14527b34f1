import RemoraCore

/// The hosts of one cluster at one moment. Immutable; the main thread makes a
/// new one when membership changes and posts it to every worker.
public final class HostSet: Sendable {
    public let hosts: [SocketAddress]

    public init(hosts: [SocketAddress]) {
        self.hosts = hosts
    }
}
