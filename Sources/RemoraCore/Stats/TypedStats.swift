import Synchronization

/// A closed set of stats named in one enum (`ClusterStat`, `HTTPStat`, …),
/// whose raw values are their indices in the scope.
public protocol StatName: RawRepresentable, CaseIterable, Sendable where RawValue == Int {
    var name: String { get }
    var kind: StatKind { get }
}

/// One thread's row of a scope, addressed by the enum `S`: `stats.add(.upstreamCxTotal)`.
public struct Stats<S: StatName>: Sendable {
    public let slots: StatSlots

    public init(_ slots: StatSlots) {
        self.slots = slots
    }

    /// Adds to a counter, or a gauge (which is then marked used).
    @inline(__always)
    public func add(_ stat: S, _ delta: Int64 = 1) {
        if stat.kind == .gauge { slots.addGauge(stat.rawValue, delta) } else { slots.add(stat.rawValue, delta) }
    }

    public func set(_ stat: S, _ value: Int64) { slots.set(stat.rawValue, value) }

    /// Sets a text readout of the scope (`prefix + name`); main thread.
    public func setText(_ name: String, _ value: String) { slots.scope.setText(name, value) }

    public func record(_ stat: S, milliseconds: UInt64) { slots.record(stat.rawValue, milliseconds: milliseconds) }
}

extension StatsStore {
    /// A scope holding every stat of `S` (plus `extra` stats after them).
    /// Without extras, every scope of `S` shares one layout (a thousand EDS
    /// clusters' `EDSClusterStat` scopes, a thousand subscriptions' stats).
    public func makeScope<S: StatName>(prefix: String, _ names: S.Type, extra: [(String, StatKind)] = [],
                                       listedOnceUsed: Bool = false, onFirstUse: Set<String> = []) -> StatScope {
        let layout = extra.isEmpty ? StatLayout.of(S.self) : StatLayout(S.allCases.map { ($0.name, $0.kind) } + extra)
        return makeScope(prefix: prefix, layout: layout, listedOnceUsed: listedOnceUsed, onFirstUse: onFirstUse)
    }
}

extension StatLayout {
    private static let typed = Mutex<[ObjectIdentifier: StatLayout]>([:])

    /// The one layout of every stat of `S`, made on first use.
    public static func of<S: StatName>(_ names: S.Type) -> StatLayout {
        typed.withLock { layouts in
            if let layout = layouts[ObjectIdentifier(S.self)] { return layout }
            let layout = StatLayout(S.allCases.map { ($0.name, $0.kind) })
            layouts[ObjectIdentifier(S.self)] = layout
            return layout
        }
    }
}

extension StatScope {
    /// Thread `thread`'s row, addressed by `S`.
    public func stats<S: StatName>(_ names: S.Type, thread: Int) -> Stats<S> {
        Stats(slots(thread: thread))
    }
}
