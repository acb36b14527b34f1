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

extension CIDRRange {
    func contains(_ candidate: SocketAddress) -> Bool {
        switch (address, candidate) {
        case (.v4(let net, _), .v4(let a, _)):
            guard prefixLength > 0 else { return true }
            let mask: UInt32 = prefixLength >= 32 ? .max : ~(UInt32.max >> UInt32(prefixLength))
            return net & mask == a & mask
        case (.v6(let nh, let nl, _), .v6(let h, let l, _)):
            let p = prefixLength
            if p <= 64 {
                let mask: UInt64 = p == 0 ? 0 : (p >= 64 ? .max : ~(UInt64.max >> UInt64(p)))
                return nh & mask == h & mask
            }
            let mask: UInt64 = p >= 128 ? .max : ~(UInt64.max >> UInt64(p - 64))
            return nh == h && nl & mask == l & mask
        default:
            return false
        }
    }
}
