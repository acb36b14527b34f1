public import RemoraCore

/// `common_http_protocol_options.headers_with_underscores_action`: what a
/// server codec does with a request header (or trailer) whose name has an
/// underscore, as Envoy's codecs do it. HTTP/1 refuses the request with 400
/// (`http1.unexpected_underscore`); HTTP/2 resets the stream
/// (INTERNAL_ERROR) before it reaches the connection manager.
public enum HeadersWithUnderscoresAction: Sendable, Equatable {
    /// Envoy's default.
    case allow
    case rejectRequest
    case dropHeader

    /// Whether `name` has an underscore (pseudo-headers never do).
    @inline(__always)
    static func hasUnderscore(_ name: UnsafeRawBufferPointer) -> Bool {
        name.contains(UInt8(ascii: "_"))
    }
}

/// The `http1.*` stats of downstream HTTP/1 codecs (Envoy's root scope),
/// with Envoy's names.
public enum HTTP1CodecStat: Int, StatName {
    case droppedHeadersWithUnderscores, requestsRejectedWithUnderscoresInHeaders, responseFlood
    /// METADATA cannot be said over HTTP/1; Remora never encodes any
    /// (Envoy lists the counter all the same).
    case metadataNotSupportedError

    public var name: String {
        switch self {
        case .droppedHeadersWithUnderscores: "dropped_headers_with_underscores"
        case .requestsRejectedWithUnderscoresInHeaders: "requests_rejected_with_underscores_in_headers"
        case .responseFlood: "response_flood"
        case .metadataNotSupportedError: "metadata_not_supported_error"
        }
    }

    public var kind: StatKind { .counter }
}
