import RemoraHTTP

/// A local reply to a gRPC request, as Envoy makes it
/// (`Http::Utility::sendLocalReply` with `is_grpc`): HTTP 200 and a
/// trailers-only response, `content-type: application/grpc`, `grpc-status`
/// from the HTTP status the reply would have had
/// (`Grpc::Utility::httpToGrpcStatus`) unless the reply names one, and the
/// body text as a percent-encoded `grpc-message`. Over HTTP/1.1 the headers
/// end the response (`content-length: 0`, added by the connection manager);
/// over HTTP/2 they are one HEADERS frame with END_STREAM. Pure; the stream
/// calls it on its loop.
enum GRPCLocalReply {
    /// The HTTP status of every gRPC local reply.
    static let httpStatus = 200

    /// Rewrites `headers` (the reply's own headers, e.g. a route's
    /// `response_headers_to_add` or `x-envoy-overloaded`, already in place)
    /// into a gRPC reply's: `content-type` replaced in place (or added),
    /// `grpc-status` added unless present, `grpc-message` from `body` unless
    /// it is empty or the request is HEAD (one trailing newline dropped, as
    /// Envoy does for formatted bodies), no `content-length`. Envoy's order,
    /// checked against Envoy 1.40: their own headers first, then
    /// `content-type`, `grpc-status`, `grpc-message`.
    static func rewrite(_ headers: inout HTTPHeaders, httpStatus: Int, grpcStatus: GRPCStatus?, body: [UInt8],
                        isHeadRequest: Bool) {
        headers.set(name: "content-type", value: "application/grpc")
        if !headers.contains(name: "grpc-status") {
            headers.add(name: "grpc-status", value: (grpcStatus ?? GRPCStatus(httpStatus: httpStatus)).description)
        }
        if !body.isEmpty && !isHeadRequest {
            let text = body.last == UInt8(ascii: "\n") ? body.dropLast() : body[...]
            headers.set(name: "grpc-message", value: GRPCRequest.percentEncodeMessage(bytes: text))
        }
        _ = headers.remove(name: "content-length")
    }
}
