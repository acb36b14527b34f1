internal import CNGHTTP2
import RemoraCore

/// What `receiveHeader` made of a field.
enum HeaderVerdict {
    case ok
    /// Past `maxHeaderListBytes`.
    case listTooLarge
    /// Past `maxHeadersCount`.
    case tooManyFields
    /// A name with an underscore under `headersWithUnderscores: .rejectRequest`.
    case underscoreInName
}

extension HTTP2Connection {
    /// RFC 9113 §8.2.2: fields a HTTP/2 message must not carry. A head that
    /// came from HTTP/1 may still hold them; they are left out on encode
    /// (`te` only unless it is `trailers`).
    static func isConnectionSpecific(_ name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool {
        switch name.count {
        case 2: return HTTPHeaders.name(name, is: "te") && !ASCII.equalsLowercase(value, "trailers")
        case 7: return HTTPHeaders.name(name, is: "upgrade")
        case 10: return HTTPHeaders.name(name, is: "connection") || HTTPHeaders.name(name, is: "keep-alive")
        case 16: return HTTPHeaders.name(name, is: "proxy-connection")
        case 17: return HTTPHeaders.name(name, is: "transfer-encoding")
        default: return false
        }
    }

    /// Calls `body` with nghttp2's name/value array for `headers`:
    /// pseudo-headers first, names lowercased (into scratch, only when a name
    /// has an uppercase letter), connection-specific fields left out. nghttp2
    /// copies the array when a frame is submitted.
    func withNameValues<R>(_ headers: HTTPHeaders, _ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        if headers.count > nvCapacity {
            nvScratch.deallocate()
            nvCapacity = headers.count * 2
            nvScratch = .allocate(capacity: nvCapacity)
        }
        var upperBytes = 0
        headers.withEachField { name, _ in
            if ASCII.hasUppercase(name) { upperBytes += name.count }
        }
        if upperBytes > nameScratchCapacity {
            nameScratch.deallocate()
            nameScratchCapacity = upperBytes * 2
            nameScratch = .allocate(byteCount: nameScratchCapacity, alignment: 8)
        }
        return withExtendedLifetime(headers) {
            var n = 0
            var scratchUsed = 0
            for pass in 0..<2 {
                headers.withEachField { name, value in
                    let isPseudo = name.first == UInt8(ascii: ":")
                    guard isPseudo == (pass == 0) else { return }
                    if !isPseudo && Self.isConnectionSpecific(name, value: value) { return }
                    var namePointer = UnsafeMutableRawPointer(mutating: name.baseAddress ?? UnsafeRawPointer(nameScratch))
                    if ASCII.hasUppercase(name) {
                        let dst = nameScratch + scratchUsed
                        for i in 0..<name.count { dst.storeBytes(of: ASCII.lowercased(name[i]), toByteOffset: i, as: UInt8.self) }
                        namePointer = dst
                        scratchUsed += name.count
                    }
                    let valuePointer = UnsafeMutableRawPointer(mutating: value.baseAddress ?? UnsafeRawPointer(nameScratch))
                    nvScratch[n] = nghttp2_nv(
                        name: namePointer.assumingMemoryBound(to: UInt8.self),
                        value: valuePointer.assumingMemoryBound(to: UInt8.self),
                        namelen: name.count, valuelen: value.count, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
                    n += 1
                }
            }
            return body(nvScratch, n)
        }
    }

    /// Adds one received field to the head `stream` is receiving, copying it
    /// into the connection's header arena. Returns false past the header
    /// list limits (Envoy's `max_request_headers_kb` / `max_headers_count`).
    /// Cookie crumbs (RFC 9113 §8.2.3) are joined back into one `cookie`
    /// field with "; ", as Envoy does, so an HTTP/1 peer gets one.
    func receiveHeader(_ stream: HTTP2Stream, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> HeaderVerdict {
        stream.receivingBytes += name.count + value.count
        // Envoy counts the two limits apart: bytes `header_list_size_too_large`, fields `header_overflow`.
        if stream.receivingBytes > options.maxHeaderListBytes { return .listTooLarge }
        if stream.receivingCount + 1 > options.maxHeadersCount { return .tooManyFields }
        if options.headersWithUnderscores != .allow && HeadersWithUnderscoresAction.hasUnderscore(name) {
            if options.headersWithUnderscores == .rejectRequest { return .underscoreInName }
            stats.add(.droppedHeadersWithUnderscores)
            return .ok
        }
        if stream.receivingCount == 0 { stream.receiving = HTTPHeaders(minimumCapacity: 16) }
        if name.count == 6, HTTPHeaders.name(name, is: "cookie"), let i = stream.receiving.firstIndex(name: "cookie") {
            let previous = stream.receiving.value(at: i)
            let separator: StaticString = "; "
            let start = previous.withUnsafeBytes { old in
                copyToArena(old, UnsafeRawBufferPointer(start: separator.utf8Start, count: 2), value)
            }
            stream.receivingBytes += 2
            stream.receiving.set(name: "cookie", value: ByteSlice(
                storage: headerArena.unsafelyUnwrapped, offset: start, count: previous.count + 2 + value.count))
            return .ok
        }
        stream.receivingCount += 1
        let start = copyToArena(name, value)
        // The connection holds the arena: no retain for the field (an
        // `unowned(unsafe)` local would still be retained for the call).
        Unmanaged.passUnretained(headerArena.unsafelyUnwrapped)._withUnsafeGuaranteedRef { arena in
            stream.receiving.appendReferencing(arena, nameOffset: start, nameCount: name.count,
                                               valueOffset: start + name.count, valueCount: value.count)
        }
        return .ok
    }

    /// Copies the pieces one after the other into the header arena (a block
    /// of the connection's pool, shared by the heads of all its streams);
    /// returns where they start in `headerArena`.
    private func copyToArena(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer,
                             _ c: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) -> Int {
        let total = a.count + b.count + c.count
        if headerArena == nil || headerArena.unsafelyUnwrapped.fill + total > headerArena.unsafelyUnwrapped.capacity {
            headerArena = total <= output.pool.blockSize ? output.pool.take() : PooledBuffer(capacity: total)
        }
        unowned(unsafe) let block = headerArena.unsafelyUnwrapped
        let start = block.fill
        var at = start
        // Three fixed pieces, not a variadic list: no array per header field.
        if a.count > 0 { (block.base + at).copyMemory(from: a.baseAddress!, byteCount: a.count); at += a.count }
        if b.count > 0 { (block.base + at).copyMemory(from: b.baseAddress!, byteCount: b.count); at += b.count }
        if c.count > 0 { (block.base + at).copyMemory(from: c.baseAddress!, byteCount: c.count); at += c.count }
        block.fill = at
        return start
    }

    /// The head received so far, handed over; the stream starts a new one.
    func takeReceived(_ stream: HTTP2Stream) -> HTTPHeaders {
        // Moved out, not copied (a copy retains its arrays and buffers).
        var h = HTTPHeaders()
        swap(&h, &stream.receiving)
        // What the proxy adds to the head (forwarding fields, service time)
        // goes into the rest of the header arena: no arena per head.
        if let arena = headerArena { h.copyAddedFields(into: arena) }
        stream.receivingBytes = 0
        stream.receivingCount = 0
        return h
    }
}
