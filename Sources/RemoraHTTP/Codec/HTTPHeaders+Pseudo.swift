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

    /// `:status` as a number (nil when absent or not three digits); read in
    /// place, no slice made.
    public var status: Int? {
        for e in entries {
            let n = nameBytes(e)
            guard n.first == UInt8(ascii: ":") else { return nil }
            guard ASCII.equalsLowercase(n, ":status") else { continue }
            let v = valueBytes(e)
            guard v.count == 3 else { return nil }
            var status = 0
            for c in v {
                guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
                status = status * 10 + Int(c - UInt8(ascii: "0"))
            }
            return status
        }
        return nil
    }
}

/// A request head's pseudo-headers as a request message holds them, read
/// in one pass (no slice made per field).
public struct RequestPseudoHeaders {
    /// How many fields at the front are pseudo-headers.
    public var count = 0
    public var method: HTTPMethod?
    public var scheme: String?
    public var authority: String?
    public var path: String?
}

extension HTTPHeaders {
    /// `:method :scheme :authority :path` and how many pseudo-headers lead
    /// the fields, in one scan.
    public var requestPseudoHeaders: RequestPseudoHeaders {
        var r = RequestPseudoHeaders()
        for e in entries {
            let n = nameBytes(e)
            guard n.first == UInt8(ascii: ":") else { break }
            let v = valueBytes(e)
            switch n.count {
            case 5 where ASCII.equalsLowercase(n, ":path"):
                r.path = String(decoding: v, as: UTF8.self)
            case 7 where ASCII.equalsLowercase(n, ":method"):
                r.method = HTTPMethod.known(v) ?? HTTPMethod(String(decoding: v, as: UTF8.self))
            case 7 where ASCII.equalsLowercase(n, ":scheme"):
                if ASCII.equalsLowercase(v, "http") {
                    r.scheme = "http"
                } else if ASCII.equalsLowercase(v, "https") {
                    r.scheme = "https"
                } else {
                    r.scheme = String(decoding: v, as: UTF8.self)
                }
            case 10 where ASCII.equalsLowercase(n, ":authority"):
                r.authority = String(decoding: v, as: UTF8.self)
            default: break
            }
            r.count += 1
        }
        return r
    }

    /// Removes the leading `count` fields (a head's pseudo-headers, once
    /// read), in place; a storage no field references any more (the HTTP/1
    /// codec's `PseudoHeaderBytes`) gives its slot back, so that fields
    /// added later get their arena there.
    public mutating func removeLeadingPseudoHeaders(_ count: Int) {
        guard count > 0 else { return }
        entries.removeFirst(count)
        guard storages.secondary != nil, arenaIndex != 1 else { return }
        for e in entries where e.nameStorage == 1 || e.valueStorage == 1 { return }
        storages.secondary = nil
    }

    /// The storage index of `buffer`, added if need be.
    mutating func storageIndex(of buffer: PooledBuffer) -> UInt16 {
        guard let i = storages.index(of: buffer) else { preconditionFailure("HTTPHeaders: too many storages") }
        return i
    }

    /// Appends a field whose name and value lie in storages already listed (no copy, no retain).
    @inline(__always)
    mutating func appendReferencing(nameStorage: UInt16, _ n: (offset: Int, count: Int),
                                    valueStorage: UInt16, _ v: (offset: Int, count: Int)) {
        entries.append(Entry(
            nameStorage: nameStorage, valueStorage: valueStorage,
            nameOffset: UInt32(truncatingIfNeeded: n.offset), nameCount: UInt32(truncatingIfNeeded: n.count),
            valueOffset: UInt32(truncatingIfNeeded: v.offset), valueCount: UInt32(truncatingIfNeeded: v.count)))
    }

    /// Whether the field's name starts with ':' (one byte read).
    @inline(__always)
    func isPseudo(_ e: Entry) -> Bool {
        e.nameCount > 0 && storage(e.nameStorage).base.load(fromByteOffset: Int(e.nameOffset), as: UInt8.self) == UInt8(ascii: ":")
    }

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

/// The bytes an HTTP/1 head's pseudo-headers reference: the four names,
/// "/", the schemes and the known methods, in one buffer per loop (kept by
/// `HTTP1SharedEncoder`), so a translated head costs no copy and no arena.
final class PseudoHeaderBytes {
    typealias Run = (offset: Int, count: Int)
    let buffer: PooledBuffer
    let methodName: Run = (0, 7)
    let schemeName: Run = (7, 7)
    let authorityName: Run = (14, 10)
    let pathName: Run = (24, 5)
    let slash: Run = (29, 1)
    let https: Run = (30, 5)
    let http: Run = (30, 4)
    /// Where each known method's name starts (its length is the name's).
    private let methodOffsets: [Int]

    init() {
        var bytes = Array(":method:scheme:authority:path/https".utf8)
        var offsets: [Int] = []
        for name in HTTPMethod.knownBytes {
            offsets.append(bytes.count)
            bytes += name
        }
        buffer = PooledBuffer(copying: bytes)
        methodOffsets = offsets
    }

    /// A known method's name, nil for a custom one.
    func method(_ m: HTTPMethod) -> Run? {
        guard !m.isCustom else { return nil }
        let i = Int(m.code)
        return (methodOffsets[i], HTTPMethod.knownBytes[i].count)
    }

    /// "http" or "https", nil for another scheme.
    func scheme(_ s: String) -> Run? {
        switch s {
        case "http": http
        case "https": https
        default: nil
        }
    }
}

/// `:status` and every three-digit status value, in one immutable buffer
/// shared by all loops (its reference count is atomic): a parsed HTTP/1
/// response head gets its `:status` by reference, with no copy.
enum StatusPseudoHeaderBytes {
    nonisolated(unsafe) static let buffer: PooledBuffer = {
        var bytes = Array(":status".utf8)
        for status in 100...999 { bytes += Array(String(status).utf8) }
        return PooledBuffer(copying: bytes)
    }()
}

extension HTTPHeaders {
    /// Puts `:status` first (the HTTP/1 client codec's translation of a
    /// status line). The value references `StatusPseudoHeaderBytes`; a
    /// parsed head has room for it, so the field array does not grow.
    mutating func prependStatus(_ status: Int) {
        guard (100...999).contains(status) else {
            add(name: ":status", value: String(status))
            moveLastToFront(1)
            return
        }
        let storage = storageIndex(of: StatusPseudoHeaderBytes.buffer)
        entries.insert(Entry(nameStorage: storage, valueStorage: storage, nameOffset: 0, nameCount: 7,
                             valueOffset: UInt32(7 + (status - 100) * 3), valueCount: 3), at: 0)
    }
}
