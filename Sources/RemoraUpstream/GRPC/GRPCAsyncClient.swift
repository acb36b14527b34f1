import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP

/// Why a `GRPCAsyncClient` cannot be made for a cluster.
public struct GRPCClientError: Error, Equatable, CustomStringConvertible {
    private enum Code: Equatable {
        case notHTTP2(cluster: String)
    }

    private let code: Code

    /// gRPC needs HTTP/2 to the cluster's hosts.
    public static func notHTTP2(cluster: String) -> GRPCClientError { GRPCClientError(code: .notHTTP2(cluster: cluster)) }

    public var description: String {
        switch code {
        case .notHTTP2(let cluster):
            "gRPC client cluster '\(cluster)' does not use HTTP/2: set explicit_http_config.http2_protocol_options "
                + "in its envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
        }
    }
}

/// A gRPC client for one cluster on one worker loop (Envoy's
/// `Grpc::AsyncClientImpl`, the `envoy_grpc` client): each call is a stream
/// on the cluster's HTTP/2 pool for a host its balancer picks, with the head
/// Envoy 1.40 sends (`:method POST`, `:path /<service>/<method>`,
/// `:authority <cluster name>`, `:scheme http`, `te: trailers`,
/// `grpc-timeout`, `content-type: application/grpc`, the call's metadata,
/// `x-envoy-internal: true`, `x-forwarded-for` when a local address is
/// given, `x-envoy-expected-rq-timeout-ms`; no `user-agent`). It is what the
/// xDS client (ADS) and the OTLP/gRPC trace exporter use. Owns its calls
/// until they end; everything runs on `loop`.
public final class GRPCAsyncClient {
    public struct Options {
        /// `:authority`; Envoy's default for `envoy_grpc` is the cluster name.
        public var authority: String?
        /// `max_receive_message_length` (0: no limit): a longer message ends
        /// the call RESOURCE_EXHAUSTED.
        public var maxReceiveMessageBytes: Int
        /// Envoy's async client appends its node's local address as
        /// `x-forwarded-for` (`send_xff`); nil sends none.
        public var forwardedFor: String?

        public init(authority: String? = nil, maxReceiveMessageBytes: Int = 0, forwardedFor: String? = nil) {
            self.authority = authority
            self.maxReceiveMessageBytes = maxReceiveMessageBytes
            self.forwardedFor = forwardedFor
        }
    }

    let loop: EventLoop
    public let cluster: WorkerCluster
    private let options: Options
    private let authority: String
    /// Calls not yet ended, keyed by identity.
    private var streams: [ObjectIdentifier: GRPCStream] = [:]

    /// Refuses a cluster that does not speak HTTP/2 to its hosts.
    public init(cluster: WorkerCluster, loop: EventLoop, options: Options = Options()) throws(GRPCClientError) {
        let http = cluster.config.http
        guard http.http2 != nil, http.protocolSelection != .http1 else {
            throw .notHTTP2(cluster: cluster.config.name)
        }
        self.cluster = cluster
        self.loop = loop
        self.options = options
        self.authority = options.authority ?? cluster.config.name
    }

    /// Calls in progress.
    public var activeStreams: Int { streams.count }

    /// Starts a call. The returned handle sends messages; `callbacks` hear
    /// the response from a later loop turn on (never inside this call), and
    /// a failure to reach a host ends the call UNAVAILABLE. `timeoutMilliseconds`
    /// bounds the whole call (sent as `grpc-timeout`); when it passes the call
    /// ends UNAVAILABLE "upstream request timeout", as Envoy's router reports it.
    @discardableResult
    public func startStream(service: String, method: String, metadata: [(name: String, value: String)] = [],
                            timeoutMilliseconds: UInt64? = nil, callbacks: GRPCStreamCallbacks) -> GRPCStream {
        loop.assertInLoop()
        let head = Self.head(service: service, method: method, authority: authority, metadata: metadata,
                             timeoutMilliseconds: timeoutMilliseconds, forwardedFor: options.forwardedFor)
        let stream = GRPCStream(client: self, callbacks: callbacks, head: head, timeoutMilliseconds: timeoutMilliseconds,
                                maxReceiveMessageBytes: options.maxReceiveMessageBytes)
        streams[ObjectIdentifier(stream)] = stream
        let pool = cluster.chooseHost().map { cluster.http2Pool(for: $0, loop: loop) }
        stream.start(pool: pool)
        return stream
    }

    /// A unary call (Envoy's `AsyncClient::send`): one request message, then
    /// `completion` with the last response message, or the failure status
    /// (an OK status without a message is INTERNAL, as in Envoy).
    @discardableResult
    public func send(service: String, method: String, request: some Collection<UInt8>,
                     metadata: [(name: String, value: String)] = [], timeoutMilliseconds: UInt64? = nil,
                     completion: @escaping (Result<[UInt8], GRPCCallFailure>) -> Void) -> GRPCStream {
        let call = GRPCUnaryCall(completion: completion)
        let stream = startStream(service: service, method: method, metadata: metadata,
                                 timeoutMilliseconds: timeoutMilliseconds, callbacks: call)
        stream.sendMessage(request, endStream: true)
        return stream
    }

    func streamFinished(_ stream: GRPCStream) {
        streams[ObjectIdentifier(stream)] = nil
    }

    /// The request head Envoy 1.40's `envoy_grpc` client sends, in its order
    /// (`Grpc::Common::prepareHeaders`, then the async client's and router's
    /// additions; `te` before `grpc-timeout` before `content-type`, as
    /// PROTOCOL-HTTP2.md asks).
    public static func head(service: String, method: String, authority: String, metadata: [(name: String, value: String)],
                            timeoutMilliseconds: UInt64?, forwardedFor: String?) -> HTTPHeaders {
        var headers = HTTPHeaders(minimumCapacity: 10 + metadata.count)
        headers.add(name: ":method", value: "POST")
        headers.add(name: ":path", value: "/\(service)/\(method)")
        headers.add(name: ":authority", value: authority)
        headers.add(name: ":scheme", value: "http")
        headers.add(name: "te", value: "trailers")
        if let timeoutMilliseconds {
            headers.add(name: "grpc-timeout", value: GRPCTimeout.encode(milliseconds: timeoutMilliseconds))
        }
        headers.add(name: "content-type", value: "application/grpc")
        for (name, value) in metadata {
            headers.add(name: name.lowercased(), value: value)
        }
        headers.add(name: "x-envoy-internal", value: "true")
        if let forwardedFor {
            headers.add(name: "x-forwarded-for", value: forwardedFor)
        }
        if let timeoutMilliseconds {
            headers.add(name: "x-envoy-expected-rq-timeout-ms", value: String(timeoutMilliseconds))
        }
        return headers
    }
}
