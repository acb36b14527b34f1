import RemoraCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A strict, zero-copy HTTP/1.x message parser (RFC 9112), for requests
/// (server side) or responses (client side), checked against Envoy 1.40.
///
/// A plain state machine: the owner feeds it the bytes it reads, as
/// `ByteSlice`s, and it reports heads, body slices, trailers and message ends
/// (`parse(_:delegate:)` with a generic delegate, or `nextEvent(in:at:)` one
/// event at a time). It never reads past the end of a message: it stops there
/// so that the owner can hold pipelined requests until the current response is
/// written, and it stops after the head of an upgrade or CONNECT so that the
/// rest is passed on as tunnel bytes.
///
/// Buffers: body slices are slices of the input. Heads reference the input
/// too, unless a head straddles reads: then its bytes are copied once (the
/// copy is bounded by `Configuration.maxHeadBytes`). The parser keeps no
/// reference to an input after the call returns.
///
/// Any error is final: the owner answers `error.status` (or fails the
/// upstream request) and closes the connection. One parser per connection,
/// used on that connection's loop.
public struct HTTP1Parser {
    public enum Kind: Sendable {
        /// Parses requests (a downstream connection).
        case request
        /// Parses responses (an upstream connection).
        case response
    }

    /// Limits and leniencies, named after Envoy's settings.
    public struct Configuration: Sendable {
        /// Largest head (start line, fields and the blank line, in bytes).
        /// Envoy: `max_request_headers_kb` (60 KiB) for requests, 80 KiB for responses.
        public var maxHeadBytes: Int
        /// Most header (or trailer) fields. Envoy: `max_headers_count` (100).
        public var maxHeaderCount: Int
        /// Accept requests that are not HTTP/1.1 (Envoy: `accept_http_10`, off: 426).
        public var acceptHTTP10: Bool
        /// Let an HTTP/1.0 request omit Host (Envoy: `default_host_for_http_10` set).
        public var allowMissingHostForHTTP10: Bool
        /// Accept any token as a method (Envoy: `allow_custom_methods`).
        public var allowCustomMethods: Bool
        /// Accept Content-Length with chunked coding and drop the Content-Length
        /// (Envoy: `allow_chunked_length`).
        public var allowChunkedLength: Bool
        /// Fields whose name has an underscore: kept, refused
        /// (`underscoreInHeaderName`) or dropped (counted in
        /// `droppedUnderscoreFields`). Envoy: `headers_with_underscores_action`.
        public var headersWithUnderscores: HeadersWithUnderscoresAction = .allow

        public init(
            maxHeadBytes: Int, maxHeaderCount: Int = 100, acceptHTTP10: Bool = false,
            allowMissingHostForHTTP10: Bool = false, allowCustomMethods: Bool = false,
            allowChunkedLength: Bool = false
        ) {
            precondition(maxHeadBytes > 0 && maxHeaderCount > 0)
            self.maxHeadBytes = maxHeadBytes
            self.maxHeaderCount = maxHeaderCount
            self.acceptHTTP10 = acceptHTTP10
            self.allowMissingHostForHTTP10 = allowMissingHostForHTTP10
            self.allowCustomMethods = allowCustomMethods
            self.allowChunkedLength = allowChunkedLength
        }

        /// Envoy's defaults for requests: 60 KiB, 100 fields.
        public static var request: Configuration { Configuration(maxHeadBytes: 60 * 1024) }
        /// Envoy's defaults for responses: 80 KiB, 100 fields.
        public static var response: Configuration { Configuration(maxHeadBytes: 80 * 1024) }
    }

    @usableFromInline
    enum State: UInt8 {
        case idle, head
        case bodyLength, untilClose
        case chunkSizeStart, chunkSize, chunkSizeWhitespace, chunkExtension, chunkSizeLF
        case chunkData, chunkDataEnd, chunkDataLF, trailers
        case endPending, upgradePending, tunnel, closed, failed
    }

    public let kind: Kind
    public var configuration: Configuration
    /// `ASCII.table`, held here so the byte loops skip the lazy-global check.
    let classes: UnsafePointer<UInt8> = ASCII.table
    /// The method of the request that the next response answers (response
    /// parsing only): HEAD responses have no body, 2xx to CONNECT is a tunnel.
    /// The owner sets it before each response.
    public var requestMethod: HTTPMethod = .get
    /// Fields dropped for an underscore in their name since the owner last
    /// took the count (`headersWithUnderscores: .dropHeader`).
    public var droppedUnderscoreFields = 0

    @usableFromInline var state: State = .idle
    var failure: HTTP1ParseError?
    /// Body bytes left (content-length) or chunk bytes left / chunk size being read.
    var remaining: UInt64 = 0
    /// Whether the message being parsed lets the connection be reused.
    var keepAlive = true

    // Head (and trailer block) scanning.
    /// 0: inside a line; 1: just after LF; 2: after LF CR.
    var scan: UInt8 = 0
    /// LFs seen in the current head: sizes the field array.
    var lines = 0
    /// Where the head starts in the current input (when `!headInPartial`).
    var headStart = 0
    /// Whether the head began in an earlier input and its bytes so far are in `partial`.
    var headInPartial = false
    var partial: [UInt8] = []

    public init(kind: Kind, configuration: Configuration? = nil) {
        self.kind = kind
        self.configuration = configuration ?? (kind == .request ? .request : .response)
    }

    /// Whether the parser is between messages with nothing buffered.
    public var isIdle: Bool { state == .idle }
    /// Whether the parser has stopped for good (no keep-alive, tunnel, or error).
    public var isClosed: Bool { state == .closed || state == .tunnel || state == .failed }

    // MARK: - Driving

    /// Parses as much of `input` as makes one step, calling `delegate` for
    /// each event, until a message ends, a tunnel begins or the input runs out.
    @inlinable
    public mutating func parse<D: HTTP1ParserDelegate>(
        _ input: ByteSlice, delegate: inout D
    ) throws(HTTP1ParseError) -> HTTP1ParseResult {
        var offset = 0
        while true {
            switch try nextEvent(in: input, at: &offset) {
            case .requestHead(let head): delegate.onRequestHead(head)
            case .responseHead(let head): delegate.onResponseHead(head)
            case .body(let chunk): delegate.onBody(chunk)
            case .trailers(let trailers): delegate.onTrailers(trailers)
            case .messageComplete:
                delegate.onMessageComplete()
                return HTTP1ParseResult(consumed: offset, stop: .messageComplete)
            case .upgrade: return HTTP1ParseResult(consumed: offset, stop: .upgrade)
            case .needMoreData: return HTTP1ParseResult(consumed: offset, stop: .needMoreData)
            case .closed: return HTTP1ParseResult(consumed: offset, stop: .closed)
            }
        }
    }

    /// The peer closed its side. Completes a body that runs until close
    /// (calling `onMessageComplete`); throws `unexpectedEOF` if a message was
    /// cut short. Either way the parser then takes no more input.
    @inlinable
    public mutating func finish<D: HTTP1ParserDelegate>(delegate: inout D) throws(HTTP1ParseError) {
        if try inputEnded() { delegate.onMessageComplete() }
    }

    /// `finish(delegate:)` without a delegate: returns whether a message
    /// completed because of the close.
    public mutating func inputEnded() throws(HTTP1ParseError) -> Bool {
        switch state {
        case .failed:
            throw failure!
        case .untilClose, .endPending:
            state = .closed
            return true
        case .idle, .closed, .tunnel, .upgradePending:
            state = .closed
            return false
        default:
            return try fail(.unexpectedEOF)
        }
    }

    /// The next event in `input` from `offset`, which it advances past the
    /// bytes it used.
    public mutating func nextEvent(in input: ByteSlice, at offset: inout Int) throws(HTTP1ParseError) -> HTTP1ParseEvent {
        precondition(offset >= 0 && offset <= input.count, "offset outside the input")
        if state == .failed { throw failure! }
        do {
            return try step(input, &offset)
        } catch {
            state = .failed
            failure = error
            throw error
        }
    }

    @inline(__always)
    func error(_ code: HTTP1ParseError.Code) -> HTTP1ParseError {
        HTTP1ParseError(code, response: kind == .response)
    }

    mutating func fail<T>(_ code: HTTP1ParseError.Code) throws(HTTP1ParseError) -> T {
        let e = error(code)
        state = .failed
        failure = e
        throw e
    }

    // MARK: - The byte loop

    private mutating func step(_ input: ByteSlice, _ offset: inout Int) throws(HTTP1ParseError) -> HTTP1ParseEvent {
        // The caller's slice keeps the storage alive for the whole call.
        let p = UnsafeRawBufferPointer(start: input.baseAddress, count: input.count)
        let end = p.count
        while true {
            switch state {
            case .endPending:
                state = keepAlive ? .idle : .closed
                return .messageComplete
            case .upgradePending:
                state = .tunnel
                return .upgrade
            case .closed, .tunnel:
                return .closed
            case .failed:
                throw failure!
            default:
                break
            }
            guard offset < end else {
                if (state == .head || state == .trailers) && !headInPartial {
                    headInPartial = true
                }
                return .needMoreData
            }

            switch state {
            case .idle:
                // RFC 9112 §2.2: empty lines before a request line are ignored.
                while offset < end, p[offset] == ASCII.cr || p[offset] == ASCII.lf { offset &+= 1 }
                guard offset < end else { return .needMoreData }
                try checkFirstByte(p[offset])
                beginHeadScan(at: offset, lineStart: false)
                state = .head

            case .head, .trailers:
                guard let headEnd = try scanHead(p, from: offset) else {
                    // Keep what we have of the head; it continues in the next input.
                    if headInPartial {
                        partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[offset..<end]))
                    } else {
                        partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[headStart..<end]))
                        headInPartial = true
                    }
                    offset = end
                    return .needMoreData
                }
                let storage: PooledBuffer
                let base: Int
                let count: Int
                if headInPartial {
                    partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[offset..<headEnd]))
                    storage = PooledBuffer(copying: partial)
                    base = 0
                    count = partial.count
                    partial = []
                    headInPartial = false
                } else {
                    storage = input.storage
                    base = input.offset + headStart
                    count = headEnd - headStart
                }
                offset = headEnd
                let region = UnsafeRawBufferPointer(start: storage.base + base, count: count)
                if state == .trailers {
                    if let trailers = try parseTrailers(region, storage: storage, base: base) {
                        state = .endPending
                        return .trailers(trailers)
                    }
                    state = .endPending
                } else if kind == .request {
                    return .requestHead(try parseRequestHead(region, storage: storage, base: base))
                } else {
                    return .responseHead(try parseResponseHead(region, storage: storage, base: base))
                }

            case .bodyLength:
                let n = Int(min(remaining, UInt64(end &- offset)))
                let chunk = ByteSlice(storage: input.storage, offset: input.offset &+ offset, count: n)
                offset &+= n
                remaining &-= UInt64(n)
                if remaining == 0 { state = .endPending }
                return .body(chunk)

            case .untilClose:
                let chunk = ByteSlice(storage: input.storage, offset: input.offset &+ offset, count: end &- offset)
                offset = end
                return .body(chunk)

            case .chunkData:
                let n = Int(min(remaining, UInt64(end &- offset)))
                let chunk = ByteSlice(storage: input.storage, offset: input.offset &+ offset, count: n)
                offset &+= n
                remaining &-= UInt64(n)
                if remaining == 0 { state = .chunkDataEnd }
                return .body(chunk)

            case .chunkSizeStart, .chunkSize, .chunkSizeWhitespace, .chunkExtension, .chunkSizeLF,
                 .chunkDataEnd, .chunkDataLF:
                try scanChunkFraming(p, &offset)

            case .endPending, .upgradePending, .closed, .tunnel, .failed:
                preconditionFailure("handled above")
            }
        }
    }

    /// Envoy (balsa) refuses at the first byte what cannot start a message:
    /// a letter that starts no known method, or a response not starting "H".
    @inline(__always)
    private mutating func checkFirstByte(_ b: UInt8) throws(HTTP1ParseError) {
        if kind == .response {
            if b != UInt8(ascii: "H") { try fail(.invalidStartLine) as Void }
        } else if configuration.allowCustomMethods {
            if classes[Int(b)] & ASCII.token == 0 { try fail(.invalidMethod) as Void }
        } else {
            switch b {
            case UInt8(ascii: "A"), UInt8(ascii: "B"), UInt8(ascii: "C"), UInt8(ascii: "D"), UInt8(ascii: "G"),
                 UInt8(ascii: "H"), UInt8(ascii: "L"), UInt8(ascii: "M"), UInt8(ascii: "N"), UInt8(ascii: "O"),
                 UInt8(ascii: "P"), UInt8(ascii: "R"), UInt8(ascii: "S"), UInt8(ascii: "T"), UInt8(ascii: "U"):
                break
            default:
                if classes[Int(b)] & ASCII.control != 0 {
                    try fail(.invalidCharacters) as Void
                }
                try fail(.invalidMethod) as Void
            }
        }
    }

    @inline(__always)
    mutating func beginHeadScan(at offset: Int, lineStart: Bool) {
        headStart = offset
        headInPartial = false
        partial = []
        scan = lineStart ? 1 : 0
        lines = 0
    }

    /// Looks for the blank line that ends a head (or trailer block), carrying
    /// on from where the last call stopped, so each byte is looked at once.
    /// Returns the index just past it, or nil if the input ran out first.
    /// Throws once the block is longer than the limit, found or not.
    @inline(__always)
    private mutating func scanHead(_ p: UnsafeRawBufferPointer, from: Int) throws(HTTP1ParseError) -> Int? {
        let soFar = headInPartial ? partial.count : from &- headStart
        let allowance = configuration.maxHeadBytes &- soFar
        // Never look further than one byte past the limit.
        let limit = min(p.count, from &+ allowance &+ 1)
        let base = p.baseAddress!
        var i = from
        var s = scan
        while i < limit {
            if s == 0 {
                guard let lf = memchr(base + i, Int32(ASCII.lf), limit &- i) else {
                    i = limit
                    break
                }
                i = UnsafeRawPointer(lf) - base &+ 1
                lines &+= 1
                s = 1
            } else {
                let b = p[i]
                if b == ASCII.lf {
                    i &+= 1
                    if i &- from > allowance { return try fail(.headersTooLarge) }
                    scan = 0
                    return i
                }
                if b == ASCII.cr && s == 1 {
                    s = 2
                    i &+= 1
                } else {
                    s = 0
                }
            }
        }
        scan = s
        if i &- from > allowance { return try fail(.headersTooLarge) }
        return nil
    }

    /// Chunk-size lines and the CRLF after chunk data (RFC 9112 §7.1), byte by
    /// byte, as leniently as Envoy: whitespace after the size, extensions
    /// skipped, a lone LF accepted after data but not after the size.
    private mutating func scanChunkFraming(_ p: UnsafeRawBufferPointer, _ offset: inout Int) throws(HTTP1ParseError) {
        let end = p.count
        while offset < end {
            let b = p[offset]
            switch state {
            case .chunkSizeStart:
                guard let v = ASCII.hexValue(b) else { return try fail(.invalidChunkSize) }
                remaining = UInt64(v)
                state = .chunkSize
            case .chunkSize:
                if let v = ASCII.hexValue(b) {
                    guard remaining <= UInt64.max >> 4 else { return try fail(.invalidChunkSize) }
                    remaining = remaining << 4 | UInt64(v)
                } else if b == ASCII.cr {
                    state = .chunkSizeLF
                } else if ASCII.isWhitespace(b) {
                    state = .chunkSizeWhitespace
                } else if b == UInt8(ascii: ";") {
                    state = .chunkExtension
                } else {
                    return try fail(.invalidChunkSize)
                }
            case .chunkSizeWhitespace:
                if b == ASCII.cr {
                    state = .chunkSizeLF
                } else if b == UInt8(ascii: ";") {
                    state = .chunkExtension
                } else if !ASCII.isWhitespace(b) {
                    return try fail(.invalidChunkSize)
                }
            case .chunkExtension:
                // Skipped up to CR (anything but LF, as Envoy); a lone CR is
                // refused by the LF check that follows.
                if b == ASCII.cr {
                    state = .chunkSizeLF
                } else if b == ASCII.lf {
                    return try fail(.invalidChunkSize)
                }
            case .chunkSizeLF:
                guard b == ASCII.lf else { return try fail(.invalidChunkSize) }
                offset &+= 1
                if remaining == 0 {
                    state = .trailers
                    beginHeadScan(at: offset, lineStart: true)
                } else {
                    state = .chunkData
                }
                return
            case .chunkDataEnd:
                if b == ASCII.cr {
                    state = .chunkDataLF
                } else if b == ASCII.lf {
                    state = .chunkSizeStart
                    offset &+= 1
                    return
                } else {
                    return try fail(.invalidChunkTerminator)
                }
            case .chunkDataLF:
                guard b == ASCII.lf else { return try fail(.invalidChunkTerminator) }
                state = .chunkSizeStart
                offset &+= 1
                return
            default:
                preconditionFailure("not a chunk framing state")
            }
            offset &+= 1
        }
    }
}
