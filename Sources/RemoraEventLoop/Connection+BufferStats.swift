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
        get { bufferGaugeSlots }
        set {
            loop.assertInLoop()
            if let old = bufferGaugeSlots {
                old.read(from: lastReadBuffered, to: 0)
                old.write(from: lastWriteBuffered, to: 0)
            }
            bufferGaugeSlots = isClosed ? nil : newValue
            if let new = bufferGaugeSlots {
                new.read(from: 0, to: lastReadBuffered)
                new.write(from: 0, to: lastWriteBuffered)
            }
        }
    }

    @inline(__always)
    func updateReadBuffered(_ size: Int) {
        guard let gauges = bufferGaugeSlots else { return }
        gauges.read(from: lastReadBuffered, to: size)
        lastReadBuffered = size
    }

    @inline(__always)
    func updateWriteBuffered() {
        guard let gauges = bufferGaugeSlots else { return }
        let size = watermark.bufferedBytes
        gauges.write(from: lastWriteBuffered, to: size)
        lastWriteBuffered = size
    }

    /// At close: the connection's share of both gauges goes.
    func clearBufferGauges() {
        guard let gauges = bufferGaugeSlots else { return }
        gauges.read(from: lastReadBuffered, to: 0)
        gauges.write(from: lastWriteBuffered, to: 0)
        lastReadBuffered = 0
        lastWriteBuffered = 0
        bufferGaugeSlots = nil
    }
}
