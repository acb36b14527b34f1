import RemoraCore

/// A request head in parts, as a proxy holds it (method, scheme, authority
/// and path apart from the regular fields), for a client codec to send.
/// A codec that writes the head straight from these parts does so (the
/// HTTP/1 codec: request line, `host`, fields, with no header map built);
/// any other builds the pseudo-header head from them (`pseudoHeaderHead`).
/// Values, on the loop of the stream they are sent on.
public struct HTTPRequestHead {
    /// What the fields say about the body, found by whoever built the head
    /// so that a codec need not look for it again.
    public struct Framing: OptionSet, Sendable {
        public let rawValue: UInt8
        @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// The fields carry `transfer-encoding: chunked`: a body of unknown
        /// length follows.
        @inlinable public static var chunked: Framing { Framing(rawValue: 1) }
        /// After the head the stream carries tunnel bytes: an upgrade or a
        /// CONNECT (whose answer opens the tunnel).
        @inlinable public static var tunnel: Framing { Framing(rawValue: 2) }
    }

    public var method: HTTPMethod
    public var scheme: String
    /// `:authority`; for a CONNECT, also its target (RFC 9110 §9.3.6).
    public var authority: String
    /// `:path`, the origin-form target (a CONNECT has none).
    public var path: String
    /// The regular fields, lowercase names, no pseudo-headers.
    public var fields: HTTPHeaders
    public var framing: Framing

    @inlinable
    public init(method: HTTPMethod, scheme: String, authority: String, path: String, fields: HTTPHeaders,
                framing: Framing = []) {
        self.method = method
        self.scheme = scheme
        self.authority = authority
        self.path = path
        self.fields = fields
        self.framing = framing
    }

    /// The head in the pseudo-header model: `:method :scheme :authority
    /// :path` (a CONNECT has no `:scheme` or `:path`, RFC 9113 §8.5), then
    /// the fields. Added values share the fields' arena (no copy of it).
    public func pseudoHeaderHead() -> HTTPHeaders {
        let isConnect = method == .connect
        var headers = HTTPHeaders(minimumCapacity: fields.count + 4)
        headers.copyAddedFields(asIn: fields)
        headers.add(name: ":method", value: method.name)
        if !isConnect { headers.add(name: ":scheme", value: scheme) }
        headers.add(name: ":authority", value: authority)
        if !isConnect { headers.add(name: ":path", value: path) }
        headers.add(contentsOf: fields)
        return headers
    }
}

extension HTTPRequestEncoder {
    /// A codec that has no faster way sends the pseudo-header head.
    public func encodeHeaders(_ head: HTTPRequestHead, endStream: Bool) {
        encodeHeaders(head.pseudoHeaderHead(), endStream: endStream)
    }
}
