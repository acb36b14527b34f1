#if canImport(Glibc)
import Glibc
#endif
public import RemoraCore

/// The machine's own interface addresses (getifaddrs), read once.
public enum HostAddresses {
    /// The first non-loopback IPv4 and IPv6 addresses, as Envoy's
    /// `Network::Utility::getLocalAddress` picks them.
    public static let firstNonLoopback: (v4: SocketAddress?, v6: SocketAddress?) = {
        var list: UnsafeMutablePointer<ifaddrs>? = nil
        guard getifaddrs(&list) == 0, let first = list else { return (nil, nil) }
        defer { freeifaddrs(list) }
        var v4: SocketAddress? = nil
        var v6: SocketAddress? = nil
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let sa = entry.pointee.ifa_addr else { continue }
            if Int32(entry.pointee.ifa_flags) & Int32(IFF_LOOPBACK) != 0 { continue }
            if sa.pointee.sa_family == sa_family_t(AF_INET), v4 == nil {
                let a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                v4 = .v4(UInt32(bigEndian: a), port: 0)
            } else if sa.pointee.sa_family == sa_family_t(AF_INET6), v6 == nil {
                let bytes = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                    withUnsafeBytes(of: p.pointee.sin6_addr) { Array($0) }
                }
                var high: UInt64 = 0, low: UInt64 = 0
                for i in 0..<8 { high = high << 8 | UInt64(bytes[i]) }
                for i in 8..<16 { low = low << 8 | UInt64(bytes[i]) }
                // Skip link-local (fe80::/10), which Envoy skips too.
                if high >> 54 == 0x3FA { continue }
                v6 = .v6(high: high, low: low, port: 0)
            }
        }
        return (v4, v6)
    }()
}
