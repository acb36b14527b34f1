import RemoraCore

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
        if !ports.exact.isEmpty, let port = input.localAddress?.port, let branch = ports.exact[port] {
            return branch.match(input)
        }
        return ports.any?.match(input)
    }
}
