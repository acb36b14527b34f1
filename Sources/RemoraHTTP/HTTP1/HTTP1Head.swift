import RemoraCore

/// How the body of a message is delimited (RFC 9112 §6).
public enum HTTP1BodyFraming: Hashable, Sendable {
    /// No body follows the head.
    case none
    /// Exactly this many bytes follow.
    case contentLength(UInt64)
    /// Chunked transfer coding; the parser hands out the de-chunked data.
    case chunked
    /// The body runs until the peer closes (responses only).
    case untilClose
    /// The head ends HTTP: what follows is tunnel bytes (Upgrade, CONNECT,
    /// 101, 2xx to CONNECT).
    case tunnel
}

/// A parsed request head. `target` and the header fields reference the bytes
/// they were parsed from (the read buffer, or one copy of the head when it
/// straddled reads); keeping the head keeps that buffer.
public struct HTTP1RequestHead {
    public var method: HTTPMethod
    /// The request-target exactly as received (origin-, absolute-,
    /// authority- or asterisk-form).
    public var target: ByteSlice
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var framing: HTTP1BodyFraming
    /// Whether the connection may carry another request after this one
    /// (RFC 9112 §9.3: HTTP/1.1 unless `Connection: close`; HTTP/1.0 only
    /// with `Connection: keep-alive`).
    public var keepAlive: Bool
    /// `Expect: 100-continue` (any case).
    public var expectsContinue: Bool
    /// An upgrade request (`Upgrade` plus a `Connection: upgrade` token), not
    /// counting `h2c`, which Envoy strips and serves as a plain request. The
    /// parser stops after the head of an upgrade request: the rest is tunnel.
    public var isUpgrade: Bool

    public var targetString: String { target.string }
}

/// A parsed response head; buffers as for `HTTP1RequestHead`.
public struct HTTP1ResponseHead {
    public var status: Int
    /// The reason phrase as received (Envoy does not forward it: the encoder
    /// writes the standard one).
    public var reason: ByteSlice
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var framing: HTTP1BodyFraming
    /// Whether the connection may carry another request after this response.
    public var keepAlive: Bool

    /// 1xx other than 101: another head follows on the same message.
    public var isInformational: Bool { status < 200 && status != 101 }
}

/// What the parser found next in its input.
public enum HTTP1ParseEvent {
    case requestHead(HTTP1RequestHead)
    case responseHead(HTTP1ResponseHead)
    /// De-chunked body bytes: a slice of the input, not a copy. Never empty.
    case body(ByteSlice)
    case trailers(HTTPHeaders)
    /// The message is complete. The parser stops here; the rest of the input
    /// (if any) is the next message, to be fed when the owner is ready.
    case messageComplete
    /// The head just delivered ended HTTP on this connection; the rest of the
    /// input is tunnel bytes.
    case upgrade
    /// All the input was consumed without completing a message.
    case needMoreData
    /// The parser accepts no more input: a message without keep-alive was
    /// completed (or a tunnel began). Nothing was consumed.
    case closed
}

/// Receives a parser's events. The parser calls it through generics, so
/// delegates should be concrete types (often the connection's own state
/// machine) rather than existentials. Heads are handed over (`consuming`):
/// a delegate that keeps and edits one does so without copying its fields.
public protocol HTTP1ParserDelegate {
    mutating func onRequestHead(_ head: consuming HTTP1RequestHead)
    mutating func onResponseHead(_ head: consuming HTTP1ResponseHead)
    mutating func onBody(_ chunk: ByteSlice)
    mutating func onTrailers(_ trailers: HTTPHeaders)
    mutating func onMessageComplete()
}

extension HTTP1ParserDelegate {
    public mutating func onRequestHead(_ head: consuming HTTP1RequestHead) {}
    public mutating func onResponseHead(_ head: consuming HTTP1ResponseHead) {}
    public mutating func onTrailers(_ trailers: HTTPHeaders) {}
}

/// Why `HTTP1Parser.parse` returned.
public struct HTTP1ParseResult: Hashable, Sendable {
    public enum Stop: Hashable, Sendable {
        /// All input consumed; feed more when it arrives.
        case needMoreData
        /// A message ended (`onMessageComplete` was called). Input after
        /// `consumed` is the next message: feed it when ready for one.
        case messageComplete
        /// A tunnel began after the head; input after `consumed` is tunnel data.
        case upgrade
        /// The parser takes no more input (the last message closed the connection).
        case closed
    }

    /// Bytes of the input used (always ≤ its count).
    public var consumed: Int
    public var stop: Stop

    public init(consumed: Int, stop: Stop) {
        self.consumed = consumed
        self.stop = stop
    }
}
