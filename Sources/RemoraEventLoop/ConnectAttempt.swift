internal import CLibUV
internal import CRemoraShims
public import RemoraCore

/// An outgoing connection being set up (`uv_tcp_connect` / `uv_pipe_connect`
/// with a timeout), on one loop. Made by `Connection.connect`; its completion
/// runs exactly once on the loop thread — never from inside `connect` — unless
/// `cancel()` came first.
///
/// It keeps itself alive while its socket handle is open; on success the handle
/// passes to the new `Connection`, on failure it is closed and freed in its
/// `uv_close` callback, which then reports the error.
public final class ConnectAttempt: LoopResource {
    public let loop: EventLoop
    public let address: SocketAddress
    /// The local address the socket is bound to before connecting, if any.
    public let source: SocketAddress?
    /// TCP keep-alive for the socket (`upstream_connection_options`), if any.
    private let keepalive: TCPKeepalive?

    private let stream: UnsafeMutablePointer<uv_stream_t>
    private let kind: StreamKind
    private let request: UnsafeMutablePointer<uv_connect_t>
    private var timer: Timer?
    private var completion: ((Result<Connection, EventLoopError>) -> Void)?
    private var state = State.connecting
    /// Makes the TLS session the connection must finish before it counts as
    /// connected (Envoy raises `Connected` after the handshake).
    private let transport: (any TransportSocketFactory)?

    private enum State {
        case connecting
        /// The handle is closing; the close callback reports the error.
        case failing(EventLoopError)
        /// TCP is up; the transport's handshake is running.
        case handshaking(Connection)
        case connected
    }

    init(loop: EventLoop, address: SocketAddress, source: SocketAddress? = nil, keepalive: TCPKeepalive? = nil,
         transport: (any TransportSocketFactory)? = nil,
         completion: @escaping (Result<Connection, EventLoopError>) -> Void) {
        self.loop = loop
        self.address = address
        self.source = source
        self.keepalive = keepalive
        self.transport = transport
        self.kind = address.isIP ? .tcp : .pipe
        self.stream = makeStreamHandle(loop: loop.loop, kind: kind)
        self.request = UVMemory.allocate(uv_connect_t.self)
        self.completion = completion
        // Held by libuv until the handle passes to a Connection or closes.
        stream.pointee.data = Unmanaged.passRetained(self).toOpaque()
        request.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        // libuv has called the connect callback (possibly with ECANCELED)
        // before the last reference to the attempt goes.
        request.deallocate()
    }

    func begin(timeoutMilliseconds: UInt64) {
        guard !loop.isStopping else {
            fail(.cancelled.with(operation: operation))
            return
        }
        switch address {
        case .unix(let path):
            // libuv 1.44 treats '@' literally and silently truncates long paths.
            guard !path.hasPrefix("@"), !path.isEmpty, path.utf8.count <= SocketAddress.maxUnixPathLength else {
                fail(.invalidArgument.with(operation: operation))
                return
            }
            uv_pipe_connect(request, asPipe(stream), path, connectionAttemptFinished)
        case .v4, .v6:
            do throws(EventLoopError) {
                if let source, source.isIP {
                    _ = try source.withSockaddr { (sockaddr, _) throws(EventLoopError) in
                        try uvCheck(uv_tcp_bind(asTCP(stream), sockaddr, 0), "bind \(source) to \(operation)")
                    }
                }
                _ = try address.withSockaddr { (sockaddr, _) throws(EventLoopError) in
                    try uvCheck(uv_tcp_connect(request, asTCP(stream), sockaddr, connectionAttemptFinished), operation)
                }
                // The socket exists once the connect is under way.
                var fd: uv_os_fd_t = -1
                if let keepalive, uv_fileno(asHandle(stream), &fd) == 0 {
                    let status = remora_set_keepalive(fd, keepalive.probes ?? 0, keepalive.idleSeconds ?? 0,
                                                      keepalive.intervalSeconds ?? 0)
                    if status < 0 { throw EventLoopError(errno: -status, operation: "TCP keep-alive for \(operation)") }
                }
            } catch {
                fail(error)
                return
            }
        }
        if timeoutMilliseconds > 0 {
            let timer = Timer(loop: loop)
            self.timer = timer
            timer.start(afterMilliseconds: timeoutMilliseconds) { [weak self] in
                guard let self else { return }
                self.fail(.timedOut.with(operation: self.operation))
            }
        }
    }

    /// Abandons the attempt: the completion will not be called, and the
    /// half-open socket is closed. No effect after the completion ran.
    public func cancel() {
        loop.assertInLoop()
        completion = nil
        switch state {
        case .connecting: fail(.cancelled.with(operation: operation))
        case .handshaking: failHandshake(.cancelled.with(operation: operation))
        default: break
        }
    }

    func closeForLoopShutdown() {
        switch state {
        case .connecting: fail(.cancelled.with(operation: operation))
        case .handshaking: failHandshake(.cancelled.with(operation: operation))
        default: break
        }
    }

    fileprivate var operation: String { "connect \(address)" }

    private func fail(_ error: EventLoopError) {
        if case .handshaking = state {
            failHandshake(error)
            return
        }
        guard case .connecting = state else { return }
        state = .failing(error)
        timer?.close()
        timer = nil
        // Cancels a pending connect request (its callback sees ECANCELED).
        uv_close(asHandle(stream), connectAttemptClosed)
    }

    fileprivate func connectFinished(status: Int32) {
        guard case .connecting = state else { return }
        if status < 0 {
            fail(EventLoopError(uvCode: status, operation: operation))
            return
        }
        let connection = Connection(loop: loop, stream: stream, kind: kind)
        // Envoy sets TCP_NODELAY on every upstream connection.
        connection.setNoDelay(true)
        // The handle's `data` now names the connection: drop libuv's hold on
        // the attempt (the callback's caller still holds it for this call;
        // while handshaking, the connection holds it as its delegate).
        Unmanaged.passUnretained(self).release()
        if let transport {
            // The connect timeout runs on through the handshake.
            state = .handshaking(connection)
            connection.delegate = self
            connection.installTransport(transport.makeTransportSocket(pool: loop.smallBufferPool))
            connection.startReading()
            return
        }
        succeed(connection)
    }

    private func succeed(_ connection: Connection) {
        state = .connected
        timer?.close()
        timer = nil
        let completion = self.completion
        self.completion = nil
        completion?(.success(connection))
    }

    /// Closes the connection whose handshake failed and reports `error`.
    private func failHandshake(_ error: EventLoopError) {
        guard case .handshaking(let connection) = state else { return }
        state = .connected
        timer?.close()
        timer = nil
        connection.delegate = nil
        connection.close()
        let completion = self.completion
        self.completion = nil
        completion?(.failure(error))
    }

    fileprivate func didClose() {
        guard case .failing(let error) = state else { return }
        let completion = self.completion
        self.completion = nil
        completion?(.failure(error))
    }
}

// While the handshake runs, the attempt is the connection's delegate.
extension ConnectAttempt: ConnectionDelegate {
    public func connectionDidCompleteHandshake(_ connection: Connection) {
        guard case .handshaking = state else { return }
        // The owner starts reading when it is ready for the peer's bytes;
        // records already decrypted from this read still reach it.
        connection.stopReading()
        connection.delegate = nil
        succeed(connection)
    }

    public func connection(_ connection: Connection, didRead data: ByteSlice) {}

    public func connectionDidReadEOF(_ connection: Connection) {
        failHandshake(EventLoopError.connectionReset.with(operation: "TLS handshake with \(address)"))
    }

    public func connection(_ connection: Connection, didFailWith error: EventLoopError) {
        failHandshake(error)
    }

    public func connectionDidClose(_ connection: Connection) {
        // Closed under us (the loop is stopping).
        failHandshake(.cancelled.with(operation: operation))
    }
}

private let connectionAttemptFinished: uv_connect_cb = { request, status in
    guard let data = request?.pointee.data else { return }
    Unmanaged<ConnectAttempt>.fromOpaque(data).takeUnretainedValue().connectFinished(status: status)
}

private let connectAttemptClosed: uv_close_cb = { handle in
    guard let handle, let data = handle.pointee.data else { return }
    let attempt = Unmanaged<ConnectAttempt>.fromOpaque(data).takeRetainedValue()
    attempt.didClose()
    UVMemory.free(UnsafeMutableRawPointer(handle))
}
