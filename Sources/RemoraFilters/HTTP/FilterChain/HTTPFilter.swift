import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP

/// A request as the HTTP filters see it, whatever the wire protocol: the
/// HTTP/1 codec fills it from the request line and headers; HTTP/2 will
/// fill it from pseudo-headers. `headers` holds only regular fields.
public struct HTTPRequestMessage {
    public var method: HTTPMethod
    /// `:path`: origin-form target, query included.
    public var path: String
    /// `:authority` (the Host header for HTTP/1).
    public var authority: String?
    /// `:scheme`: "http" (TLS comes later).
    public var scheme: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders

    public init(method: HTTPMethod, path: String, authority: String?, scheme: String, version: HTTPVersion, headers: HTTPHeaders) {
        self.method = method
        self.path = path
        self.authority = authority
        self.scheme = scheme
        self.version = version
        self.headers = headers
    }
}

/// A response as the HTTP filters see it.
public struct HTTPResponseMessage {
    public var status: Int
    public var headers: HTTPHeaders

    public init(status: Int, headers: HTTPHeaders) {
        self.status = status
        self.headers = headers
    }
}

/// Envoy's filter return values.
public enum FilterHeadersStatus {
    /// Pass the headers to the next filter.
    case `continue`
    /// Stop here; the filter calls `continueDecoding()`/`continueEncoding()` later.
    case stopIteration
}

public enum FilterDataStatus {
    case `continue`
    /// Stop and keep the data buffered for the filters after this one.
    case stopIterationAndBuffer
    /// Stop; the filter took the data itself.
    case stopIterationNoBuffer
}

public enum FilterTrailersStatus {
    case `continue`
    case stopIteration
}

/// A filter on the request path (decode). Filters run in configuration
/// order; each gets its callbacks once, before the first event.
public protocol HTTPDecoderFilter: AnyObject {
    func setDecoderCallbacks(_ callbacks: HTTPDecoderFilterCallbacks)
    func decodeHeaders(_ request: inout HTTPRequestMessage, endStream: Bool) -> FilterHeadersStatus
    func decodeData(_ data: ByteSlice, endStream: Bool) -> FilterDataStatus
    func decodeTrailers(_ trailers: inout HTTPHeaders) -> FilterTrailersStatus
    /// The stream is gone (completed or reset); release everything.
    func onStreamDestroyed()
}

/// A filter on the response path (encode). Encoder filters run in reverse
/// configuration order.
public protocol HTTPEncoderFilter: AnyObject {
    func setEncoderCallbacks(_ callbacks: HTTPEncoderFilterCallbacks)
    func encodeHeaders(_ response: inout HTTPResponseMessage, endStream: Bool) -> FilterHeadersStatus
    func encodeData(_ data: ByteSlice, endStream: Bool) -> FilterDataStatus
    func encodeTrailers(_ trailers: inout HTTPHeaders) -> FilterTrailersStatus
    func onStreamDestroyed()
}

/// Envoy's `DownstreamWatermarkCallbacks`: a decoder filter that feeds the
/// response from an upstream hears when the downstream can take no more
/// (its connection's write buffer, or on HTTP/2 the stream's send queue).
public protocol HTTPDownstreamWatermarkCallbacks: AnyObject {
    func onAboveWriteBufferHighWatermark()
    func onBelowWriteBufferLowWatermark()
}

/// The filter that carries the raw bytes of an accepted upgrade (the
/// router, which owns the upstream tunnel).
public protocol HTTPUpgradeDataSink: AnyObject {
    func upgradedDataFromDownstream(_ data: ByteSlice)
    func upgradedDownstreamEnded()
}

/// What the connection manager offers a decoder filter.
public protocol HTTPDecoderFilterCallbacks: AnyObject {
    /// Registers the filter for the downstream's watermarks (one per
    /// stream; told at once if the downstream is already full).
    func addDownstreamWatermarkCallbacks(_ callbacks: HTTPDownstreamWatermarkCallbacks)
    /// Names the filter that takes the bytes after an accepted upgrade.
    func setUpgradeDataSink(_ sink: HTTPUpgradeDataSink)
    /// The request headers as they stand after the filters before this one.
    var request: HTTPRequestMessage { get }
    /// The request's upgrade type, lowercase, when it is an upgrade (an
    /// HTTP/1 `Upgrade`, or an HTTP/2 extended CONNECT, which the codec
    /// presents as one); nil otherwise.
    var upgradeType: String? { get }
    /// The connection manager's `upgrade_configs` verdict on `type` (nil:
    /// not listed); a route's own `upgrade_configs` override it.
    func connectionManagerEnablesUpgrade(_ type: String) -> Bool?
    var streamInfo: StreamInfo { get }
    /// The downstream connection (for its TLS facts); nil where there is none.
    var downstreamConnection: Connection? { get }
    /// Resumes iteration stopped by this filter.
    func continueDecoding()
    /// Answers the request locally (Envoy's `sendLocalReply`).
    func sendLocalReply(_ reply: LocalReply)
    /// A local reply with the route's own headers first and a body
    /// (direct responses, redirects).
    func sendResponse(status: Int, headers: HTTPHeaders, body: [UInt8], details: String)
    /// Starts the response (the router's upstream response) through the encoder filters.
    func encodeHeaders(_ response: consuming HTTPResponseMessage, endStream: Bool)
    func encodeData(_ data: ByteSlice, endStream: Bool)
    func encodeTrailers(_ trailers: HTTPHeaders)
    /// Sends `100 Continue` downstream (the router's answer to an upstream 100).
    func encode100Continue()
    /// Resets the stream (and, for HTTP/1, closes the connection).
    func resetStream()
    /// The bytes after an accepted upgrade flow through these two;
    /// `upstreamClosed`: the upstream's connection closed (rather than its
    /// HTTP/2 stream ending).
    func sendUpgradedData(_ data: ByteSlice)
    func endUpgradedData(upstreamClosed: Bool)
    /// Envoy's decoder-filter watermark callbacks: the filter's upstream
    /// can take no more request bytes, so the downstream stops reading
    /// (one read-disable count per call, released by the matching
    /// `...BelowWriteBufferLowWatermark`; the stream releases what is still
    /// held when it ends).
    func onDecoderFilterAboveWriteBufferHighWatermark()
    func onDecoderFilterBelowWriteBufferLowWatermark()
    /// Replaces `stream_idle_timeout` for this stream (a route's `idle_timeout`; 0 disables).
    func overrideIdleTimeout(_ milliseconds: UInt64)
    /// The route is known: bound the stream by its `max_stream_duration`
    /// (or `grpc-timeout`), rewriting the request's `grpc-timeout` as Envoy's
    /// connection manager does (`refreshDurationTimeout`).
    func refreshStreamDuration(route: ForwardAction, request: inout HTTPRequestMessage)
}

/// What the connection manager offers an encoder filter.
public protocol HTTPEncoderFilterCallbacks: AnyObject {
    var streamInfo: StreamInfo { get }
    func continueEncoding()
}

/// A response made by Remora itself: status, body, and the flag that says why.
public struct LocalReply {
    public var status: Int
    public var body: String
    public var flag: ResponseFlag?
    /// Envoy's response-code details (`route_not_found`, ...), for logs.
    public var details: String
    /// Extra headers first in the response (e.g. `x-envoy-overloaded: true`).
    public var headers: [(String, String)]
    /// Close the downstream connection after the reply.
    public var closeConnection: Bool
    /// The `grpc-status` of the reply to a gRPC request; nil = mapped from `status`.
    public var grpcStatus: GRPCStatus?

    public init(status: Int, body: String = "", flag: ResponseFlag? = nil, details: String,
                headers: [(String, String)] = [], closeConnection: Bool = false, grpcStatus: GRPCStatus? = nil) {
        self.grpcStatus = grpcStatus
        self.status = status
        self.body = body
        self.flag = flag
        self.details = details
        self.headers = headers
        self.closeConnection = closeConnection
    }
}
