public import RemoraCore

// Envoy's connection buffer stats (`ConnectionImpl::updateReadBufferStats`,
// `updateWriteBufferStats`): after each read the read gauge holds what the
// read brought (Envoy's read buffer before its filters drain it; Remora
// hands the bytes on without a connection buffer, so it is the read's
// plaintext), after each write attempt the write gauge holds what is left
// queued, and a close takes both back to 0. Envoy updates the read gauge
// on reads only, so it keeps the last read's size while a connection is
// idle; so does this.

extension Connection {
    /// The gauges this connection adds its buffered bytes to (set by its
    /// owner: the connection manager, tcp_proxy or an upstream pool). A
    /// change moves what the connection holds from the old gauges to the new.
    public var bufferGauges: ConnectionBufferGauges? {
        get { bufferGaugeOwner }
        set {
            loop.assertInLoop()
            rxGauge?.move(from: lastReadBuffered, to: 0)
            txGauge?.move(from: lastWriteBuffered, to: 0)
            bufferGaugeOwner = isClosed ? nil : newValue
            rxGauge = bufferGaugeOwner?.rx
            txGauge = bufferGaugeOwner?.tx
            rxGauge?.move(from: 0, to: lastReadBuffered)
            txGauge?.move(from: 0, to: lastWriteBuffered)
        }
    }

    @inline(__always)
    func updateReadBuffered(_ size: Int) {
        guard let rxGauge else { return }
        rxGauge.move(from: lastReadBuffered, to: size)
        lastReadBuffered = size
    }

    @inline(__always)
    func updateWriteBuffered() {
        guard let txGauge else { return }
        let size = watermark.bufferedBytes
        txGauge.move(from: lastWriteBuffered, to: size)
        lastWriteBuffered = size
    }

    /// At close: the connection's share of both gauges goes.
    func clearBufferGauges() {
        guard bufferGaugeOwner != nil else { return }
        rxGauge?.move(from: lastReadBuffered, to: 0)
        txGauge?.move(from: lastWriteBuffered, to: 0)
        lastReadBuffered = 0
        lastWriteBuffered = 0
        rxGauge = nil
        txGauge = nil
        bufferGaugeOwner = nil
    }
}
