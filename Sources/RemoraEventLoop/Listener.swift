internal import CLibUV
internal import CRemoraShims
public import RemoraCore
#if canImport(Glibc)
import Glibc
#endif

/// A listening TCP or Unix stream socket on one loop; bind, accept and stop it
/// on that loop's thread, where accepted connections are handed out.
///
/// For TCP, each worker binds its own socket with SO_REUSEPORT and the kernel
/// spreads connections (Envoy's model). Unix sockets cannot do that, so one
/// loop binds and the others `adopt` a duplicate of its descriptor.
///
/// The listener keeps itself alive until `stopAccepting()` (or the loop's
/// `stop()`) closes it; its handle is freed in the `uv_close` callback.
/// Accepted connections are independent of it.
public final class Listener: LoopResource {
    public let loop: EventLoop
    /// The address bound, with the kernel's port when port 0 was asked.
    public let boundAddress: SocketAddress
    public let backlog: Int32
    /// Accepts that failed (EMFILE and the like); the listener keeps going.
    public private(set) var acceptErrors: UInt64 = 0
    public private(set) var isClosed = false

    let kind: StreamKind
    private let stream: UnsafeMutablePointer<uv_stream_t>
    /// Immutable after bind, so `adopt` may read it from another loop's thread.
    let fileDescriptor: Int32
    private var onAccept: ((Connection) -> Void)?
    private var isListening = false

    private init(loop: EventLoop, stream: UnsafeMutablePointer<uv_stream_t>, kind: StreamKind, boundAddress: SocketAddress, backlog: Int32) {
        self.loop = loop
        self.stream = stream
        self.kind = kind
        self.boundAddress = boundAddress
        self.backlog = backlog
        var fd: uv_os_fd_t = -1
        _ = uv_fileno(asHandle(stream), &fd)
        self.fileDescriptor = fd
        // Held by libuv until the close callback.
        stream.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    /// Binds `address`: TCP sockets get SO_REUSEADDR (and SO_REUSEPORT when
    /// asked), IPv6 ones are v6-only unless `ipv4Compat` (then `::` takes
    /// IPv4 connections too, Envoy's `ipv4_compat`). For a Unix path, a stale socket file is
    /// removed first (never any other kind of file); libuv removes the file
    /// again when this listener closes. Accepting starts with `startAccepting`.
    public static func bind(loop: EventLoop, address: SocketAddress, reusePort: Bool, backlog: Int32 = 1024,
                            ipv4Compat: Bool = false) throws(EventLoopError) -> Listener {
        loop.assertInLoop()
        guard !loop.isStopping else { throw EventLoopError.cancelled.with(operation: "bind \(address)") }
        switch address {
        case .v4, .v6:
            return try bindTCP(loop: loop, address: address, reusePort: reusePort, backlog: backlog, v6Only: !ipv4Compat)
        case .unix(let path):
            return try bindUnix(loop: loop, path: path, backlog: backlog)
        }
    }

    /// Opens on `loop` a duplicate of the descriptor of `other`, a listener
    /// bound on another loop, which must stay open during this call. Both
    /// then accept from the same kernel queue.
    public static func adopt(loop: EventLoop, duplicating other: Listener) throws(EventLoopError) -> Listener {
        try adopt(loop: loop, fileDescriptor: other.fileDescriptor, kind: other.kind, boundAddress: other.boundAddress, backlog: other.backlog)
    }

    /// As `adopt(loop:duplicating:)`, from a share made on the binding loop.
    public static func adopt(loop: EventLoop, duplicating share: SharedListenSocket) throws(EventLoopError) -> Listener {
        try adopt(loop: loop, fileDescriptor: share.fileDescriptor, kind: share.kind, boundAddress: share.boundAddress, backlog: share.backlog)
    }

    /// A `Sendable` duplicate of this listener's socket, for other loops to
    /// `adopt`; it closes its descriptor when released.
    public func makeShare() throws(EventLoopError) -> SharedListenSocket {
        loop.assertInLoop()
        let source = fileDescriptor
        let fd = try syscall("duplicate listener \(boundAddress)") { fcntl(source, F_DUPFD_CLOEXEC, 0) }
        return SharedListenSocket(fileDescriptor: fd, kind: kind, boundAddress: boundAddress, backlog: backlog)
    }

    /// Starts listening; `onAccept` gets each new connection (TCP_NODELAY set
    /// on TCP) on the loop thread. Calling it again replaces the callback.
    public func startAccepting(_ onAccept: @escaping (Connection) -> Void) throws(EventLoopError) {
        loop.assertInLoop()
        guard !isClosed else { throw EventLoopError.invalidArgument.with(operation: "listen on closed \(boundAddress)") }
        self.onAccept = onAccept
        guard !isListening else { return }
        try uvCheck(uv_listen(stream, backlog, listenerConnectionReady), "listen on \(boundAddress)")
        isListening = true
    }

    /// Closes the listening socket; idempotent. Accepted connections stay open.
    public func stopAccepting() {
        loop.assertInLoop()
        guard !isClosed else { return }
        isClosed = true
        onAccept = nil
        uv_close(asHandle(stream), listenerClosed)
    }

    func closeForLoopShutdown() {
        stopAccepting()
    }

    fileprivate func acceptReady(status: Int32) {
        guard status >= 0, !isClosed else {
            acceptErrors &+= 1
            return
        }
        let client = makeStreamHandle(loop: loop.loop, kind: kind)
        // libuv stops watching the socket until uv_accept is called, so accept now.
        guard uv_accept(stream, client) == 0 else {
            acceptErrors &+= 1
            uv_close(asHandle(client), freeHandleOnClose)
            return
        }
        let connection = Connection(loop: loop, stream: client, kind: kind)
        // Envoy sets TCP_NODELAY on downstream connections too.
        connection.setNoDelay(true)
        onAccept?(connection)
    }

    // MARK: Opening sockets

    private static func bindTCP(loop: EventLoop, address: SocketAddress, reusePort: Bool, backlog: Int32,
                                v6Only: Bool) throws(EventLoopError) -> Listener {
        let fd = try address.withSockaddr { (sockaddr, length) throws(EventLoopError) -> Int32 in
            try uvCheck(remora_bound_tcp_socket(sockaddr, length, reusePort ? 1 : 0, v6Only ? 1 : 0), "bind \(address)")
        } ?? -1
        let stream = try open(loop: loop, fd: fd, kind: .tcp, operation: "bind \(address)")
        let bound = StreamAddresses.local(stream, kind: .tcp) ?? address
        return Listener(loop: loop, stream: stream, kind: .tcp, boundAddress: bound, backlog: backlog)
    }

    private static func bindUnix(loop: EventLoop, path: String, backlog: Int32) throws(EventLoopError) -> Listener {
        let operation = "bind \(path)"
        // libuv 1.44 treats '@' literally and silently truncates long paths.
        guard !path.hasPrefix("@"), !path.isEmpty, path.utf8.count <= SocketAddress.maxUnixPathLength else {
            throw EventLoopError.invalidArgument.with(operation: operation)
        }
        try removeStaleSocket(path)
        let stream = makeStreamHandle(loop: loop.loop, kind: .pipe)
        do {
            try uvCheck(uv_pipe_bind(asPipe(stream), path), operation)
        } catch {
            uv_close(asHandle(stream), freeHandleOnClose)
            throw error
        }
        return Listener(loop: loop, stream: stream, kind: .pipe, boundAddress: .unix(path), backlog: backlog)
    }

    private static func removeStaleSocket(_ path: String) throws(EventLoopError) {
        var info = stat()
        do {
            try syscall("stat \(path)") { lstat(path, &info) }
        } catch {
            if error.errno == ENOENT { return }
            throw error
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else { return }
        try syscall("remove stale socket \(path)") { unlink(path) }
    }

    private static func adopt(loop: EventLoop, fileDescriptor source: Int32, kind: StreamKind, boundAddress: SocketAddress, backlog: Int32) throws(EventLoopError) -> Listener {
        loop.assertInLoop()
        let operation = "adopt listener \(boundAddress)"
        guard !loop.isStopping else { throw EventLoopError.cancelled.with(operation: operation) }
        let fd = try syscall(operation) { fcntl(source, F_DUPFD_CLOEXEC, 0) }
        let stream = try open(loop: loop, fd: fd, kind: kind, operation: operation)
        return Listener(loop: loop, stream: stream, kind: kind, boundAddress: boundAddress, backlog: backlog)
    }

    /// Wraps `fd` in a new handle; closes `fd` if libuv refuses it.
    private static func open(loop: EventLoop, fd: Int32, kind: StreamKind, operation: @autoclosure () -> String) throws(EventLoopError) -> UnsafeMutablePointer<uv_stream_t> {
        let stream = makeStreamHandle(loop: loop.loop, kind: kind)
        do {
            switch kind {
            case .tcp: try uvCheck(uv_tcp_open(asTCP(stream), fd), operation())
            case .pipe: try uvCheck(uv_pipe_open(asPipe(stream), fd), operation())
            }
        } catch {
            _ = Glibc.close(fd)
            uv_close(asHandle(stream), freeHandleOnClose)
            throw error
        }
        return stream
    }
}

private let listenerConnectionReady: uv_connection_cb = { server, status in
    guard let data = server?.pointee.data else { return }
    Unmanaged<Listener>.fromOpaque(data).takeUnretainedValue().acceptReady(status: status)
}

private let listenerClosed: uv_close_cb = { handle in
    guard let handle, let data = handle.pointee.data else { return }
    Unmanaged<Listener>.fromOpaque(data).release()
    UVMemory.free(UnsafeMutableRawPointer(handle))
}
