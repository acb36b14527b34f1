import RemoraConfig
import RemoraHTTP

extension HTTP2Options {
    /// The codec options of a connection manager's or cluster's HTTP/2
    /// connections: `http2_protocol_options`, the header limits
    /// (`max_request_headers_kb` / `max_response_headers_kb`,
    /// `max_headers_count`), and the per-stream buffer limit (the listener's
    /// or cluster's `per_connection_buffer_limit_bytes`, as Envoy's stream
    /// buffers use).
    public init(_ config: HTTP2ProtocolOptions, maxHeaderListBytes: Int, maxHeadersCount: Int,
                streamErrorOnInvalidHTTPMessaging: Bool, streamBufferLimit: Int) {
        self.init()
        hpackTableSize = config.hpackTableSize
        maxConcurrentStreams = config.maxConcurrentStreams
        initialStreamWindowSize = config.initialStreamWindowSize
        initialConnectionWindowSize = config.initialConnectionWindowSize
        allowConnect = config.allowConnect
        maxOutboundFrames = Int(config.maxOutboundFrames)
        maxOutboundControlFrames = Int(config.maxOutboundControlFrames)
        maxConsecutiveInboundFramesWithEmptyPayload = Int(config.maxConsecutiveInboundFramesWithEmptyPayload)
        maxInboundPriorityFramesPerStream = Int(config.maxInboundPriorityFramesPerStream)
        maxInboundWindowUpdateFramesPerDataFrameSent = Int(config.maxInboundWindowUpdateFramesPerDataFrameSent)
        self.streamErrorOnInvalidHTTPMessaging = config.overrideStreamErrorOnInvalidHTTPMessage ?? streamErrorOnInvalidHTTPMessaging
        self.maxHeaderListBytes = maxHeaderListBytes
        self.maxHeadersCount = maxHeadersCount
        if streamBufferLimit > 0 { streamBufferHighWatermark = streamBufferLimit }
    }
}
