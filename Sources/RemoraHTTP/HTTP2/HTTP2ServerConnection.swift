import RemoraCore

/// The server side of an HTTP/2 connection (a downstream connection): each
/// request stream the peer opens becomes `callbacks.newStream(encoder)`.
/// See `HTTP2Connection` for the model; the callbacks (the connection
/// manager) own the codec and outlive it.
public final class HTTP2ServerConnection: HTTP2Connection, HTTPServerCodec {
    unowned(unsafe) let callbacks: any HTTPServerConnectionCallbacks

    public init(options: HTTP2Options = HTTP2Options(), pool: BufferPool, stats: Stats<HTTP2CodecStat>,
                callbacks: any HTTPServerConnectionCallbacks) {
        self.callbacks = callbacks
        super.init(isServer: true, options: options, pool: pool, stats: stats, callbacks: callbacks)
    }

    override func beginRequestStream(_ stream: HTTP2Stream) {
        stream.requestDecoder = callbacks.newStream(stream)
    }
}

/// The client side of an HTTP/2 connection (an upstream connection): the
/// pool opens streams with `newStream` while `canOpenStream` says so.
public final class HTTP2ClientConnection: HTTP2Connection, HTTPClientCodec {
    public init(options: HTTP2Options = HTTP2Options(), pool: BufferPool, stats: Stats<HTTP2CodecStat>,
                callbacks: any HTTPConnectionCallbacks) {
        super.init(isServer: false, options: options, pool: pool, stats: stats, callbacks: callbacks)
    }

    public func newStream(_ decoder: any HTTPResponseDecoder) -> any HTTPRequestEncoder {
        let stream = HTTP2Stream(connection: self, highWatermark: options.streamBufferHighWatermark)
        stream.responseDecoder = decoder
        return stream
    }

    public var peerMaxConcurrentStreams: UInt32 { remoteMaxConcurrentStreams }

    public var canOpenStream: Bool {
        goAwayReceived == nil && !fatal && requestAllowed && UInt32(activeStreams) < peerMaxConcurrentStreams
    }
}
