import RemoraCore

/// What a connection offers to filter-chain matching (Envoy's
/// `ConnectionSocket` as `FilterChainManagerImpl::findFilterChain` reads it).
/// Plain values: building one allocates nothing.
public struct FilterChainMatchInput {
    /// The local address, after `original_dst` restored the destination.
    public var localAddress: SocketAddress?
    /// The peer as the socket saw it (no PROXY protocol in Remora, so the
    /// same as `remoteAddress`).
    public var directRemoteAddress: SocketAddress?
    public var remoteAddress: SocketAddress?
    /// SNI, lowercased; nil until a TLS inspector provides one.
    public var serverName: String?
    /// `raw_buffer` unless a listener filter detected another transport.
    public var transportProtocol: String
    /// In preference order (ALPN, or what the HTTP inspector detected).
    public var applicationProtocols: [String]

    public init(localAddress: SocketAddress?, directRemoteAddress: SocketAddress?, remoteAddress: SocketAddress?,
                serverName: String? = nil, transportProtocol: String = FilterChainMatchInput.rawBuffer,
                applicationProtocols: [String] = []) {
        self.localAddress = localAddress
        self.directRemoteAddress = directRemoteAddress
        self.remoteAddress = remoteAddress
        self.serverName = serverName
        self.transportProtocol = transportProtocol
        self.applicationProtocols = applicationProtocols
    }

    public static let rawBuffer = "raw_buffer"
}

/// One chain's `filter_chain_match`, compiled: empty lists match anything.
public struct FilterChainMatchCriteria: Sendable, Equatable {
    public enum SourceType: Sendable, Equatable {
        case any
        /// `SAME_IP_OR_LOOPBACK`: the peer is a loopback address, or has the local IP.
        case local
        /// `EXTERNAL`: not local.
        case external
    }

    public var destinationPort: UInt16?
    public var destinationRanges: [CIDRRange] = []
    /// Lowercased; a wildcard `*.example.com` is kept as written (lowercased).
    public var serverNames: [String] = []
    public var transportProtocol: String = ""
    public var applicationProtocols: [String] = []
    public var directSourceRanges: [CIDRRange] = []
    public var sourceType: SourceType = .any
    public var sourceRanges: [CIDRRange] = []
    public var sourcePorts: [UInt16] = []

    public init(destinationPort: UInt16? = nil) {
        self.destinationPort = destinationPort
    }
}

/// Envoy's filter-chain index (`FilterChainManagerImpl`): a tree with one
/// level per `FilterChainMatch` field, in Envoy's order — destination port,
/// destination IP, server name, transport protocol, application protocols,
/// direct source IP, source type, source IP, source port. At each level the
/// most specific entry that the connection satisfies is taken (an exact
/// port over none, the longest prefix, an exact server name over the
/// longest wildcard over none, ...), and there is no backtracking: when the
/// chosen branch has no match further down, the answer is the default
/// chain, not a less specific branch.
///
/// Built once per listener at config time and immutable afterwards; a
/// lookup allocates nothing.
public struct FilterChainMatcher: Sendable {
    private var ports = Keyed<UInt16, DestinationLevel>()

    public init() {}

    /// Why `add` refused a chain (the caller adds the field path).
    public enum AddError: Error, Equatable {
        /// Another chain already covers part of what this one matches.
        case overlapping
    }

    /// Adds chain `index`; `overlapping` when some combination of its values
    /// is already taken by an earlier chain (Envoy's "multiple filter chains
    /// with overlapping matching rules").
    public mutating func add(_ criteria: FilterChainMatchCriteria, index: Int) throws(AddError) {
        try ports.withChild(criteria.destinationPort, make: DestinationLevel.init) { (destinations) throws(AddError) in
            for destination in RangeKey.keys(criteria.destinationRanges) {
                try destinations.ranges.withChild(destination, make: ServerNameLevel.init) { (names) throws(AddError) in
                    try names.add(criteria, index: index)
                }
            }
        }
    }

    /// Builds the lookup tables; call once after the last `add`.
    public mutating func seal() {
        ports.mapChildren { $0.seal() }
    }

    /// The index of the chain for this connection, or nil (then the
    /// listener's default chain applies).
    public func match(_ input: FilterChainMatchInput) -> Int? {
        // A port with its own branch never falls back to the catch-all port.
        if let port = input.localAddress?.port, let branch = ports.exact[port] {
            return branch.match(input)
        }
        return ports.any?.match(input)
    }
}

// MARK: - Levels

/// A level keyed by exact values, with a catch-all child for "not configured".
struct Keyed<Key: Hashable & Sendable, Child: Sendable>: Sendable {
    var exact: [Key: Child] = [:]
    var any: Child?

    mutating func withChild<E: Error>(_ key: Key?, make: () -> Child, _ update: (inout Child) throws(E) -> Void) throws(E) {
        if let key {
            var child = exact.removeValue(forKey: key) ?? make()
            defer { exact[key] = child }
            try update(&child)
        } else {
            var child = any ?? make()
            defer { any = child }
            try update(&child)
        }
    }

    mutating func mapChildren(_ body: (inout Child) -> Void) {
        for key in Array(exact.keys) { body(&exact[key]!) }
        if any != nil { body(&any!) }
    }

    /// The child for the first of `keys` that has one, else the catch-all.
    @inline(__always)
    func child(firstOf keys: [Key]) -> Child? {
        for key in keys { if let child = exact[key] { return child } }
        return any
    }
}

struct DestinationLevel: Sendable {
    var ranges = PrefixTable<ServerNameLevel>()

    mutating func seal() {
        ranges.mutateChildren { $0.seal() }
        ranges.seal()
    }

    func match(_ input: FilterChainMatchInput) -> Int? {
        ranges.lookup(input.localAddress)?.match(input)
    }
}

/// Server names: exact, then the longest wildcard suffix (`.example.com`
/// for `*.example.com`), then chains that name none.
struct ServerNameLevel: Sendable {
    var exact: [String: TransportLevel] = [:]
    /// Wildcard suffixes with their leading dot, longest first once sealed.
    var wildcards: [(suffix: String, child: TransportLevel)] = []
    var any: TransportLevel?

    mutating func add(_ criteria: FilterChainMatchCriteria, index: Int) throws(FilterChainMatcher.AddError) {
        if criteria.serverNames.isEmpty {
            var child = any ?? TransportLevel()
            defer { any = child }
            try child.add(criteria, index: index)
            return
        }
        for name in criteria.serverNames {
            if name.hasPrefix("*.") {
                let suffix = String(name.dropFirst())
                if let at = wildcards.firstIndex(where: { $0.suffix == suffix }) {
                    try wildcards[at].child.add(criteria, index: index)
                } else {
                    var child = TransportLevel()
                    try child.add(criteria, index: index)
                    wildcards.append((suffix, child))
                }
            } else {
                var child = exact.removeValue(forKey: name) ?? TransportLevel()
                defer { exact[name] = child }
                try child.add(criteria, index: index)
            }
        }
    }

    mutating func seal() {
        for key in Array(exact.keys) { exact[key]!.seal() }
        for i in wildcards.indices { wildcards[i].child.seal() }
        any?.seal()
        wildcards.sort { $0.suffix.utf8.count > $1.suffix.utf8.count }
    }

    func match(_ input: FilterChainMatchInput) -> Int? {
        guard let name = input.serverName, !name.isEmpty else { return any?.match(input) }
        if let child = exact[name] { return child.match(input) }
        // Envoy tries ".example.com", then ".com": the longest suffix that
        // starts at a dot after the first character and is more than a dot.
        let nameLength = name.utf8.count
        for (suffix, child) in wildcards {
            let length = suffix.utf8.count
            guard length >= 2, length < nameLength else { continue }
            if name.utf8.reversed().starts(with: suffix.utf8.reversed()) { return child.match(input) }
        }
        return any?.match(input)
    }
}

struct TransportLevel: Sendable {
    var protocols = Keyed<String, ApplicationLevel>()

    mutating func add(_ criteria: FilterChainMatchCriteria, index: Int) throws(FilterChainMatcher.AddError) {
        let key = criteria.transportProtocol.isEmpty ? nil : criteria.transportProtocol
        try protocols.withChild(key, make: ApplicationLevel.init) { (child) throws(FilterChainMatcher.AddError) in
            try child.add(criteria, index: index)
        }
    }

    mutating func seal() { protocols.mapChildren { $0.seal() } }

    func match(_ input: FilterChainMatchInput) -> Int? {
        if let child = protocols.exact[input.transportProtocol] { return child.match(input) }
        return protocols.any?.match(input)
    }
}

struct ApplicationLevel: Sendable {
    var protocols = Keyed<String, DirectSourceLevel>()

    mutating func add(_ criteria: FilterChainMatchCriteria, index: Int) throws(FilterChainMatcher.AddError) {
        let keys: [String?] = criteria.applicationProtocols.isEmpty ? [nil] : criteria.applicationProtocols
        for key in keys {
            try protocols.withChild(key, make: DirectSourceLevel.init) { (child) throws(FilterChainMatcher.AddError) in
                try child.add(criteria, index: index)
            }
        }
    }

    mutating func seal() { protocols.mapChildren { $0.seal() } }

    func match(_ input: FilterChainMatchInput) -> Int? {
        protocols.child(firstOf: input.applicationProtocols)?.match(input)
    }
}

struct DirectSourceLevel: Sendable {
    var ranges = PrefixTable<SourceTypeLevel>()

    mutating func add(_ criteria: FilterChainMatchCriteria, index: Int) throws(FilterChainMatcher.AddError) {
        for key in RangeKey.keys(criteria.directSourceRanges) {
            try ranges.withChild(key, make: SourceTypeLevel.init) { (child) throws(FilterChainMatcher.AddError) in
                try child.add(criteria, index: index)
            }
        }
    }

    mutating func seal() {
        ranges.mutateChildren { $0.seal() }
        ranges.seal()
    }

    func match(_ input: FilterChainMatchInput) -> Int? {
        ranges.lookup(input.directRemoteAddress)?.match(input)
    }
}

/// Source type: a local (or external) connection takes the chains for its
/// kind when there are any, and only otherwise those for any source.
struct SourceTypeLevel: Sendable {
    var local: SourceLevel?
    var external: SourceLevel?
    var any: SourceLevel?

    mutating func add(_ criteria: FilterChainMatchCriteria, index: Int) throws(FilterChainMatcher.AddError) {
        switch criteria.sourceType {
        case .local:
            var child = local ?? SourceLevel()
            defer { local = child }
            try child.add(criteria, index: index)
        case .external:
            var child = external ?? SourceLevel()
            defer { external = child }
            try child.add(criteria, index: index)
        case .any:
            var child = any ?? SourceLevel()
            defer { any = child }
            try child.add(criteria, index: index)
        }
    }

    mutating func seal() {
        local?.seal()
        external?.seal()
        any?.seal()
    }

    func match(_ input: FilterChainMatchInput) -> Int? {
        // Envoy's isSameIpOrLoopback, asked only when it can matter.
        if local != nil || external != nil {
            let isLocal = Self.isSameIPOrLoopback(input)
            if isLocal, let local { return local.match(input) }
            if !isLocal, let external { return external.match(input) }
        }
        return any?.match(input)
    }

    static func isSameIPOrLoopback(_ input: FilterChainMatchInput) -> Bool {
        switch input.remoteAddress {
        case nil, .unix?: return true
        case .v4(let a, _)?:
            // Envoy's isLoopbackAddress takes 127.0.0.1 alone, not 127/8.
            if a == 0x7F00_0001 { return true }
            if case .v4(let l, _)? = input.localAddress { return l == a }
            return false
        case .v6(let h, let l, _)?:
            if h == 0 && l == 1 { return true }
            if case .v6(let lh, let ll, _)? = input.localAddress { return lh == h && ll == l }
            return false
        }
    }
}

struct SourceLevel: Sendable {
    var ranges = PrefixTable<SourcePortLevel>()

    mutating func add(_ criteria: FilterChainMatchCriteria, index: Int) throws(FilterChainMatcher.AddError) {
        for key in RangeKey.keys(criteria.sourceRanges) {
            try ranges.withChild(key, make: SourcePortLevel.init) { (child) throws(FilterChainMatcher.AddError) in
                try child.add(criteria, index: index)
            }
        }
    }

    mutating func seal() { ranges.seal() }

    func match(_ input: FilterChainMatchInput) -> Int? {
        ranges.lookup(input.remoteAddress)?.match(input)
    }
}

struct SourcePortLevel: Sendable {
    var ports: [UInt16: Int] = [:]
    var any: Int?

    mutating func add(_ criteria: FilterChainMatchCriteria, index: Int) throws(FilterChainMatcher.AddError) {
        if criteria.sourcePorts.isEmpty {
            guard any == nil else { throw .overlapping }
            any = index
            return
        }
        for port in criteria.sourcePorts {
            guard ports[port] == nil else { throw .overlapping }
            ports[port] = index
        }
    }

    func match(_ input: FilterChainMatchInput) -> Int? {
        if case .v4(_, let port)? = input.remoteAddress, let index = ports[port] { return index }
        if case .v6(_, _, let port)? = input.remoteAddress, let index = ports[port] { return index }
        return any
    }
}
