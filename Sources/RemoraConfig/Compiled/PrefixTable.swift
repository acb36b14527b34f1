import RemoraCore

extension CIDRRange {
    /// A filter-chain range as Envoy's `CidrRange::create` makes it: an
    /// IPv4 length above 32 is taken as 32.
    init?(filterChainPrefix text: String, length: Int) {
        let isIPv4 = SocketAddress.parseIPv4(text) != nil
        self.init(text, prefixLength: isIPv4 ? min(length, 32) : length)
    }

    /// `0.0.0.0/0` and `::/0`: what an empty list of ranges stands for.
    static let anyIPv4 = CIDRRange("0.0.0.0", prefixLength: 0)!
    static let anyIPv6 = CIDRRange("::", prefixLength: 0)!

    /// The range's bits in `PrefixTable`'s layout.
    var bits: (isIPv4: Bool, high: UInt64, low: UInt64) { Self.bits(of: address)! }

    /// An IP address as 128 bits, IPv4 in the top 32 of `high`; nil for Unix paths.
    @inline(__always)
    static func bits(of address: SocketAddress) -> (isIPv4: Bool, high: UInt64, low: UInt64)? {
        switch address {
        case .v4(let a, _): return (true, UInt64(a) << 32, 0)
        case .v6(let h, let l, _): return (false, h, l)
        case .unix: return nil
        }
    }

    /// Keeps the first `length` bits.
    @inline(__always)
    static func mask(_ high: UInt64, _ low: UInt64, _ length: Int) -> (UInt64, UInt64) {
        if length >= 128 { return (high, low) }
        if length >= 64 { return (high, length == 64 ? 0 : low & ~(UInt64.max >> UInt64(length - 64))) }
        if length == 0 { return (0, 0) }
        return (high & ~(UInt64.max >> UInt64(length)), 0)
    }
}

/// A key of a `PrefixTable`.
enum RangeKey: Hashable, Sendable {
    /// No ranges configured: every address (`0.0.0.0/0` and `::/0`).
    case any
    case range(CIDRRange)

    static func keys(_ ranges: [CIDRRange]) -> [RangeKey] {
        ranges.isEmpty ? [.any] : ranges.map { .range($0) }
    }
}

/// Longest-prefix lookup over IP ranges, built once at config time.
///
/// Each range length present has its own hash table of masked prefixes,
/// probed from the longest length down, so a lookup costs one hash probe
/// per distinct length (a handful) and allocates nothing. Entries are
/// keyed as Envoy keys them: an empty range list (`any`) and an explicit
/// `0.0.0.0/0` are different keys that cover the same addresses; for
/// addresses that two keys cover at the same length, the first key added wins.
struct PrefixTable<Child>: Sendable where Child: Sendable {
    typealias Key = RangeKey

    private struct Bits: Hashable, Sendable {
        var high: UInt64
        var low: UInt64
    }

    private struct Level: Sendable {
        var length: Int
        var entries: [Bits: Int]
    }

    /// Children in the order their keys were first added.
    private(set) var children: [Child] = []
    private var indexByKey: [Key: Int] = [:]
    private var v4Levels: [Level] = []
    private var v6Levels: [Level] = []
    /// Set when `any` is the only key: the lookup skips the tables.
    private var onlyChild: Int?

    /// The child for `key`, made with `make` if absent; `update` may change it.
    mutating func withChild<E: Error>(_ key: Key, make: () -> Child, _ update: (inout Child) throws(E) -> Void) throws(E) {
        let index: Int
        if let existing = indexByKey[key] {
            index = existing
        } else {
            index = children.count
            children.append(make())
            indexByKey[key] = index
        }
        return try update(&children[index])
    }

    mutating func mutateChildren(_ body: (inout Child) -> Void) {
        for i in children.indices { body(&children[i]) }
    }

    /// Builds the lookup tables; call once all keys are in.
    mutating func seal() {
        v4Levels = []
        v6Levels = []
        onlyChild = nil
        if indexByKey.count == 1, let any = indexByKey[.any] {
            onlyChild = any
            return
        }
        // Walk keys in insertion order so that the first one added wins a tie.
        let ordered = indexByKey.sorted { $0.value < $1.value }
        for (key, index) in ordered {
            switch key {
            case .any:
                Self.insert(CIDRRange.anyIPv4, index, into: &v4Levels)
                Self.insert(CIDRRange.anyIPv6, index, into: &v6Levels)
            case .range(let range):
                if range.bits.isIPv4 {
                    Self.insert(range, index, into: &v4Levels)
                } else {
                    Self.insert(range, index, into: &v6Levels)
                }
            }
        }
        v4Levels.sort { $0.length > $1.length }
        v6Levels.sort { $0.length > $1.length }
    }

    private static func insert(_ range: CIDRRange, _ index: Int, into levels: inout [Level]) {
        let (_, high, low) = range.bits
        let bits = Bits(high: high, low: low)
        if let at = levels.firstIndex(where: { $0.length == range.prefixLength }) {
            if levels[at].entries[bits] == nil { levels[at].entries[bits] = index }
        } else {
            levels.append(Level(length: range.prefixLength, entries: [bits: index]))
        }
    }

    /// The child of the longest range containing `address`. A Unix or
    /// unknown address is looked up as `255.255.255.255`, as Envoy does, so
    /// that only catch-all ranges take it.
    func lookup(_ address: SocketAddress?) -> Child? {
        if let onlyChild { return children[onlyChild] }
        let (isIPv4, high, low) = address.flatMap(CIDRRange.bits(of:)) ?? (true, UInt64(UInt32.max) << 32, 0)
        let levels = isIPv4 ? v4Levels : v6Levels
        for level in levels {
            let (h, l) = CIDRRange.mask(high, low, level.length)
            if let index = level.entries[Bits(high: h, low: l)] { return children[index] }
        }
        return nil
    }

    var isEmpty: Bool { children.isEmpty }
}
