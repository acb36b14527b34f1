import Atomics

/// Envoy's connection buffer gauges (`ConnectionImpl::setConnectionStats`):
/// `*_cx_rx_bytes_buffered` and `*_cx_tx_bytes_buffered` of the scope that
/// owns the connection (`http.<prefix>.downstream_cx_*`, `tcp.<prefix>.downstream_cx_*`,
/// `cluster.<name>.upstream_cx_*`). Each connection adds to them what its
/// buffers hold after each read and each write attempt, and takes it all
/// back when it closes, so a gauge is the sum over the scope's open
/// connections. A row is one thread's: a connection uses the row of the
/// loop it lives on.
public struct ConnectionBufferGauges: Sendable {
    /// Keeps the scope (and so the cells' memory) alive.
    let slots: StatSlots
    public let rx: GaugeCell
    public let tx: GaugeCell

    public init(_ slots: StatSlots, rx: Int, tx: Int) {
        self.slots = slots
        // Listed as used from the first connection, as Envoy's are once set.
        slots.addGauge(rx, 0)
        slots.addGauge(tx, 0)
        self.rx = GaugeCell(slots.base + slots.scope.offsets[rx])
        self.tx = GaugeCell(slots.base + slots.scope.offsets[tx])
    }
}

/// One thread's slot of one gauge, as a bare pointer into its scope's row
/// (no reference counting on the data path): valid while the scope lives,
/// which whoever holds the cell makes sure of (`ConnectionBufferGauges`).
public struct GaugeCell: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>

    init(_ storage: UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>) {
        self.storage = storage
    }

    /// Moves this thread's share from `old` to `new` (relaxed load and
    /// store: the row is this thread's alone).
    @inline(__always)
    public func move(from old: Int, to new: Int) {
        guard old != new else { return }
        let atomic = UnsafeAtomic<Int64>(at: storage)
        atomic.store(atomic.load(ordering: .relaxed) &+ Int64(new - old), ordering: .relaxed)
    }
}

extension Stats {
    /// The buffer gauges `rx` and `tx` of this row, for a connection.
    public func bufferGauges(rx: S, tx: S) -> ConnectionBufferGauges {
        ConnectionBufferGauges(slots, rx: rx.rawValue, tx: tx.rawValue)
    }
}
