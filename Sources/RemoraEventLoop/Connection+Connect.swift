public import RemoraCore

extension Connection {
    /// Opens a connection to a TCP (v4/v6) or Unix-socket address on `loop`
    /// (call on its thread). `completion` runs later on the loop with the
    /// connection (TCP_NODELAY set on TCP) or the error: `.timedOut` after
    /// `timeoutMilliseconds` (0 means no timeout), `.connectionRefused`, ...,
    /// or `.cancelled` if the loop stops first. It is never called after
    /// `ConnectAttempt.cancel()`. A TCP socket is first bound to `source`
    /// when one is given (Envoy's `upstream_bind_config`); a bind failure
    /// fails the attempt. `keepalive` turns TCP keep-alive on for the
    /// socket. With `transport`, the connection counts as made
    /// once its TLS handshake is done (within the same timeout); a refused
    /// handshake fails the attempt with a `.transportFailure`.
    @discardableResult
    public static func connect(
        loop: EventLoop,
        to address: SocketAddress,
        from source: SocketAddress? = nil,
        keepalive: TCPKeepalive? = nil,
        timeoutMilliseconds: UInt64,
        transport: (any TransportSocketFactory)? = nil,
        _ completion: @escaping (Result<Connection, EventLoopError>) -> Void
    ) -> ConnectAttempt {
        loop.assertInLoop()
        let attempt = ConnectAttempt(loop: loop, address: address, source: source, keepalive: keepalive, transport: transport,
                                     completion: completion)
        attempt.begin(timeoutMilliseconds: timeoutMilliseconds)
        return attempt
    }
}
