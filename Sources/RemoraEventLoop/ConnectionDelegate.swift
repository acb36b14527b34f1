public import RemoraCore

/// Receives a `Connection`'s events, always on the connection's loop thread.
///
/// Any callback may write to, stop reading or close the connection. The
/// slices handed to `didRead` point into the loop's pooled read blocks; keep
/// them as long as needed (they pin their block), never copy unless you must.
public protocol ConnectionDelegate: AnyObject {
    /// Bytes arrived. `data` is never empty.
    func connection(_ connection: Connection, didRead data: ByteSlice)
    /// The peer half-closed its side (FIN): no more reads. Writing still works.
    func connectionDidReadEOF(_ connection: Connection)
    /// A read or write failed (e.g. `.connectionReset`); reading has stopped.
    /// The owner is expected to close the connection.
    func connection(_ connection: Connection, didFailWith error: EventLoopError)
    /// Queued writes passed the high watermark: stop feeding this connection
    /// (pause reading on the other side).
    func connectionWriteBufferAboveHighWatermark(_ connection: Connection)
    /// Queued writes fell to the low watermark after being above the high one.
    func connectionWriteBufferBelowLowWatermark(_ connection: Connection)
    /// The transport's handshake is done (`connection.securityInfo` is
    /// set); only connections with a transport socket hear this.
    func connectionDidCompleteHandshake(_ connection: Connection)
    /// Every byte written so far reached the kernel (only when the
    /// connection's `reportsWritesDrained` is on).
    func connectionWritesDrained(_ connection: Connection)
    /// The handle is closed; called exactly once, after `close()` (or the
    /// loop's `stop()`), from libuv's close callback.
    func connectionDidClose(_ connection: Connection)
}

// Only flow control has defaults: a delegate that ignores EOF, errors or
// close would leak or hang connections, so those must be written out.
extension ConnectionDelegate {
    public func connectionWriteBufferAboveHighWatermark(_ connection: Connection) {}
    public func connectionWriteBufferBelowLowWatermark(_ connection: Connection) {}
    public func connectionDidCompleteHandshake(_ connection: Connection) {}
    public func connectionWritesDrained(_ connection: Connection) {}
}
