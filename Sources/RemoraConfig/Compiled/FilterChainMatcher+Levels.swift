import RemoraCore

// The levels of `FilterChainMatcher`, one per `FilterChainMatch` field, in
// Envoy's order. Each adds a chain's criteria below itself (`add`), builds
// its lookup tables once (`seal`), and picks its most specific entry for a
// connection (`match`).

/// A level keyed by exact values, with a catch-all child for "not configured".
struct Keyed<Key: Hashable & Sendable, Child: Sendable>: Sendable {
    var exact: [Key: Child] = [:]
    var any: Child?

    mutating func withChild<E: Error>(_ key: Key?, make: () -> Child, _ update: (inout Child) throws(E) -> Void) throws(E) {
        if let key {
            var child = exact.removeValue(forKey: key)
            defer { exact[key] = child }
            try child.update(make: make, update)
        } else {
            try any.update(make: make, update)
        }
    }

    mutating func mapChildren(_ body: (inout Child) -> Void) {
        for key in Array(exact.keys) { body(&exact[key]!) }
        if any != nil { body(&any!) }
    }

    /// The child for the first of `keys` that has one, else the catch-all.
    @inline(__always)
    func child(firstOf keys: [Key]) -> Child? {
        if !exact.isEmpty {
            for key in keys { if let child = exact[key] { return child } }
        }
        return any
    }

    /// The child for `key`, else the catch-all; no hashing when only the
    /// catch-all exists (the common case on the accept path).
    @inline(__always)
    func child(for key: Key) -> Child? {
        if !exact.isEmpty, let child = exact[key] { return child }
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
            try any.update(make: TransportLevel.init) { (child) throws(FilterChainMatcher.AddError) in
                try child.add(criteria, index: index)
            }
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
                var child = exact.removeValue(forKey: name)
                defer { exact[name] = child }
                try child.update(make: TransportLevel.init) { (child) throws(FilterChainMatcher.AddError) in
                    try child.add(criteria, index: index)
                }
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
        protocols.child(for: input.transportProtocol)?.match(input)
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
        let add = { (child: inout SourceLevel) throws(FilterChainMatcher.AddError) in try child.add(criteria, index: index) }
        switch criteria.sourceType {
        case .local: try local.update(make: SourceLevel.init, add)
        case .external: try external.update(make: SourceLevel.init, add)
        case .any: try any.update(make: SourceLevel.init, add)
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
        if !ports.isEmpty, let port = input.remoteAddress?.port, let index = ports[port] { return index }
        return any
    }
}

extension Optional {
    /// Runs `body` on the value, made with `make` first when there is none.
    mutating func update<E: Error>(make: () -> Wrapped, _ body: (inout Wrapped) throws(E) -> Void) throws(E) {
        var value = self ?? make()
        defer { self = value }
        try body(&value)
    }
}
