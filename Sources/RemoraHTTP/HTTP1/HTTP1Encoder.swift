import RemoraCore

/// Serializes HTTP/1.1 message heads and frames bodies for vectored writes.
///
/// A head becomes one contiguous `ByteSlice`; body data is never copied:
/// chunked coding adds a small chunk-size slice and a shared CRLF slice around
/// each data slice. Small outputs are carved out of a scratch block (from
/// `pool` when given, else an unpooled 4 KiB buffer), so there is about one
/// allocation per few dozen heads. A slice keeps its block alive until written.
///
/// Header names are lowercased by default, as Envoy writes them (its header
/// map stores names lowercased); `.preserve` and `.properCase` match Envoy's
/// `preserve_case` and `proper_case_words` header key formats. Names and
/// values are written as they are: validate what did not come from the parser.
///
/// One encoder per connection, used on that connection's loop.
public struct HTTP1Encoder {
    public enum HeaderNameCase: Sendable {
        /// `content-type` (Envoy's default).
        case lowercase
        /// As received or added.
        case preserve
        /// `Content-Type`: first letter and each letter after a non-alphanumeric one uppercased.
        case properCase
    }

    public var headerNameCase: HeaderNameCase
    private let pool: BufferPool?
    private var scratch: PooledBuffer?
    private var scratchUsed = 0
    private static let scratchSize = 4096

    public init(headerNameCase: HeaderNameCase = .lowercase, pool: BufferPool? = nil) {
        self.headerNameCase = headerNameCase
        self.pool = pool
    }

    // MARK: - Heads

    /// `method SP target SP version CRLF fields CRLF`.
    public mutating func encodeRequestHead(
        method: HTTPMethod, target: ByteSlice, version: HTTPVersion = .http1_1, headers: HTTPHeaders
    ) -> ByteSlice {
        target.withUnsafeBytes { t in encodeRequestHead(method: method, target: t, version: version, headers: headers) }
    }

    public mutating func encodeRequestHead(
        method: HTTPMethod, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders
    ) -> ByteSlice {
        HTTPHeaders.withNameBytes(target) { t in encodeRequestHead(method: method, target: t, version: version, headers: headers) }
    }

    /// A request head whose first field is `host: <host>` (the `:authority`
    /// a proxy keeps apart from the other fields), then `headers`; saves
    /// building a second header map just to put Host first.
    public mutating func encodeRequestHead(
        method: HTTPMethod, target: String, version: HTTPVersion = .http1_1, host: String, headers: HTTPHeaders
    ) -> ByteSlice {
        HTTPHeaders.withNameBytes(target) { t in
            HTTPHeaders.withNameBytes(host) { h in
                encodeRequestHead(method: method, target: t, version: version, host: h, headers: headers)
            }
        }
    }

    private mutating func encodeRequestHead(
        method: HTTPMethod, target: UnsafeRawBufferPointer, version: HTTPVersion,
        host: UnsafeRawBufferPointer? = nil, headers: HTTPHeaders
    ) -> ByteSlice {
        method.withNameBytes { m in
            let hostSize = host.map { 6 + $0.count + 2 } ?? 0
            let size = m.count + 1 + target.count + 1 + 8 + 2 + hostSize + fieldsSize(headers) + 2
            var w = allocate(size)
            w.write(m)
            w.write(ASCII.sp)
            w.write(target)
            w.write(ASCII.sp)
            w.writeVersion(version)
            w.writeCRLF()
            if let host {
                HTTPHeaders.withNameBytes("host: ") { w.write($0) }
                w.write(host)
                w.writeCRLF()
            }
            writeFields(headers, &w)
            w.writeCRLF()
            return w.finish()
        }
    }

    /// Fields the HTTP/1 client codec writes after a request's own, from
    /// its framing decision.
    struct RequestExtras: OptionSet {
        let rawValue: UInt8
        static let contentLengthZero = RequestExtras(rawValue: 1)
        static let chunked = RequestExtras(rawValue: 2)
    }

    /// A request head from a head in the pseudo-header model: the request
    /// line from `:method` and `:path` (`:authority` for CONNECT, as
    /// Envoy's codec writes it), `host` from `:authority`, the regular
    /// fields, then `extras`.
    mutating func encodeRequestHead(pseudoHeaders headers: HTTPHeaders, method: HTTPMethod, extras: RequestExtras) -> ByteSlice {
        let authority = headers.authority
        let target = method == .connect ? authority : headers.path
        return method.withNameBytes { m in
            withBytes(target) { t in
                withBytes(authority) { h in
                    var size = m.count + 1 + max(t.count, 1) + 1 + 8 + 2 + fieldsSize(headers, skippingPseudo: true) + 2
                    if authority != nil { size += 6 + h.count + 2 }
                    if extras.contains(.contentLengthZero) { size += Self.contentLengthZero.utf8CodeUnitCount }
                    if extras.contains(.chunked) { size += Self.chunked.utf8CodeUnitCount }
                    var w = allocate(size)
                    w.write(m)
                    w.write(ASCII.sp)
                    if t.count > 0 { w.write(t) } else { w.write(UInt8(ascii: "/")) }
                    w.write(ASCII.sp)
                    w.writeVersion(.http1_1)
                    w.writeCRLF()
                    if authority != nil {
                        w.write("host: ")
                        w.write(h)
                        w.writeCRLF()
                    }
                    writeFields(headers, &w, skippingPseudo: true)
                    if extras.contains(.contentLengthZero) { w.write(Self.contentLengthZero) }
                    if extras.contains(.chunked) { w.write(Self.chunked) }
                    w.writeCRLF()
                    return w.finish()
                }
            }
        }
    }

    private func withBytes<R>(_ slice: ByteSlice?, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        guard let slice else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return slice.withUnsafeBytes(body)
    }

    /// `version SP status SP reason CRLF fields CRLF`, with Envoy's reason
    /// phrase for `status` unless one is given (Envoy never forwards the
    /// upstream's).
    public mutating func encodeResponseHead(
        status: Int, reason: String? = nil, version: HTTPVersion = .http1_1, headers: HTTPHeaders
    ) -> ByteSlice {
        precondition(status >= 100 && status <= 999, "status must have three digits")
        let phrase = reason ?? Self.reasonPhrase(for: status)
        return HTTPHeaders.withNameBytes(phrase) { r in
            let size = 8 + 1 + 3 + 1 + r.count + 2 + fieldsSize(headers) + 2
            var w = allocate(size)
            w.writeStatusLine(version, status, r)
            writeFields(headers, &w)
            w.writeCRLF()
            return w.finish()
        }
    }

    /// Fields the HTTP/1 server codec writes after a response's own, from
    /// its framing and keep-alive decisions (the head itself is not edited,
    /// so nothing is copied to add them).
    struct ResponseExtras: OptionSet {
        let rawValue: UInt8
        static let connectionClose = ResponseExtras(rawValue: 1)
        static let connectionKeepAlive = ResponseExtras(rawValue: 2)
        static let contentLengthZero = ResponseExtras(rawValue: 4)
        static let chunked = ResponseExtras(rawValue: 8)
    }

    /// A response head from a head in the pseudo-header model: pseudo-headers
    /// (`:status`) are left out, `extras` follow the fields (connection first,
    /// then framing, as Envoy's codec writes them).
    mutating func encodeResponseHead(status: Int, version: HTTPVersion, headers: HTTPHeaders, extras: ResponseExtras) -> ByteSlice {
        precondition(status >= 100 && status <= 999, "status must have three digits")
        let phrase = Self.reasonPhrase(for: status)
        return HTTPHeaders.withNameBytes(phrase) { r in
            var size = 8 + 1 + 3 + 1 + r.count + 2 + fieldsSize(headers, skippingPseudo: true) + 2
            if extras.contains(.connectionClose) { size += Self.connectionClose.utf8CodeUnitCount }
            if extras.contains(.connectionKeepAlive) { size += Self.connectionKeepAlive.utf8CodeUnitCount }
            if extras.contains(.contentLengthZero) { size += Self.contentLengthZero.utf8CodeUnitCount }
            if extras.contains(.chunked) { size += Self.chunked.utf8CodeUnitCount }
            var w = allocate(size)
            w.writeStatusLine(version, status, r)
            writeFields(headers, &w, skippingPseudo: true)
            if extras.contains(.connectionClose) { w.write(Self.connectionClose) }
            if extras.contains(.connectionKeepAlive) { w.write(Self.connectionKeepAlive) }
            if extras.contains(.contentLengthZero) { w.write(Self.contentLengthZero) }
            if extras.contains(.chunked) { w.write(Self.chunked) }
            w.writeCRLF()
            return w.finish()
        }
    }

    private static let connectionClose: StaticString = "connection: close\r\n"
    private static let connectionKeepAlive: StaticString = "connection: keep-alive\r\n"
    private static let contentLengthZero: StaticString = "content-length: 0\r\n"
    private static let chunked: StaticString = "transfer-encoding: chunked\r\n"

    // MARK: - Bodies

    /// Body data under Content-Length (or until close): the slice itself.
    public func encodeBody(_ data: ByteSlice, into out: inout [ByteSlice]) {
        if data.count > 0 { out.append(data) }
    }

    /// One chunk: size line, the data slice (not copied), CRLF. Empty data
    /// adds nothing (an empty chunk would end the body).
    public mutating func encodeChunk(_ data: ByteSlice, into out: inout [ByteSlice]) {
        guard data.count > 0 else { return }
        out.append(chunkHeader(size: data.count))
        out.append(data)
        out.append(Self.crlf)
    }

    /// `HEX CRLF` for a chunk of `size` bytes.
    public mutating func chunkHeader(size: Int) -> ByteSlice {
        precondition(size > 0)
        var digits = 0
        var v = size
        while v > 0 { digits += 1; v >>= 4 }
        var w = allocate(digits + 2)
        var shift = (digits - 1) * 4
        while shift >= 0 {
            let d = UInt8((size >> shift) & 0xF)
            w.write(d < 10 ? 0x30 + d : 0x61 + d - 10)
            shift -= 4
        }
        w.writeCRLF()
        return w.finish()
    }

    /// The last chunk, trailer fields (if any) and the final CRLF.
    public mutating func encodeLastChunk(trailers: HTTPHeaders? = nil) -> ByteSlice {
        guard let trailers, !trailers.isEmpty else { return Self.lastChunk }
        var w = allocate(3 + fieldsSize(trailers) + 2)
        w.write(UInt8(ascii: "0"))
        w.writeCRLF()
        writeFields(trailers, &w)
        w.writeCRLF()
        return w.finish()
    }

    // Immutable after creation; its reference count is atomic, so sharing it
    // between loops is safe.
    nonisolated(unsafe) private static let constants = PooledBuffer(copying: Array("\r\n0\r\n\r\n".utf8))
    /// CRLF, shared.
    public static var crlf: ByteSlice { ByteSlice(storage: constants, offset: 0, count: 2) }
    /// `0 CRLF CRLF`, shared.
    public static var lastChunk: ByteSlice { ByteSlice(storage: constants, offset: 2, count: 5) }

    // MARK: - Writing

    private func fieldsSize(_ headers: HTTPHeaders, skippingPseudo: Bool = false) -> Int {
        var size = 0
        for e in headers.entries where !(skippingPseudo && headers.isPseudo(e)) {
            size += Int(e.nameCount) + 2 + Int(e.valueCount) + 2
        }
        return size
    }

    private func writeFields(_ headers: HTTPHeaders, _ w: inout Writer, skippingPseudo: Bool = false) {
        let nameCase = headerNameCase
        headers.withEachField { name, value in
            if skippingPseudo && name.count > 0 && name.load(as: UInt8.self) == UInt8(ascii: ":") { return }
            switch nameCase {
            case .lowercase: w.writeLowercased(name)
            case .preserve: w.write(name)
            case .properCase: w.writeProperCased(name)
            }
            w.write(ASCII.colon)
            w.write(ASCII.sp)
            w.write(value)
            w.writeCRLF()
        }
    }

    private mutating func allocate(_ size: Int) -> Writer {
        if let s = scratch, s.capacity - scratchUsed >= size {
            defer { scratchUsed += size }
            return Writer(storage: s, start: scratchUsed, capacity: size)
        }
        let buffer: PooledBuffer
        if let pool, size <= pool.blockSize {
            buffer = pool.take()
        } else {
            buffer = PooledBuffer(capacity: max(size, Self.scratchSize))
        }
        scratch = buffer
        scratchUsed = size
        return Writer(storage: buffer, start: 0, capacity: size)
    }

    /// Writes into a reserved run of a block.
    struct Writer {
        let storage: PooledBuffer
        let start: Int
        let capacity: Int
        let base: UnsafeMutableRawPointer
        var used = 0

        init(storage: PooledBuffer, start: Int, capacity: Int) {
            self.storage = storage
            self.start = start
            self.capacity = capacity
            self.base = storage.base + start
        }

        @inline(__always) mutating func write(_ b: UInt8) {
            base.storeBytes(of: b, toByteOffset: used, as: UInt8.self)
            used &+= 1
        }

        @inline(__always) mutating func write(_ bytes: UnsafeRawBufferPointer) {
            if let src = bytes.baseAddress, bytes.count > 0 {
                (base + used).copyMemory(from: src, byteCount: bytes.count)
                used &+= bytes.count
            }
        }

        @inline(__always) mutating func write(_ literal: StaticString) {
            write(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
        }

        @inline(__always) mutating func writeCRLF() {
            write(ASCII.cr)
            write(ASCII.lf)
        }

        /// `version SP status SP reason CRLF`.
        mutating func writeStatusLine(_ version: HTTPVersion, _ status: Int, _ reason: UnsafeRawBufferPointer) {
            writeVersion(version)
            write(ASCII.sp)
            write(UInt8(0x30 + status / 100))
            write(UInt8(0x30 + status / 10 % 10))
            write(UInt8(0x30 + status % 10))
            write(ASCII.sp)
            write(reason)
            writeCRLF()
        }

        mutating func writeVersion(_ v: HTTPVersion) {
            for b in "HTTP/".utf8 { write(b) }
            write(0x30 &+ v.major)
            write(UInt8(ascii: "."))
            write(0x30 &+ v.minor)
        }

        mutating func writeLowercased(_ bytes: UnsafeRawBufferPointer) {
            guard let src = bytes.baseAddress else { return }
            let n = bytes.count
            var i = 0
            // Eight bytes at a time: set bit 5 of each byte in 'A'...'Z'.
            while i &+ 8 <= n {
                let w = src.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let low7 = w & 0x7F7F_7F7F_7F7F_7F7F
                let atLeastA = low7 &+ 0x3F3F_3F3F_3F3F_3F3F
                let aboveZ = low7 &+ 0x2525_2525_2525_2525
                let upper = (atLeastA ^ aboveZ) & ~w & 0x8080_8080_8080_8080
                base.storeBytes(of: w | (upper >> 2), toByteOffset: used &+ i, as: UInt64.self)
                i &+= 8
            }
            while i < n {
                base.storeBytes(of: ASCII.lowercased(src.load(fromByteOffset: i, as: UInt8.self)), toByteOffset: used &+ i, as: UInt8.self)
                i &+= 1
            }
            used &+= n
        }

        mutating func writeProperCased(_ bytes: UnsafeRawBufferPointer) {
            var upperNext = true
            for b in bytes {
                let isAlnum = ASCII.table[Int(b)] & ASCII.alpha != 0 || (b >= 0x30 && b <= 0x39)
                let lower = ASCII.lowercased(b)
                write(upperNext && lower &- 0x61 < 26 ? lower & ~0x20 : lower)
                upperNext = !isAlnum
            }
        }

        func finish() -> ByteSlice {
            precondition(used == capacity, "head size miscounted")
            return ByteSlice(storage: storage, offset: start, count: used)
        }
    }
}
