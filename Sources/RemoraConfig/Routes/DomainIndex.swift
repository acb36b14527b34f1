/// Virtual-host lookup by `:authority`, in Envoy's order
/// (`RouteMatcher::findVirtualHost`):
/// 1. exact domain;
/// 2. the longest suffix wildcard (`*.foo.com`, `*-bar.foo.com`) whose
///    suffix is strictly shorter than the host (`*.foo.com` does not match `.foo.com`);
/// 3. the longest prefix wildcard (`foo.*`), likewise;
/// 4. the `*` virtual host.
/// Comparison ignores ASCII case. Lookups borrow the request's bytes and allocate nothing.
struct DomainIndex: Sendable {
    private(set) var exact: [DomainKey: Int] = [:]
    /// (suffix length, suffix → vhost), longest first.
    private(set) var suffixes: [(Int, [DomainKey: Int])] = []
    private(set) var prefixes: [(Int, [DomainKey: Int])] = []
    private(set) var defaultHost: Int?

    var onlyDefault: Bool { exact.isEmpty && suffixes.isEmpty && prefixes.isEmpty }

    enum InsertResult { case inserted, duplicate, secondWildcard }

    /// Adds a (lowercase) domain for virtual host `index`.
    mutating func insert(_ domain: String, host index: Int) -> InsertResult {
        let bytes = Array(domain.utf8)
        if domain == "*" {
            guard defaultHost == nil else { return .secondWildcard }
            defaultHost = index
            return .inserted
        }
        if bytes.first == UInt8(ascii: "*") {
            return Self.insert(Array(bytes.dropFirst()), index, into: &suffixes)
        }
        if bytes.last == UInt8(ascii: "*") {
            return Self.insert(Array(bytes.dropLast()), index, into: &prefixes)
        }
        guard exact.updateValue(index, forKey: .owned(bytes)) == nil else { return .duplicate }
        return .inserted
    }

    private static func insert(_ key: [UInt8], _ index: Int, into table: inout [(Int, [DomainKey: Int])]) -> InsertResult {
        if let slot = table.firstIndex(where: { $0.0 == key.count }) {
            guard table[slot].1.updateValue(index, forKey: .owned(key)) == nil else { return .duplicate }
        } else {
            table.append((key.count, [.owned(key): index]))
            table.sort { $0.0 > $1.0 }
        }
        return .inserted
    }

    /// The virtual host for `host` (already without port when the route
    /// configuration ignores ports).
    func lookup(_ host: UnsafeRawBufferPointer) -> Int? {
        if let hit = exact[.borrowed(host)] { return hit }
        for (length, table) in suffixes where length < host.count {
            if let hit = table[.borrowed(UnsafeRawBufferPointer(rebasing: host[(host.count - length)...]))] { return hit }
        }
        for (length, table) in prefixes where length < host.count {
            if let hit = table[.borrowed(UnsafeRawBufferPointer(rebasing: host[..<length]))] { return hit }
        }
        return defaultHost
    }

    /// Envoy's `HeaderUtility::getPortStart`: the `:` before a port, not
    /// inside an IPv6 literal's brackets.
    static func portStart(_ host: UnsafeRawBufferPointer) -> Int? {
        guard let colon = host.lastIndex(of: UInt8(ascii: ":")) else { return nil }
        if let bracket = host.lastIndex(of: UInt8(ascii: "]")), bracket > colon { return nil }
        return colon
    }
}

/// A domain as a dictionary key, hashed and compared without ASCII case.
///
/// `@unchecked Sendable`: keys stored in a `DomainIndex` are always
/// `.owned`; `.borrowed` keys only live for the duration of one lookup on
/// the calling thread and never escape it.
enum DomainKey: Hashable, @unchecked Sendable {
    case owned([UInt8])
    case borrowed(UnsafeRawBufferPointer)

    func hash(into hasher: inout Hasher) {
        // FNV-1a over the lowercased bytes, fed to the hasher as one word.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        withBytes { bytes in
            for b in bytes {
                h = (h ^ UInt64(ASCIIBytes.lower(b))) &* 0x0000_0100_0000_01b3
            }
        }
        hasher.combine(h)
    }

    static func == (lhs: DomainKey, rhs: DomainKey) -> Bool {
        lhs.withBytes { a in
            rhs.withBytes { b in
                guard a.count == b.count else { return false }
                for i in 0..<a.count where ASCIIBytes.lower(a[i]) != ASCIIBytes.lower(b[i]) { return false }
                return true
            }
        }
    }

    private func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch self {
        case .owned(let array): return array.withUnsafeBytes(body)
        case .borrowed(let buffer): return body(buffer)
        }
    }
}
