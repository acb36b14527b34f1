#if canImport(Glibc)
import Glibc
#endif
import RemoraCore

// Conversions between RemoraCore's C-free `SocketAddress` and `sockaddr`,
// done only here, at the socket boundary.

extension SocketAddress {
    /// Calls `body` with this IP address as a `sockaddr`; nil for Unix paths
    /// (libuv takes those as strings).
    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(EventLoopError) -> R) throws(EventLoopError) -> R? {
        switch self {
        case .v4(let address, let port):
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr.s_addr = address.bigEndian
            return try withUnsafePointer(to: &sin) { (p) throws(EventLoopError) -> R in
                try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(EventLoopError) -> R in
                    try body(sa, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6(let high, let low, let port):
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { raw in
                raw.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
                raw.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
            }
            return try withUnsafePointer(to: &sin6) { (p) throws(EventLoopError) -> R in
                try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(EventLoopError) -> R in
                    try body(sa, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        case .unix:
            return nil
        }
    }

    /// Reads an IPv4 or IPv6 `sockaddr`; nil for other families. An IPv4
    /// peer of a dual-stack socket (`::ffff:a.b.c.d`) reads as IPv4, as
    /// Envoy reads it (`addressFromSockAddr` with v6only off).
    init?(sockaddr pointer: UnsafePointer<sockaddr>) {
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET:
            let sin = UnsafeRawPointer(pointer).loadUnaligned(as: sockaddr_in.self)
            self = .v4(UInt32(bigEndian: sin.sin_addr.s_addr), port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            var sin6 = UnsafeRawPointer(pointer).loadUnaligned(as: sockaddr_in6.self)
            let (high, low) = withUnsafeBytes(of: &sin6.sin6_addr) { raw in
                (UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                 UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            }
            let port = UInt16(bigEndian: sin6.sin6_port)
            if high == 0, low >> 32 == 0xFFFF {
                self = .v4(UInt32(truncatingIfNeeded: low), port: port)
            } else {
                self = .v6(high: high, low: low, port: port)
            }
        default:
            return nil
        }
    }

    /// Longest path a `sockaddr_un` holds, without its terminating NUL.
    static let maxUnixPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
}
