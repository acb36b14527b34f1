import RemoraCore

/// An ordered multimap of header (or trailer) fields whose names and values
/// are byte runs inside `PooledBuffer`s.
///
/// A parsed head keeps pointing into the read buffer it arrived in (or, when
/// it straddled reads, into one copy of it): no field is copied and no
/// `String` is made unless a caller asks for one. Fields added later are
/// copied into a small append-only arena, or referenced in place when added as
/// `ByteSlice`s.
///
/// Names keep the case they arrived or were added with; lookups compare bytes
/// ASCII-case-insensitively. `HTTP1Encoder` lowercases names on output, as
/// Envoy does.
///
/// A value type with copy-on-write storage; like the buffers it references, it
/// belongs to one event loop. It does not validate what is added: callers that
/// take names or values from untrusted input check them with
/// `isValidName(_:)`/`isValidValue(_:)` first.
public struct HTTPHeaders {
    /// One field: where its name and value bytes live.
    @usableFromInline
    struct Entry {
        var nameStorage: UInt16
        var valueStorage: UInt16
        var nameOffset: UInt32
        var nameCount: UInt32
        var valueOffset: UInt32
        var valueCount: UInt32
    }

    /// The buffers fields point into, by storage index: 0 is usually the
    /// buffer the head was parsed from; 1 and 2 the arena of added fields
    /// and the loop's pseudo-header bytes (a translated HTTP/1 head has
    /// both); the rest (rare) live in an array.
    @usableFromInline
    struct Storages {
        var primary: PooledBuffer?
        var secondary: PooledBuffer?
        var tertiary: PooledBuffer?
        var extra: [PooledBuffer] = []

        @inline(__always)
        subscript(index: UInt16) -> PooledBuffer {
            switch index {
            case 0: primary.unsafelyUnwrapped
            case 1: secondary.unsafelyUnwrapped
            case 2: tertiary.unsafelyUnwrapped
            default: extra[Int(index) - 3]
            }
        }

        @inline(__always)
        static func address(_ buffer: PooledBuffer?) -> UnsafeMutableRawPointer? {
            unsafeBitCast(buffer, to: UnsafeMutableRawPointer?.self)
        }

        /// Whether the buffer at `index` has `count` more bytes of room.
        @inline(__always)
        func hasRoom(_ count: Int, in index: UInt16) -> Bool {
            unowned(unsafe) let buffer = self[index]
            return buffer.fill + count <= buffer.capacity
        }

        /// The index of `buffer`, adding it if it is not there yet; nil when full.
        mutating func index(of buffer: PooledBuffer) -> UInt16? {
            // Identities are compared as addresses: binding `primary` to a
            // constant would retain and release it on every field added.
            let wanted = Unmanaged.passUnretained(buffer).toOpaque()
            if Self.address(primary) == wanted { return 0 }
            if primary == nil {
                primary = buffer
                return 0
            }
            if Self.address(secondary) == wanted { return 1 }
            if secondary == nil {
                secondary = buffer
                return 1
            }
            if Self.address(tertiary) == wanted { return 2 }
            if tertiary == nil {
                tertiary = buffer
                return 2
            }
            for (i, x) in extra.enumerated() where x === buffer { return UInt16(i + 3) }
            guard extra.count < Int(UInt16.max) - 3 else { return nil }
            extra.append(buffer)
            return UInt16(extra.count + 2)
        }
    }

    @usableFromInline var entries: [Entry]
    @usableFromInline var storages: Storages
    /// Index (into storages) of the arena that added fields are copied into, -1 if none.
    var arenaIndex = -1

    public init() {
        entries = []
        storages = Storages()
    }

    public init(minimumCapacity: Int) {
        self.init()
        entries.reserveCapacity(minimumCapacity)
    }

    /// Fields in order, from `(name, value)` pairs.
    public init(_ fields: some Sequence<(String, String)>) {
        self.init()
        for (name, value) in fields { add(name: name, value: value) }
    }

    /// Headers whose fields will be added with `appendParsed`, all inside `storage`.
    init(parsedFrom storage: PooledBuffer, capacity: Int) {
        entries = []
        // Room for the fields a proxy adds (forwarding, request id, date,
        // server, service time) without growing the array again.
        entries.reserveCapacity(capacity + 8)
        storages = Storages(primary: storage)
    }

    /// Adds a field found by the parser in the primary storage.
    @inline(__always)
    mutating func appendParsed(nameOffset: Int, nameCount: Int, valueOffset: Int, valueCount: Int) {
        entries.append(Entry(
            nameStorage: 0, valueStorage: 0,
            nameOffset: UInt32(truncatingIfNeeded: nameOffset), nameCount: UInt32(truncatingIfNeeded: nameCount),
            valueOffset: UInt32(truncatingIfNeeded: valueOffset), valueCount: UInt32(truncatingIfNeeded: valueCount)))
    }

    /// Adds a field whose name and value bytes lie in `storage` (a decoder's
    /// arena): no copy, and no slice (nor its retain) per field.
    @inline(__always)
    mutating func appendReferencing(_ storage: PooledBuffer, nameOffset: Int, nameCount: Int, valueOffset: Int, valueCount: Int) {
        guard let index = storages.index(of: storage) else { preconditionFailure("HTTPHeaders: too many storages") }
        entries.append(Entry(
            nameStorage: index, valueStorage: index,
            nameOffset: UInt32(truncatingIfNeeded: nameOffset), nameCount: UInt32(truncatingIfNeeded: nameCount),
            valueOffset: UInt32(truncatingIfNeeded: valueOffset), valueCount: UInt32(truncatingIfNeeded: valueCount)))
    }

    // MARK: - Size

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// Sum of the name and value lengths (Envoy's `HeaderMap::byteSize`).
    public var byteCount: Int {
        var total = 0
        for e in entries { total += Int(e.nameCount) + Int(e.valueCount) }
        return total
    }

    // MARK: - Raw access

    @inline(__always)
    func storage(_ index: UInt16) -> PooledBuffer {
        storages[index]
    }

    @inline(__always)
    func nameBytes(_ e: Entry) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage(e.nameStorage).base + Int(e.nameOffset), count: Int(e.nameCount))
    }

    @inline(__always)
    func valueBytes(_ e: Entry) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage(e.valueStorage).base + Int(e.valueOffset), count: Int(e.valueCount))
    }

    /// Calls `body` with the name and value bytes of each field, in order.
    /// The pointers are valid only inside `body`.
    @inline(__always)
    public func withEachField(_ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void) rethrows {
        for e in entries { try body(nameBytes(e), valueBytes(e)) }
    }

    /// The name of field `index` (in order of arrival or addition).
    public func name(at index: Int) -> ByteSlice {
        let e = entries[index]
        return ByteSlice(storage: storage(e.nameStorage), offset: Int(e.nameOffset), count: Int(e.nameCount))
    }

    /// The value of field `index`.
    public func value(at index: Int) -> ByteSlice {
        let e = entries[index]
        return ByteSlice(storage: storage(e.valueStorage), offset: Int(e.valueOffset), count: Int(e.valueCount))
    }

    // MARK: - Lookup (case-insensitive, no allocation)

    @inlinable @inline(__always)
    static func withNameBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let r = name.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return r }
        var copy = name
        return copy.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    func matches(_ e: Entry, _ query: UnsafeRawBufferPointer) -> Bool {
        Self.matches(e, query, storages)
    }

    @inline(__always)
    static func matches(_ e: Entry, _ query: UnsafeRawBufferPointer, _ storages: Storages) -> Bool {
        guard Int(e.nameCount) == query.count else { return false }
        guard let q = query.baseAddress else { return true }
        let base = storages[e.nameStorage].base + Int(e.nameOffset)
        return ASCII.equalsIgnoringCase(base, q, count: query.count)
    }

    /// Index of the first field called `name` (any case), if any.
    public func firstIndex(name: String) -> Int? {
        Self.withNameBytes(name) { q in index(of: q, from: 0) }
    }

    /// Index of the first field called `name` (any case) at or after `start`.
    public func firstIndex(name: String, from start: Int) -> Int? {
        Self.withNameBytes(name) { q in index(of: q, from: start) }
    }

    /// Index of the first field from `start` on whose name is `query` (any case).
    @inline(__always)
    func index(of query: UnsafeRawBufferPointer, from start: Int) -> Int? {
        let count = query.count
        var i = start
        let n = entries.count
        while i < n {
            let e = entries[i]
            if Int(e.nameCount) == count
                && (count == 0 || ASCII.equalsIgnoringCase(storage(e.nameStorage).base + Int(e.nameOffset), query.baseAddress!, count: count)) {
                return i
            }
            i &+= 1
        }
        return nil
    }

    public func contains(name: String) -> Bool { firstIndex(name: name) != nil }

    /// The value of the first field called `name`, as bytes (no copy).
    public func first(name: String) -> ByteSlice? {
        firstIndex(name: name).map { value(at: $0) }
    }

    /// The value of the first field called `name`, as a `String` (one copy).
    public func firstString(name: String) -> String? {
        guard let i = firstIndex(name: name) else { return nil }
        return String(decoding: valueBytes(entries[i]), as: UTF8.self)
    }

    /// The values of every field called `name`, in order.
    public func values(name: String) -> [ByteSlice] {
        Self.withNameBytes(name) { q in
            entries.indices.filter { matches(entries[$0], q) }.map { value(at: $0) }
        }
    }

    public func valueStrings(name: String) -> [String] {
        Self.withNameBytes(name) { q in
            entries.filter { matches($0, q) }.map { String(decoding: valueBytes($0), as: UTF8.self) }
        }
    }

    /// Whether any field called `name` holds `token` as an element of its
    /// comma-separated list, ignoring case (`Connection: keep-alive, Upgrade`).
    public func containsToken(_ token: String, inFieldsNamed name: String) -> Bool {
        Self.withNameBytes(name) { q in
            Self.withNameBytes(token) { t in
                var found = false
                for e in entries where matches(e, q) {
                    ASCII.forEachListElement(valueBytes(e)) { element in
                        found = element.count == t.count
                            && (t.isEmpty || ASCII.equalsIgnoringCase(element.baseAddress!, t.baseAddress!, count: t.count))
                        return found
                    }
                    if found { return true }
                }
                return false
            }
        }
    }

    // MARK: - Mutation

    /// Appends a field, copying `name` and `value`.
    public mutating func add(name: String, value: String) {
        Self.withNameBytes(value) { add(name: name, value: $0) }
    }

    /// Appends a field, copying `value`'s bytes.
    public mutating func add(name: String, value: UnsafeRawBufferPointer) {
        Self.withNameBytes(name) { n in addCopying(name: n, value: value) }
    }

    /// `set(name:value:)` with the value copied from bytes.
    public mutating func set(name: String, value: UnsafeRawBufferPointer) {
        guard let position = firstIndex(name: name) else {
            add(name: name, value: value)
            return
        }
        let (vs, vo) = copyIntoArena(value)
        replace(name: name, at: position, valueStorage: vs, valueOffset: vo, valueCount: value.count)
    }

    /// Appends a field, copying the bytes.
    public mutating func add(name: some Collection<UInt8>, value: some Collection<UInt8>) {
        let n = Array(name)
        let v = Array(value)
        n.withUnsafeBytes { nb in v.withUnsafeBytes { vb in addCopying(name: nb, value: vb) } }
    }

    /// Appends a field that references the slices' bytes in place (no copy).
    public mutating func add(name: ByteSlice, value: ByteSlice) {
        guard let ns = storages.index(of: name.storage), let vs = storages.index(of: value.storage) else {
            name.withUnsafeBytes { nb in value.withUnsafeBytes { vb in addCopying(name: nb, value: vb) } }
            return
        }
        entries.append(Entry(
            nameStorage: ns, valueStorage: vs,
            nameOffset: UInt32(name.offset), nameCount: UInt32(name.count),
            valueOffset: UInt32(value.offset), valueCount: UInt32(value.count)))
    }

    /// Appends every field of `other`, referencing its bytes in place (no
    /// copy, and no slice per field: each of its storages is looked up once).
    public mutating func add(contentsOf other: HTTPHeaders) {
        guard !other.entries.isEmpty else { return }
        entries.reserveCapacity(entries.count + other.entries.count)
        // Our index of each of `other`'s storages (.max: not looked up yet).
        var slots: (UInt16, UInt16, UInt16, UInt16) = (.max, .max, .max, .max)
        var more: [UInt16] = []
        for var e in other.entries {
            e.nameStorage = ourIndex(of: e.nameStorage, in: other, &slots, &more)
            e.valueStorage = ourIndex(of: e.valueStorage, in: other, &slots, &more)
            entries.append(e)
        }
    }

    private mutating func ourIndex(of index: UInt16, in other: HTTPHeaders,
                                   _ slots: inout (UInt16, UInt16, UInt16, UInt16), _ more: inout [UInt16]) -> UInt16 {
        let known: UInt16 = switch index {
        case 0: slots.0
        case 1: slots.1
        case 2: slots.2
        case 3: slots.3
        default: Int(index) - 4 < more.count ? more[Int(index) - 4] : .max
        }
        if known != .max { return known }
        guard let ours = storages.index(of: other.storages[index]) else { preconditionFailure("HTTPHeaders: too many storages") }
        switch index {
        case 0: slots.0 = ours
        case 1: slots.1 = ours
        case 2: slots.2 = ours
        case 3: slots.3 = ours
        default:
            let i = Int(index) - 4
            if more.count <= i { more += repeatElement(UInt16.max, count: i + 1 - more.count) }
            more[i] = ours
        }
        return ours
    }

    /// Appends a field whose value references `value`'s bytes in place.
    public mutating func add(name: String, value: ByteSlice) {
        guard let vs = storages.index(of: value.storage) else {
            Self.withNameBytes(name) { n in value.withUnsafeBytes { vb in addCopying(name: n, value: vb) } }
            return
        }
        let (ns, no) = Self.withNameBytes(name) { copyIntoArena($0) }
        entries.append(Entry(
            nameStorage: ns, valueStorage: vs,
            nameOffset: UInt32(no), nameCount: UInt32(name.utf8.count),
            valueOffset: UInt32(value.offset), valueCount: UInt32(value.count)))
    }

    /// Replaces every field called `name` by one field: the first one keeps
    /// its place and takes `value`; the others go. Appends if there was none.
    public mutating func set(name: String, value: String) {
        Self.withNameBytes(value) { set(name: name, value: $0) }
    }

    /// `set(name:value:)` with the value referenced in place.
    public mutating func set(name: String, value: ByteSlice) {
        guard let position = firstIndex(name: name) else {
            add(name: name, value: value)
            return
        }
        guard let vs = storages.index(of: value.storage) else {
            set(name: name, value: value.string)
            return
        }
        replace(name: name, at: position, valueStorage: vs, valueOffset: value.offset, valueCount: value.count)
    }

    private mutating func replace(name: String, at position: Int, valueStorage: UInt16, valueOffset: Int, valueCount: Int) {
        entries[position].valueStorage = valueStorage
        entries[position].valueOffset = UInt32(valueOffset)
        entries[position].valueCount = UInt32(valueCount)
        let stored = storages
        Self.withNameBytes(name) { q in
            withExtendedLifetime(stored) {
                var i = position + 1
                var kept = position + 1
                while i < entries.count {
                    if !Self.matches(entries[i], q, stored) {
                        entries[kept] = entries[i]
                        kept += 1
                    }
                    i += 1
                }
                entries.removeSubrange(kept...)
            }
        }
    }

    /// Removes every field called `name`; returns how many went.
    @discardableResult
    public mutating func remove(name: String) -> Int {
        Self.withNameBytes(name) { q in
            // Most removals find nothing: look before compacting (no copy of
            // the storages, no closure over them).
            guard index(of: q, from: 0) != nil else { return 0 }
            return removeFields { n in
                n.count == q.count && (q.count == 0 || ASCII.equalsIgnoringCase(n.baseAddress!, q.baseAddress!, count: q.count))
            }
        }
    }

    /// Removes field `index`.
    public mutating func remove(at index: Int) {
        entries.remove(at: index)
    }

    /// Removes the first `count` fields (a head's pseudo-headers), in place.
    public mutating func removeFirst(_ count: Int) {
        guard count > 0 else { return }
        entries.removeFirst(count)
    }

    public mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
    }

    /// Removes, in one pass, every field whose name bytes satisfy `predicate`
    /// (a proxy strips hop-by-hop and control fields this way instead of one
    /// scan per name). Returns how many went.
    @discardableResult
    public mutating func removeFields(where predicate: (UnsafeRawBufferPointer) -> Bool) -> Int {
        let before = entries.count
        var kept = 0
        for i in 0..<entries.count {
            if !predicate(nameBytes(entries[i])) {
                if kept != i { entries[kept] = entries[i] }
                kept += 1
            }
        }
        if kept < before { entries.removeSubrange(kept...) }
        return before - kept
    }

    /// Whether `name` equals the lowercase `literal`, ignoring ASCII case.
    public static func name(_ name: UnsafeRawBufferPointer, is literal: StaticString) -> Bool {
        ASCII.equalsLowercase(name, literal)
    }

    /// Whether `name` starts with the lowercase `prefix`, ignoring ASCII case.
    public static func name(_ name: UnsafeRawBufferPointer, hasPrefix prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard name.count >= n else { return false }
        return ASCII.equalsLowercase(UnsafeRawBufferPointer(rebasing: name[..<n]), prefix)
    }

    // MARK: - Storage management

    private mutating func addCopying(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let (ns, no) = copyIntoArena(name)
        let (vs, vo) = copyIntoArena(value)
        entries.append(Entry(
            nameStorage: ns, valueStorage: vs,
            nameOffset: UInt32(no), nameCount: UInt32(name.count),
            valueOffset: UInt32(vo), valueCount: UInt32(value.count)))
    }

    /// Copies added fields into `arena` while it has room: an append-only
    /// block whose `fill` says where its free room starts and that nobody
    /// writes below it (an HTTP/2 codec's header arena, shared by the heads
    /// of a connection's streams). Saves an arena of its own per head.
    public mutating func copyAddedFields(into arena: PooledBuffer) {
        guard let index = storages.index(of: arena) else { return }
        arenaIndex = Int(index)
    }

    /// Copies added fields into `other`'s arena (shared, append-only), if
    /// it has one: a head built from another one needs no arena of its own.
    public mutating func copyAddedFields(asIn other: HTTPHeaders) {
        guard other.arenaIndex >= 0 else { return }
        copyAddedFields(into: other.storages[UInt16(other.arenaIndex)])
    }

    /// Copies `bytes` to the end of the arena (a new one when it is full)
    /// and says where they went. The arena's fill level lives in the arena,
    /// so copies of these headers that share it append after each other:
    /// bytes already in an arena are never written again, and slices handed
    /// out earlier stay valid.
    private mutating func copyIntoArena(_ bytes: UnsafeRawBufferPointer) -> (UInt16, Int) {
        if arenaIndex < 0 || !storages.hasRoom(bytes.count, in: UInt16(arenaIndex)) {
            let fresh = PooledBuffer(capacity: Swift.max(256, bytes.count))
            guard let index = storages.index(of: fresh) else { preconditionFailure("HTTPHeaders: too many storages") }
            arenaIndex = Int(index)
        }
        // `storages` keeps the arena alive: no retain and release per field.
        let offset = Unmanaged.passUnretained(storages[UInt16(arenaIndex)])._withUnsafeGuaranteedRef { arena -> Int in
            let offset = arena.fill
            if let src = bytes.baseAddress, bytes.count > 0 {
                (arena.base + offset).copyMemory(from: src, byteCount: bytes.count)
            }
            arena.fill = offset + bytes.count
            return offset
        }
        return (UInt16(arenaIndex), offset)
    }

    // MARK: - Validation helpers

    /// RFC 9110 §5.1: a non-empty token.
    public static func isValidName(_ name: some Collection<UInt8>) -> Bool {
        !name.isEmpty && name.allSatisfy { ASCII.table[Int($0)] & ASCII.token != 0 }
    }

    /// RFC 9110 §5.5 (no CR, LF, NUL or other controls; no leading or trailing whitespace).
    public static func isValidValue(_ value: some Collection<UInt8>) -> Bool {
        guard value.allSatisfy({ ASCII.table[Int($0)] & ASCII.fieldValue != 0 }) else { return false }
        guard let first = value.first else { return true }
        var last = first
        for b in value { last = b }
        return !ASCII.isWhitespace(first) && !ASCII.isWhitespace(last)
    }
}

// MARK: - Collection of fields

/// One header field as two slices (no copy); `nameString`/`valueString` copy.
public struct HTTPHeaderField {
    public let name: ByteSlice
    public let value: ByteSlice

    public var nameString: String { name.string }
    /// The name as Envoy's header map holds it (and as filters and logs see it there).
    public var lowercasedNameString: String { String(decoding: name.bytes.map(ASCII.lowercased), as: UTF8.self) }
    public var valueString: String { value.string }
}

extension HTTPHeaders: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { entries.count }

    public subscript(position: Int) -> HTTPHeaderField {
        HTTPHeaderField(name: name(at: position), value: value(at: position))
    }
}

extension HTTPHeaders: ExpressibleByDictionaryLiteral {
    /// Fields in the literal's order (duplicate names allowed).
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }
}

extension HTTPHeaders: Equatable {
    /// Same fields in the same order; names compared ignoring case, values exactly.
    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        guard lhs.entries.count == rhs.entries.count else { return false }
        return withExtendedLifetime((lhs, rhs)) {
            for (a, b) in zip(lhs.entries, rhs.entries) {
                let an = lhs.nameBytes(a), bn = rhs.nameBytes(b)
                guard an.count == bn.count,
                      an.isEmpty || ASCII.equalsIgnoringCase(an.baseAddress!, bn.baseAddress!, count: an.count)
                else { return false }
                guard lhs.valueBytes(a).elementsEqual(rhs.valueBytes(b)) else { return false }
            }
            return true
        }
    }
}

extension HTTPHeaders: CustomStringConvertible {
    public var description: String {
        var out = "["
        withEachField { name, value in
            if out.count > 1 { out += ", " }
            out += String(decoding: name, as: UTF8.self) + ": " + String(decoding: value, as: UTF8.self)
        }
        return out + "]"
    }
}
