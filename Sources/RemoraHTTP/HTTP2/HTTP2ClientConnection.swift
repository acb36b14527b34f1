import RemoraCore

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
        // Counted at once, as Envoy's newStream: the pool sees the capacity taken.
        list(stream)
        announceWatermark(stream)
        return stream
    }

    public var peerMaxConcurrentStreams: UInt32 { remoteMaxConcurrentStreams }

    public var canOpenStream: Bool {
        goAwayReceived == nil && !fatal && requestAllowed && UInt32(activeStreams) < peerMaxConcurrentStreams
    }
}
