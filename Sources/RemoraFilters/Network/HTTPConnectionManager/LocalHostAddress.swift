import RemoraConfig
import RemoraCore
import RemoraEventLoop

enum LocalHostAddress {
    /// Envoy appends its own host address to `x-forwarded-for` for a
    /// loopback peer (the peer is this machine; its loopback address says
    /// nothing to the upstream).
    static func forwardedForLoopback(_ remote: SocketAddress) -> String {
        switch remote {
        case .v4: return HostAddresses.firstNonLoopback.v4?.host ?? remote.host
        case .v6: return HostAddresses.firstNonLoopback.v6?.host ?? remote.host
        case .unix: return remote.host
        }
    }
}
