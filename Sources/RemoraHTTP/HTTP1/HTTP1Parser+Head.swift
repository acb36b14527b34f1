import RemoraCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parsing a complete head (or trailer block) that lies in one contiguous
/// region: the start line, the field lines, and the framing and validity
/// rules that Envoy 1.40 applies, in Envoy's order.
extension HTTP1Parser {
    /// What the field lines said about framing and connection handling.
    struct FieldFacts {
        var count = 0
        var contentLengthIndex = -1
        var contentLength: Range<Int>? = nil
        var transferEncodingCount = 0
        var transferEncoding: Range<Int>? = nil
        var hostCount = 0
        var host: Range<Int>? = nil
        var connectionClose = false
        var connectionKeepAlive = false
        var connectionUpgrade = false
        var expectContinue = false
        var upgradeCount = 0
        var upgradeIsH2C = false

        var transferEncodingIsChunked = false
    }

    // MARK: - Requests

    mutating func parseRequestHead(
        _ p: UnsafeRawBufferPointer, storage: PooledBuffer, base: Int
    ) throws(HTTP1ParseError) -> HTTP1RequestHead {
        let lineEnd = Self.lineEnd(p, from: 0)
        let contentEnd = Self.contentEnd(p, lineStart: 0, lf: lineEnd)

        // Envoy checks the line for control bytes before its syntax.
        let table = classes
        var k = ASCII.firstNonFieldValueByte(p.baseAddress!, from: 0, to: contentEnd, table: table)
        while k < contentEnd {
            let b = p[k]
            if table[Int(b)] & ASCII.control != 0 { return try fail(.invalidCharacters) }
            if b == ASCII.cr { return try fail(.invalidStartLine) }
            k &+= 1
        }

        // method SP target SP version, any run of SP/HTAB as a separator
        // (RFC 9112 §3 allows it; Envoy accepts it). No version: HTTP/0.9.
        var tokens: (Range<Int>, Range<Int>, Range<Int>) = (0..<0, 0..<0, 0..<0)
        var tokenCount = 0
        var i = 0
        if contentEnd == 0 || ASCII.isWhitespace(p[0]) { return try fail(.invalidStartLine) }
        while i < contentEnd {
            let start = i
            while i < contentEnd && !ASCII.isWhitespace(p[i]) { i &+= 1 }
            switch tokenCount {
            case 0: tokens.0 = start..<i
            case 1: tokens.1 = start..<i
            case 2: tokens.2 = start..<i
            default: return try fail(.invalidStartLine)
            }
            tokenCount &+= 1
            while i < contentEnd && ASCII.isWhitespace(p[i]) { i &+= 1 }
        }
        guard tokenCount >= 2 else { return try fail(.invalidStartLine) }

        let methodBytes = UnsafeRawBufferPointer(rebasing: p[tokens.0])
        let method: HTTPMethod
        if let known = HTTPMethod.known(methodBytes) {
            method = known
        } else if configuration.allowCustomMethods, methodBytes.allSatisfy({ table[Int($0)] & ASCII.token != 0 }) {
            method = HTTPMethod(String(decoding: methodBytes, as: UTF8.self))
        } else {
            return try fail(.invalidMethod)
        }
        let isConnect = method == .connect

        let targetBytes = UnsafeRawBufferPointer(rebasing: p[tokens.1])
        guard Self.isTargetSyntaxValid(targetBytes, isConnect: isConnect, table: table) else { return try fail(.invalidTarget) }

        let version: HTTPVersion
        if tokenCount == 3 {
            guard let v = Self.version(UnsafeRawBufferPointer(rebasing: p[tokens.2])) else {
                return try fail(.invalidVersion)
            }
            version = v
        } else {
            version = .http0_9
        }

        var headers = HTTPHeaders(parsedFrom: storage, capacity: max(lines &- 1, 0))
        var facts = try parseFields(p, from: lineEnd &+ 1, base: base, into: &headers, trailers: false)

        // Envoy's order of checks once the head is complete.
        if facts.count > configuration.maxHeaderCount { return try fail(.tooManyHeaders) }
        if isConnect, let cl = facts.contentLength, !Self.isZero(UnsafeRawBufferPointer(rebasing: p[cl])) {
            return try fail(.connectWithBody)
        }
        if isConnect && facts.contentLength != nil {
            // Envoy drops a zero Content-Length from a CONNECT.
            headers.remove(at: facts.contentLengthIndex)
            facts.contentLength = nil
        }
        // A CONNECT's Content-Length is gone by now (refused or dropped above).
        let contentLength = try reconcileFraming(p, &facts, &headers, tunnel: isConnect) ?? 0
        if !version.isHTTP11 && !configuration.acceptHTTP10 { return try fail(.unsupportedVersion) }
        let isAbsoluteForm = try checkTargetSemantics(targetBytes, method: method)
        if let host = facts.host {
            let value = UnsafeRawBufferPointer(rebasing: p[host])
            if !value.allSatisfy({ table[Int($0)] & ASCII.authority != 0 }) { return try fail(.invalidHost) }
        } else if !isConnect && !isAbsoluteForm && (version.isHTTP11 || !configuration.allowMissingHostForHTTP10) {
            return try fail(.missingHost)
        }

        let isUpgrade = facts.upgradeCount > 0 && facts.connectionUpgrade && !facts.upgradeIsH2C
        let framing: HTTP1BodyFraming
        if isUpgrade || isConnect {
            framing = .tunnel
            state = .upgradePending
        } else if facts.transferEncodingIsChunked {
            framing = .chunked
            state = .chunkSizeStart
        } else if contentLength > 0 {
            framing = .contentLength(contentLength)
            remaining = contentLength
            state = .bodyLength
        } else {
            framing = .none
            state = .endPending
        }
        keepAlive = version.isHTTP11
            ? !facts.connectionClose
            : facts.connectionKeepAlive && !facts.connectionClose

        return HTTP1RequestHead(
            method: method,
            target: ByteSlice(storage: storage, offset: base &+ tokens.1.lowerBound, count: tokens.1.count),
            version: version,
            headers: headers,
            framing: framing,
            keepAlive: keepAlive,
            expectsContinue: facts.expectContinue,
            isUpgrade: isUpgrade)
    }

    /// balsa's `isUrlValid` (itself http-parser's rules): origin- or
    /// asterisk-form, or scheme "://" host [path], or (CONNECT) host [path].
    static func isTargetSyntaxValid(_ t: UnsafeRawBufferPointer, isConnect: Bool, table: UnsafePointer<UInt8>) -> Bool {
        guard let first = t.first else { return false }
        // Control bytes were refused with the whole line; obs-text is not allowed here.
        if first == UInt8(ascii: "/") || first == UInt8(ascii: "*") {
            return t.allSatisfy { table[Int($0)] & ASCII.pathQuery != 0 }
        }
        var i = 0
        if !isConnect {
            guard table[Int(first)] & ASCII.alpha != 0 else { return false }
            i = 1
            while i < t.count {
                let b = t[i]
                guard table[Int(b)] & ASCII.alpha != 0 || (b >= 0x30 && b <= 0x39)
                    || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") else { break }
                i &+= 1
            }
            guard t.count - i >= 3, t[i] == UInt8(ascii: ":"), t[i + 1] == UInt8(ascii: "/"),
                  t[i + 2] == UInt8(ascii: "/") else { return false }
            i &+= 3
        }
        var previousAt = false
        while i < t.count, t[i] != UInt8(ascii: "/"), t[i] != UInt8(ascii: "?") {
            let b = t[i]
            guard table[Int(b)] & ASCII.urlHost != 0 else { return false }
            let isAt = b == UInt8(ascii: "@")
            if isAt && previousAt { return false }
            previousAt = isAt
            i &+= 1
        }
        while i < t.count {
            guard table[Int(t[i])] & ASCII.pathQuery != 0 else { return false }
            i &+= 1
        }
        return true
    }

    /// Envoy's `handlePath`: "*" only for OPTIONS; absolute-form needs a
    /// host; CONNECT needs authority-form host:port. Returns whether the
    /// target is in absolute-form (whose authority stands in for Host).
    private mutating func checkTargetSemantics(_ t: UnsafeRawBufferPointer, method: HTTPMethod) throws(HTTP1ParseError) -> Bool {
        let first = t[0]
        if method == .connect {
            // host ":" port, nothing else (http_parser_parse_url in CONNECT mode).
            guard let colon = t.lastIndex(of: UInt8(ascii: ":")), colon > 0, colon < t.count - 1, t.count - colon - 1 <= 5,
                  !t.contains(UInt8(ascii: "/")), !t.contains(UInt8(ascii: "?")) else { return try fail(.invalidURL) }
            var port = 0
            for b in t[(colon + 1)...] {
                guard b >= 0x30 && b <= 0x39 else { return try fail(.invalidURL) }
                port = port * 10 + Int(b - 0x30)
            }
            guard port <= 65535 else { return try fail(.invalidURL) }
            return false
        }
        if first == UInt8(ascii: "/") { return false }
        if first == UInt8(ascii: "*") {
            guard method == .options else { return try fail(.invalidURL) }
            return false
        }
        // scheme://authority[/path]: the syntax check found "://".
        guard let sep = Self.find(t, "://") else { return try fail(.invalidURL) }
        let hostStart = sep + 3
        var hostEnd = hostStart
        while hostEnd < t.count, t[hostEnd] != UInt8(ascii: "/"), t[hostEnd] != UInt8(ascii: "?") { hostEnd += 1 }
        guard hostEnd > hostStart else { return try fail(.invalidURL) }
        return true
    }

    // MARK: - Responses

    mutating func parseResponseHead(
        _ p: UnsafeRawBufferPointer, storage: PooledBuffer, base: Int
    ) throws(HTTP1ParseError) -> HTTP1ResponseHead {
        let lineEnd = Self.lineEnd(p, from: 0)
        let contentEnd = Self.contentEnd(p, lineStart: 0, lf: lineEnd)

        // HTTP-version SP status-code [SP reason-phrase] (RFC 9112 §4).
        var i = 0
        while i < contentEnd && !ASCII.isWhitespace(p[i]) { i &+= 1 }
        guard let version = Self.version(UnsafeRawBufferPointer(rebasing: p[0..<i])) else {
            return try fail(.invalidVersion)
        }
        while i < contentEnd && ASCII.isWhitespace(p[i]) { i &+= 1 }
        let statusStart = i
        while i < contentEnd && !ASCII.isWhitespace(p[i]) { i &+= 1 }
        guard i - statusStart == 3 else { return try fail(.invalidStatus) }
        var status = 0
        for b in p[statusStart..<i] {
            guard b >= 0x30 && b <= 0x39 else { return try fail(.invalidStatus) }
            status = status * 10 + Int(b - 0x30)
        }
        guard status >= 100 else { return try fail(.invalidStatus) }
        while i < contentEnd && ASCII.isWhitespace(p[i]) { i &+= 1 }
        let reasonStart = i
        let bad = ASCII.firstNonFieldValueByte(p.baseAddress!, from: i, to: contentEnd, table: classes)
        if bad < contentEnd { return try fail(p[bad] == ASCII.cr ? .bareCR : .invalidCharacters) }

        var headers = HTTPHeaders(parsedFrom: storage, capacity: max(lines &- 1, 0))
        var facts = try parseFields(p, from: lineEnd &+ 1, base: base, into: &headers, trailers: false)

        if facts.count > configuration.maxHeaderCount { return try fail(.tooManyHeaders) }
        // Envoy's strict_1xx_and_204_response_headers.
        if status < 200 || status == 204 {
            if facts.transferEncodingCount > 0 { return try fail(.transferEncodingNotAllowed) }
            if let cl = facts.contentLength {
                guard Self.isZero(UnsafeRawBufferPointer(rebasing: p[cl])) else { return try fail(.contentLengthNotAllowed) }
                headers.remove(at: facts.contentLengthIndex)
                facts.contentLength = nil
            }
        }
        let isConnectTunnel = requestMethod == .connect && status >= 200 && status < 300
        let contentLength = try reconcileFraming(p, &facts, &headers, tunnel: isConnectTunnel)

        var messageKeepAlive = version.isHTTP11
            ? !facts.connectionClose
            : facts.connectionKeepAlive && !facts.connectionClose
        let framing: HTTP1BodyFraming
        if status == 101 || isConnectTunnel {
            framing = .tunnel
            state = .upgradePending
        } else if status < 200 {
            // Informational: the final response follows.
            framing = .none
            state = .idle
        } else if requestMethod == .head || status == 204 || status == 304 {
            framing = .none
            state = .endPending
        } else if facts.transferEncodingIsChunked {
            framing = .chunked
            state = .chunkSizeStart
        } else if let n = contentLength {
            framing = n == 0 ? .none : .contentLength(n)
            remaining = n
            state = n == 0 ? .endPending : .bodyLength
        } else {
            framing = .untilClose
            messageKeepAlive = false
            state = .untilClose
        }
        if status >= 200 { keepAlive = messageKeepAlive }

        return HTTP1ResponseHead(
            status: status,
            reason: ByteSlice(storage: storage, offset: base &+ reasonStart, count: contentEnd &- reasonStart),
            version: version,
            headers: headers,
            framing: framing,
            keepAlive: messageKeepAlive)
    }

    // MARK: - Framing

    /// Transfer-Encoding against Content-Length, the rules request
    /// smuggling lives on (RFC 9112 §6.1 and §6.3, as Envoy 1.40 applies
    /// them), for requests and responses alike: Transfer-Encoding must be
    /// exactly one `chunked` (501 otherwise, and always on a tunnel: a
    /// CONNECT or its 2xx); with Content-Length as well the message is
    /// refused unless `allow_chunked_length`, which drops the
    /// Content-Length. Returns the Content-Length still in force, parsed,
    /// or nil when there is none.
    private mutating func reconcileFraming(
        _ p: UnsafeRawBufferPointer, _ facts: inout FieldFacts, _ headers: inout HTTPHeaders, tunnel: Bool
    ) throws(HTTP1ParseError) -> UInt64? {
        if facts.transferEncodingCount > 0 {
            if tunnel { return try fail(.invalidTransferEncoding) }
            facts.transferEncodingIsChunked = facts.transferEncodingCount == 1
                && ASCII.equalsLowercase(ASCII.trimmed(UnsafeRawBufferPointer(rebasing: p[facts.transferEncoding!])), "chunked")
            if facts.contentLength != nil {
                guard configuration.allowChunkedLength && facts.transferEncodingIsChunked else {
                    return try fail(.contentLengthAndTransferEncoding)
                }
                headers.remove(at: facts.contentLengthIndex)
                facts.contentLength = nil
            }
            if !facts.transferEncodingIsChunked { return try fail(.invalidTransferEncoding) }
        }
        guard let cl = facts.contentLength else { return nil }
        guard let n = Self.contentLength(UnsafeRawBufferPointer(rebasing: p[cl])) else {
            return try fail(.invalidContentLength)
        }
        return n
    }

    // MARK: - Trailers

    /// Nil when the block is only the blank line.
    mutating func parseTrailers(
        _ p: UnsafeRawBufferPointer, storage: PooledBuffer, base: Int
    ) throws(HTTP1ParseError) -> HTTPHeaders? {
        if p.count <= 2 && Self.contentEnd(p, lineStart: 0, lf: p.count &- 1) == 0 { return nil }
        var trailers = HTTPHeaders(parsedFrom: storage, capacity: lines)
        let facts = try parseFields(p, from: 0, base: base, into: &trailers, trailers: true)
        if facts.count > configuration.maxHeaderCount { return try fail(.tooManyHeaders) }
        return trailers
    }

    // MARK: - Field lines

    /// Parses field lines from `from` up to the blank line that ends `p`,
    /// appending them to `headers` and noting the ones that matter to framing.
    /// Ranges in the result are relative to `p`.
    private mutating func parseFields(
        _ p: UnsafeRawBufferPointer, from: Int, base: Int, into headers: inout HTTPHeaders, trailers: Bool
    ) throws(HTTP1ParseError) -> FieldFacts {
        var facts = FieldFacts()
        let table = classes
        let base0 = p.baseAddress!
        let n = p.count
        var lineStart = from
        while true {
            // The region ends with the blank line, so every scan below stops inside it.
            let first = p[lineStart]
            if first == ASCII.lf || (first == ASCII.cr && p[lineStart &+ 1] == ASCII.lf) { break }

            // RFC 9112 §5.2: obs-fold is refused (Envoy unfolds it; see ENVOY_BEHAVIOUR.md).
            if ASCII.isWhitespace(first) { return try fail(.obsFold) }
            var j = lineStart
            while table[Int(p[j])] & ASCII.token != 0 { j &+= 1 }
            let stop = p[j]
            if stop != ASCII.colon {
                if stop == ASCII.lf || (stop == ASCII.cr && p[j &+ 1] == ASCII.lf) { return try fail(.missingColon) }
                if table[Int(stop)] & ASCII.control != 0 { return try fail(.invalidCharacters) }
                if ASCII.isWhitespace(stop) {
                    var w = j
                    while ASCII.isWhitespace(p[w]) { w &+= 1 }
                    if p[w] == ASCII.colon { return try fail(.whitespaceBeforeColon) }
                }
                return try fail(.invalidHeaderName)
            }
            if j == lineStart { return try fail(.invalidHeaderName) }

            var v = j &+ 1
            while ASCII.isWhitespace(p[v]) { v &+= 1 }
            // The value runs to the first byte that cannot be in one: the line end.
            let x = ASCII.firstNonFieldValueByte(base0, from: v, to: n, table: table)
            let lf: Int
            switch p[x] {
            case ASCII.lf: lf = x
            case ASCII.cr where p[x &+ 1] == ASCII.lf: lf = x &+ 1
            case ASCII.cr: return try fail(.bareCR)
            default: return try fail(.invalidCharacters)
            }
            var ve = x
            while ve > v && ASCII.isWhitespace(p[ve &- 1]) { ve &-= 1 }

            if configuration.headersWithUnderscores != .allow,
               HeadersWithUnderscoresAction.hasUnderscore(UnsafeRawBufferPointer(rebasing: p[lineStart..<j])) {
                if configuration.headersWithUnderscores == .rejectRequest { return try fail(.underscoreInHeaderName) }
                droppedUnderscoreFields &+= 1
                lineStart = lf &+ 1
                continue
            }
            facts.count &+= 1
            headers.appendParsed(
                nameOffset: base &+ lineStart, nameCount: j &- lineStart,
                valueOffset: base &+ v, valueCount: ve &- v)
            if !trailers {
                try noteSpecialField(
                    name: UnsafeRawBufferPointer(rebasing: p[lineStart..<j]),
                    value: v..<ve, p, index: headers.count &- 1, &facts)
            }
            lineStart = lf &+ 1
        }
        return facts
    }

    @inline(__always)
    private mutating func noteSpecialField(
        name: UnsafeRawBufferPointer, value: Range<Int>, _ p: UnsafeRawBufferPointer, index: Int, _ facts: inout FieldFacts
    ) throws(HTTP1ParseError) {
        switch name.count {
        case 4:
            if ASCII.equalsLowercase(name, "host") {
                // Envoy accepts repeated Host fields and joins them with ","
                // (see ENVOY_BEHAVIOUR.md, two-hosts); each must be a valid authority.
                let table = classes
                if facts.host != nil,
                   !UnsafeRawBufferPointer(rebasing: p[value]).allSatisfy({ table[Int($0)] & ASCII.authority != 0 }) {
                    return try fail(.invalidHost)
                }
                facts.hostCount &+= 1
                facts.host = facts.host ?? value
            }
        case 6:
            if ASCII.equalsLowercase(name, "expect"),
               ASCII.equalsLowercase(UnsafeRawBufferPointer(rebasing: p[value]), "100-continue") {
                facts.expectContinue = true
            }
        case 7:
            if ASCII.equalsLowercase(name, "upgrade") {
                facts.upgradeCount &+= 1
                if ASCII.equalsLowercase(UnsafeRawBufferPointer(rebasing: p[value]), "h2c") { facts.upgradeIsH2C = true }
            }
        case 10:
            if ASCII.equalsLowercase(name, "connection") {
                ASCII.forEachListElement(UnsafeRawBufferPointer(rebasing: p[value])) { token in
                    switch token.count {
                    case 5: if ASCII.equalsLowercase(token, "close") { facts.connectionClose = true }
                    case 7: if ASCII.equalsLowercase(token, "upgrade") { facts.connectionUpgrade = true }
                    case 10: if ASCII.equalsLowercase(token, "keep-alive") { facts.connectionKeepAlive = true }
                    default: break
                    }
                    return false
                }
            }
        case 14:
            if ASCII.equalsLowercase(name, "content-length") {
                // Envoy refuses any second Content-Length, even an equal one.
                if facts.contentLength != nil { try fail(.duplicateContentLength) as Void }
                facts.contentLength = value
                facts.contentLengthIndex = index
            }
        case 17:
            if ASCII.equalsLowercase(name, "transfer-encoding") {
                facts.transferEncodingCount &+= 1
                facts.transferEncoding = value
            }
        default:
            break
        }
    }

    // MARK: - Small pieces

    /// Index of the LF ending the line that starts at `from` (the region
    /// always ends with one).
    @inline(__always)
    static func lineEnd(_ p: UnsafeRawBufferPointer, from: Int) -> Int {
        let base = p.baseAddress!
        let lf = memchr(base + from, Int32(ASCII.lf), p.count &- from)!
        return UnsafeRawPointer(lf) - base
    }

    /// End of a line's content: before its LF, and before a CR just before it.
    @inline(__always)
    static func contentEnd(_ p: UnsafeRawBufferPointer, lineStart: Int, lf: Int) -> Int {
        lf > lineStart && p[lf &- 1] == ASCII.cr ? lf &- 1 : lf
    }

    /// "HTTP/" DIGIT "." DIGIT, exactly (RFC 9112 §2.3).
    static func version(_ v: UnsafeRawBufferPointer) -> HTTPVersion? {
        guard v.count == 8, v[0] == UInt8(ascii: "H"), v[1] == UInt8(ascii: "T"), v[2] == UInt8(ascii: "T"),
              v[3] == UInt8(ascii: "P"), v[4] == UInt8(ascii: "/"), v[6] == UInt8(ascii: "."),
              v[5] &- 0x30 < 10, v[7] &- 0x30 < 10 else { return nil }
        return HTTPVersion(major: v[5] &- 0x30, minor: v[7] &- 0x30)
    }

    /// 1*DIGIT fitting in 64 bits (Envoy accepts up to 2^64-1).
    static func contentLength(_ raw: UnsafeRawBufferPointer) -> UInt64? {
        let v = ASCII.trimmed(raw)
        guard !v.isEmpty else { return nil }
        var n: UInt64 = 0
        for b in v {
            let d = b &- 0x30
            guard d < 10 else { return nil }
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d))
            guard !o1 && !o2 else { return nil }
            n = s
        }
        return n
    }

    /// Envoy compares the raw value with "0".
    static func isZero(_ raw: UnsafeRawBufferPointer) -> Bool {
        let v = ASCII.trimmed(raw)
        return v.count == 1 && v[0] == UInt8(ascii: "0")
    }

    static func find(_ t: UnsafeRawBufferPointer, _ needle: StaticString) -> Int? {
        let n = needle.utf8CodeUnitCount
        guard t.count >= n else { return nil }
        let s = needle.utf8Start
        var i = 0
        while i + n <= t.count {
            var k = 0
            while k < n && t[i + k] == s[k] { k += 1 }
            if k == n { return i }
            i += 1
        }
        return nil
    }
}
