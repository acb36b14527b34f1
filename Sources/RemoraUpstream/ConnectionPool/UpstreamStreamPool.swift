import RemoraCore
import RemoraEventLoop
import RemoraHTTP

/// A host's pool of connections of one protocol, handing out *streams*
/// (Envoy's `ConnectionPool::Instance::newStream`): on HTTP/1.1 one per
/// connection at a time (`HTTP1ConnectionPool`), on HTTP/2 many
/// (`HTTP2ConnectionPool`). Whoever holds a stream speaks in messages
/// through its `HTTPRequestEncoder` and hears the response as an
/// `HTTPResponseDecoder`, whatever the wire. Owned by one worker loop.
public protocol UpstreamStreamPool: AnyObject {
    /// This host's stats across workers (`/clusters`).
    var hostStats: HostStats { get }
    /// A stream on a connection with capacity at once, or a ticket answered
    /// later through the requester (never inside this call), or an overflow.
    func newStream(for requester: any UpstreamStreamRequester) -> UpstreamStreamOutcome
    /// The requester gave up before it got its stream.
    func cancel(_ ticket: Int)
}

/// What `UpstreamStreamPool.newStream` gives at once.
public enum UpstreamStreamOutcome {
    /// A stream (its head not yet sent) on `connection`, the requester's
    /// until it ends.
    case ready(any HTTPRequestEncoder, any UpstreamStreamConnection)
    /// The requester will hear back through `UpstreamStreamRequester`.
    case pending(Int)
    /// The circuit breakers refuse: Envoy's 503 UO.
    case overflow
}

/// Why a pool could not give a requester its stream.
public enum UpstreamPoolFailure: Equatable, Sendable {
    /// `max_pending_requests` or `max_requests` is full: Envoy's UO.
    case overflow
    /// The connection could not be made: Envoy's UF (`connection_failure` / timeout).
    case connectFailure(EventLoopError)
}

/// Who waits for a stream: it is also the stream's response decoder.
public protocol UpstreamStreamRequester: HTTPResponseDecoder {
    /// A stream opened for the requester on `connection` (its head not yet sent).
    func streamReady(_ stream: any HTTPRequestEncoder, on connection: any UpstreamStreamConnection)
    func streamFailed(_ failure: UpstreamPoolFailure)
}

/// The pooled connection a stream runs on. It owns the socket and the
/// codec, counts the bytes and protocol errors, and closes itself; the
/// stream's holder calls `flush()` after sending and `streamEnded()` once
/// when its stream is over for it (completed or reset), after which it
/// does not touch the stream's encoder again (an HTTP/1 connection's codec
/// carries the next stream).
public protocol UpstreamStreamConnection: AnyObject {
    /// The socket (for its TLS facts); nil until connected or once closed.
    var socket: Connection? { get }
    var localAddress: SocketAddress? { get }
    /// Frames and writes what the streams queued (HTTP/2, once per loop
    /// iteration); HTTP/1 writes as it encodes.
    func flush()
    /// The holder's stream is over: the connection goes back to its pool
    /// (reused, or closed).
    func streamEnded()
}
