/// Envoy's connection buffer gauges (`ConnectionImpl::setConnectionStats`):
/// `*_cx_rx_bytes_buffered` and `*_cx_tx_bytes_buffered` of the scope that
/// owns the connection (`http.<prefix>.downstream_cx_*`, `tcp.<prefix>.downstream_cx_*`,
/// `cluster.<name>.upstream_cx_*`). Each connection adds to them what its
/// buffers hold after each read and each write attempt, and takes it all
/// back when it closes, so a gauge is the sum over the scope's open
/// connections. A row is one thread's: a connection uses the row of the
/// loop it lives on.
public struct ConnectionBufferGauges: Sendable {
    let slots: StatSlots
    let rx: Int
    let tx: Int

    public init(_ slots: StatSlots, rx: Int, tx: Int) {
        self.slots = slots
        self.rx = rx
        self.tx = tx
    }

    /// Moves a connection's share of the read gauge from `old` to `new` bytes.
    @inline(__always)
    public func read(from old: Int, to new: Int) {
        if old != new { slots.addGauge(rx, Int64(new - old)) }
    }

    /// Moves a connection's share of the write gauge from `old` to `new` bytes.
    @inline(__always)
    public func write(from old: Int, to new: Int) {
        if old != new { slots.addGauge(tx, Int64(new - old)) }
    }
}

extension Stats {
    /// The buffer gauges `rx` and `tx` of this row, for a connection.
    public func bufferGauges(rx: S, tx: S) -> ConnectionBufferGauges {
        ConnectionBufferGauges(slots, rx: rx.rawValue, tx: tx.rawValue)
    }
}
