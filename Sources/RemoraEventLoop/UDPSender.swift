#if canImport(Glibc)
import Glibc
#endif
import RemoraCore

/// A connected, non-blocking UDP socket that any thread may send on (one
/// `send(2)` per datagram, which the kernel serialises; nothing else is
/// shared). A datagram that does not fit the socket buffer is dropped, as
/// a statsd sink drops it: a worker never waits. Owns the descriptor and
/// closes it in `deinit`; `@unchecked Sendable` because the descriptor is
/// immutable after `init` and `send(2)` is thread-safe.
public final class UDPSender: @unchecked Sendable {
    private let fd: Int32
    public let address: SocketAddress

    public init(connectingTo address: SocketAddress) throws(EventLoopError) {
        self.address = address
        let family = if case .v6 = address { AF_INET6 } else { AF_INET }
        let fd = try syscall("socket for \(address)") { socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do {
            _ = try address.withSockaddr { (sa, length) throws(EventLoopError) in
                try syscall("connect \(address)") { connect(fd, sa, length) }
            }
        } catch {
            close(fd)
            throw error
        }
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    /// Sends one datagram; false when it was dropped.
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        while true {
            let n = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT))
            if n >= 0 { return true }
            if errno != EINTR { return false }
        }
    }

    @discardableResult
    public func send(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { send(UnsafeRawBufferPointer($0)) }
    }
}
