import RemoraCore

// The codec interfaces, after Envoy's `envoy/http/codec.h`: a connection's
// codec turns wire bytes into stream events and stream calls into wire
// bytes, whatever the protocol. A connection manager (server side) or a
// connection pool (client side) owns one codec per connection and drives it
// from the connection's loop; codecs own no socket.
//
// Heads are `HTTPHeaders` in Envoy's internal model, "HTTP/2-style headers
// with pseudo-headers" (see `HTTPHeaders+Pseudo.swift`): a request carries
// `:method`, `:scheme`, `:authority`, `:path` (and `:protocol` for extended
// CONNECT) before its regular fields, a response `:status`. The HTTP/2 codec
// hands them over as they arrive and sends them as given; an HTTP/1 codec
// adopting these interfaces translates `Host` ↔ `:authority` and the request
// line ↔ `:method`/`:path` on its side, so the connection manager and the
// router see one shape.

/// Why a stream ended before both of its sides completed (Envoy's
/// `StreamResetReason`).
public enum HTTPStreamResetReason: Equatable, Sendable {
    /// This side reset the stream (`resetStream`).
    case localReset
    /// This side refused the stream before processing it.
    case localRefusedStreamReset
    /// The peer reset the stream (RST_STREAM other than REFUSED_STREAM).
    case remoteReset
    /// The peer refused the stream (RST_STREAM REFUSED_STREAM, or the stream
    /// was above a GOAWAY's last stream id): safe to retry elsewhere.
    case remoteRefusedStreamReset
    /// The connection went away with the stream on it.
    case connectionTermination
    /// The stream broke a protocol rule (invalid headers or messaging, a
    /// content-length mismatch): the codec reset it.
    case protocolError
    /// The peer answered a CONNECT with CONNECT_ERROR.
    case connectError
    /// A buffer limit was overrun.
    case overflow
}

/// What a `dispatch` or `flush` found. Anything but `.ok` ends the
/// connection: a protocol error after flushing the output (it ends with a
/// GOAWAY), a flood at once (Envoy closes without flushing to a peer that
/// floods or does not read).
public enum HTTPCodecStatus: Equatable, Sendable {
    case ok
    /// The peer broke the protocol (Envoy's `CodecProtocolError`).
    case protocolError(String)
    /// Too many frames queued for the peer, or too many PRIORITY or
    /// WINDOW_UPDATE frames from it (Envoy's `BufferFloodError`).
    case bufferFlood(String)
    /// Too many consecutive frames with an empty payload (Envoy's
    /// `InboundFramesWithEmptyPayload`).
    case inboundFramesWithEmptyPayload

    public var isOK: Bool { self == .ok }
}

/// The events of one stream that both directions share. Implemented by the
/// stream's consumer (the connection manager's active stream, the router's
/// upstream request); the codec calls it on its loop until the stream ends
/// (completes both ways or `onResetStream`), then forgets it.
public protocol HTTPStreamDecoder: AnyObject {
    /// A piece of the body. `chunk` references the read buffer (no copy);
    /// it may be empty only when `endStream` is true. The consumer gives the
    /// bytes back with `HTTPStreamEncoder.consumed(_:)` once it has passed
    /// them on: only then does the peer's window for this stream reopen.
    func decodeData(_ chunk: ByteSlice, endStream: Bool)
    /// Trailers; they end the stream.
    func decodeTrailers(_ trailers: HTTPHeaders)
    /// The stream ended early; no other call follows.
    func onResetStream(_ reason: HTTPStreamResetReason)
    /// This stream's queued outgoing body went over its high watermark:
    /// stop producing (read-disable the source) until the low one.
    func onAboveWriteBufferHighWatermark()
    func onBelowWriteBufferLowWatermark()
}

/// Server side: receives a request.
public protocol HTTPRequestDecoder: HTTPStreamDecoder {
    /// The request head, pseudo-headers first.
    func decodeHeaders(_ headers: consuming HTTPHeaders, endStream: Bool)
    /// The codec rejected the request (a malformed head or body): answer
    /// `status` (400, 413, 426, 431, 501…) and close the connection. Envoy's
    /// `RequestDecoder::sendLocalReply` from the HTTP/1 codec; a stream whose
    /// head never arrived gets no `decodeHeaders` first.
    func sendCodecErrorReply(status: Int, details: String)
}

/// What the server codec knows of a request that its head model leaves out
/// (Envoy reads these off the codec: `protocol()`, and the HTTP/1 codec's
/// upgrade and `Expect` handling).
public struct HTTPRequestFraming: Equatable, Sendable {
    public var version: HTTPVersion
    /// The head asked for `100 Continue` (`Expect: 100-continue`).
    public var expectsContinue: Bool
    /// An HTTP/1 `Upgrade` (with `Connection: upgrade`, not h2c).
    public var isUpgrade: Bool
    /// After the head the connection carries tunnel bytes (an upgrade or a
    /// CONNECT): the stream's later `decodeData` is tunnel data, ended by
    /// the client's half-close.
    public var isTunnel: Bool
    /// A CONNECT (RFC 9110 §9.3.6; not an extended CONNECT, which the
    /// HTTP/2 codec presents as an upgrade): a 2xx answer opens the tunnel.
    public var isConnect: Bool

    public init(version: HTTPVersion, expectsContinue: Bool = false, isUpgrade: Bool = false, isTunnel: Bool = false,
                isConnect: Bool = false) {
        self.version = version
        self.isConnect = isConnect
        self.expectsContinue = expectsContinue
        self.isUpgrade = isUpgrade
        self.isTunnel = isTunnel
    }
}

/// Client side: receives a response.
public protocol HTTPResponseDecoder: HTTPStreamDecoder {
    /// An informational head (1xx other than 101); another head follows.
    func decode1xxHeaders(_ headers: HTTPHeaders)
    /// The final response head, `:status` first.
    func decodeHeaders(_ headers: consuming HTTPHeaders, endStream: Bool)
}

/// The sending half of one stream, handed out by the codec. Owned by the
/// codec; the consumer keeps it until the stream ends and must not call it
/// after `onResetStream` or after both sides completed.
public protocol HTTPStreamEncoder: AnyObject {
    /// Queues body bytes (referenced, not copied) behind what is queued.
    func encodeData(_ chunk: ByteSlice, endStream: Bool)
    /// Trailers; they end this side of the stream.
    func encodeTrailers(_ trailers: HTTPHeaders)
    /// Resets the stream (RST_STREAM); the decoder gets
    /// `onResetStream(reason)`.
    func resetStream(_ reason: HTTPStreamResetReason)
    /// Counted: while any disable is outstanding the peer's window for this
    /// stream does not reopen, whatever is consumed.
    func readDisable(_ disable: Bool)
    /// The consumer passed on `count` bytes it got from `decodeData`.
    func consumed(_ count: Int)
    /// Bytes queued by `encodeData` and not yet framed for the wire.
    var bufferedBytes: Int { get }
}

/// The sending half of a server stream.
public protocol HTTPResponseEncoder: HTTPStreamEncoder {
    func encode1xxHeaders(_ headers: HTTPHeaders)
    /// The response head: `:status` (anywhere among the fields) and the
    /// fields; the codec adds its own framing fields.
    func encodeHeaders(_ headers: HTTPHeaders, endStream: Bool)
    /// The request's protocol and framing facts (valid from `decodeHeaders`).
    var requestFraming: HTTPRequestFraming { get }
}

/// The sending half of a client stream.
public protocol HTTPRequestEncoder: HTTPStreamEncoder {
    func encodeHeaders(_ headers: HTTPHeaders, endStream: Bool)
    /// The head in parts (see `HTTPRequestHead`); by default sent as its
    /// pseudo-header head.
    func encodeHeaders(_ head: HTTPRequestHead, endStream: Bool)
}

/// Connection-level events of either side.
public protocol HTTPConnectionCallbacks: AnyObject {
    /// The peer sent GOAWAY: streams above `lastStreamID` were not processed
    /// (they get `onResetStream(.remoteRefusedStreamReset)`); open no new one.
    func onGoAway(errorCode: UInt32, lastStreamID: Int32)
    /// The peer's SETTINGS arrived (its stream limit may have changed).
    func onSettings(maxConcurrentStreams: UInt32)
    /// The peer acknowledged a `sendPing(_:)`.
    func onPingAck(_ opaqueData: UInt64)
}

/// Server side: the connection manager.
public protocol HTTPServerConnectionCallbacks: HTTPConnectionCallbacks {
    /// A request stream begins (Envoy's `ServerConnectionCallbacks::newStream`):
    /// return the decoder for its events; answer through `encoder`.
    func newStream(_ encoder: any HTTPResponseEncoder) -> any HTTPRequestDecoder
}

/// A codec owns the output it produces until the connection takes it.
/// Pull model: after a batch of `dispatch` and encoder calls the connection
/// calls `flush()` once, takes the bytes with `takeOutput(into:)`, writes
/// them (vectored), and reports `outputWritten()` when the socket took them.
public protocol HTTPCodec: AnyObject {
    /// Feeds bytes read from the connection; runs `flush()` at the end.
    func dispatch(_ data: ByteSlice) -> HTTPCodecStatus
    /// Frames everything pending into the output.
    func flush() -> HTTPCodecStatus
    /// Whether output waits to be taken.
    var hasOutput: Bool { get }
    /// Moves the pending output (slices in wire order) to `slices`.
    func takeOutput(into slices: inout [ByteSlice])
    /// Everything taken so far reached the socket.
    func outputWritten()
    /// Whether the connection has nothing more to say or hear (both sides
    /// sent GOAWAY and no stream is open, or a fatal error): close it once
    /// the output is written.
    var wantsClose: Bool { get }
    /// Streams open on this connection.
    var activeStreams: Int { get }
    /// Sends a PING; `onPingAck` reports its ACK.
    func sendPing(_ opaqueData: UInt64)
    /// Graceful GOAWAY: on a server the first one (last stream id 2^31-1);
    /// call `goAway()` later for the final one.
    func shutdownNotice()
    /// The final GOAWAY (NO_ERROR, the last stream id processed).
    func goAway()
    /// The connection's own write buffer crossed its watermarks: every
    /// stream (and each stream opened while above) hears it, as in Envoy.
    func onUnderlyingConnectionAboveWriteBufferHighWatermark()
    func onUnderlyingConnectionBelowWriteBufferLowWatermark()
    /// The connection closed: every open stream ends with
    /// `.connectionTermination`, and the codec takes no more input.
    func resetAllStreams()
}

public protocol HTTPServerCodec: HTTPCodec {}

/// Client side: what a connection pool needs to place streams.
public protocol HTTPClientCodec: HTTPCodec {
    /// A stream whose head is sent by `encodeHeaders` on the returned encoder.
    func newStream(_ decoder: any HTTPResponseDecoder) -> any HTTPRequestEncoder
    /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS (unlimited until it says).
    var peerMaxConcurrentStreams: UInt32 { get }
    /// The GOAWAY received, if any.
    var goAwayReceived: (errorCode: UInt32, lastStreamID: Int32)? { get }
    /// Whether a new stream may be opened now.
    var canOpenStream: Bool { get }
}
