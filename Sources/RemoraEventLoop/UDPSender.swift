internal import CRemoraShims
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
        let fd = try address.withSockaddr { (sa, length) throws(EventLoopError) -> Int32 in
            try uvCheck(remora_connected_udp_socket(sa, length), "connect udp \(address)")
        }
        guard let fd else { throw EventLoopError.invalidArgument.with(operation: "connect udp \(address)") }
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    /// Sends one datagram; false when it was dropped.
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        remora_udp_send(fd, bytes.baseAddress, bytes.count) == 0
    }

    @discardableResult
    public func send(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { send(UnsafeRawBufferPointer($0)) }
    }
}
