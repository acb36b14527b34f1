import RemoraCore

/// Pseudo-header access: the head model of the codec interfaces.
///
/// Proposal (Envoy's internal model): a request or response head is one
/// `HTTPHeaders` whose first fields are the pseudo-headers — `:method`,
/// `:scheme`, `:authority`, `:path` (and `:protocol`) for requests, `:status`
/// for responses — followed by the regular fields with lowercase names. The
/// HTTP/2 codec delivers and sends exactly that. The HTTP/1 codec adopts it by
/// translating at its edge: the request line becomes `:method` and `:path`
/// (absolute-form targets also give `:authority` and `:scheme`), `Host`
/// becomes `:authority` (and back on encode), the status line becomes
/// `:status`; framing (`content-length`, `transfer-encoding`) and
/// `keep-alive` stay codec facts. Filters and the router then read the head
/// the same way for both protocols, as Envoy's `RequestHeaderMap` does.
extension HTTPHeaders {
    /// The value of the pseudo-header `name` (`":path"`), if present. Pseudo-
    /// headers come first, so the scan stops at the first regular field.
    public func pseudo(_ name: StaticString) -> ByteSlice? {
        for i in 0..<count {
            let e = entries[i]
            let n = nameBytes(e)
            guard n.first == UInt8(ascii: ":") else { return nil }
            if ASCII.equalsLowercase(n, name) { return value(at: i) }
        }
        return nil
    }

    public var method: ByteSlice? { pseudo(":method") }
    public var path: ByteSlice? { pseudo(":path") }
    public var authority: ByteSlice? { pseudo(":authority") }
    public var scheme: ByteSlice? { pseudo(":scheme") }

    /// `:status` as a number (nil when absent or not three digits).
    public var status: Int? {
        guard let s = pseudo(":status"), s.count == 3 else { return nil }
        return s.withUnsafeBytes { b -> Int? in
            var v = 0
            for c in b {
                guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
                v = v * 10 + Int(c - UInt8(ascii: "0"))
            }
            return v
        }
    }
}

extension HTTPHeaders {
    /// Moves the last `count` fields to the front, in place (a codec adds a
    /// head's pseudo-headers after its fields, then puts them first).
    mutating func moveLastToFront(_ count: Int) {
        let n = entries.count
        guard count > 0, count < n else { return }
        entries.withUnsafeMutableBufferPointer { b in
            b[0..<n].reverse()
            b[0..<count].reverse()
            b[count..<n].reverse()
        }
    }
}
