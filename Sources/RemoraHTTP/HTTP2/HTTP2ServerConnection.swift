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
        announceWatermark(stream)
    }
}
