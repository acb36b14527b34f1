internal import CLibUV
public import RemoraCore

// The write path: try the socket directly when nothing is queued, queue what
// it did not take, and flush the whole queue as one vectored uv_write each
// time the previous one completes. Watermark crossings go to the delegate.

extension Connection {
    /// Writes `data` after everything written before; the slice is kept until
    /// the kernel has its bytes. Dropped once the connection is closed, shut
    /// down for writing, or failed.
    ///
    /// Writes are queued and flushed once per loop iteration (see
    /// `EventLoop.scheduleFlush`), so a response head and its body, or
    /// several reads forwarded by a proxy, leave in one `writev`.
    public func write(_ data: ByteSlice) {
        loop.assertInLoop()
        guard data.count > 0, !isClosed, !writeFailed, shutdownState == .none else { return }
        if let transport {
            transport.send(data, self)
            return
        }
        writeToSocket(data)
    }

    /// Queues bytes for the socket itself (after the transport, if any).
    func writeToSocket(_ data: ByteSlice) {
        enqueue(data)
        if !writeInFlight && !flushScheduled {
            flushScheduled = true
            loop.scheduleFlush(self)
        }
    }

    /// The loop's end-of-iteration flush: try the socket directly, and hand
    /// what it does not take to a vectored `uv_write`.
    func flushDeferredWrites() {
        flushScheduled = false
        guard !isClosed, !writeFailed, !writeInFlight, !pendingWrites.isEmpty else { return }
        let written = tryWritePending()
        if written > 0 { report(watermark.drained(written)) }
        guard !isClosed else { return }
        updateWriteBuffered()
        if pendingWrites.isEmpty {
            if reportsWritesDrained { delegate?.connectionWritesDrained(self) }
            startShutdownIfFlushed()
        } else {
            // EAGAIN (or an error, which uv_write reports from its callback).
            flushPendingWrites()
        }
    }

    /// `uv_try_write` of the queued slices (up to IOV_MAX); drops what was
    /// written from the queue and returns its size. No callbacks.
    @discardableResult
    func tryWritePending() -> Int {
        let count = min(pendingWrites.count, WriteRequest.maxBuffers)
        guard count > 0 else { return 0 }
        let written = withUnsafeTemporaryAllocation(of: uv_buf_t.self, capacity: count) { buffers -> Int in
            for i in 0..<count {
                let slice = pendingWrites[i]
                let base = UnsafeMutableRawPointer(mutating: slice.baseAddress).assumingMemoryBound(to: CChar.self)
                buffers[i] = uv_buf_t(base: base, len: slice.count)
            }
            return Int(uv_try_write(stream, buffers.baseAddress, UInt32(count)))
        }
        guard written > 0 else { return 0 }
        bytesWritten &+= UInt64(written)
        var left = written
        var whole = 0
        while whole < pendingWrites.count, pendingWrites[whole].count <= left {
            left -= pendingWrites[whole].count
            whole += 1
        }
        pendingWrites.removeFirst(whole)
        if left > 0 { pendingWrites[0] = pendingWrites[0].dropFirst(left) }
        return written
    }

    /// Copies `bytes` into a fresh buffer and writes it.
    public func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        write(ByteSlice(copying: bytes))
    }

    /// Half-closes: sends FIN once every queued write is written. Reading
    /// goes on until the peer closes its side. `completion` runs once the FIN
    /// is handed to the kernel (or could not be, the socket being gone); it
    /// does not run if the connection is closed first.
    public func shutdownWrite(_ completion: (() -> Void)? = nil) {
        loop.assertInLoop()
        guard !isClosed else { return }
        if let completion {
            if shutdownState == .done {
                completion()
                return
            }
            shutdownCompletions.append(completion)
        }
        guard shutdownState == .none else { return }
        // close_notify goes out before the FIN (RFC 8446 §6.1).
        if let transport, !writeFailed { transport.shutdown(self) }
        shutdownState = .requested
        startShutdownIfFlushed()
    }

    /// Bytes accepted by `write` and not yet written to the socket.
    public var writeBufferedBytes: Int { watermark.bufferedBytes }

    /// Above this many buffered bytes the delegate hears
    /// `connectionWriteBufferAboveHighWatermark`; at half of it,
    /// `...BelowLowWatermark`. 0 disables the callbacks.
    public var highWatermark: Int {
        get { watermark.highWatermark }
        set {
            loop.assertInLoop()
            report(watermark.setHighWatermark(newValue))
        }
    }

    // MARK: Internals

    private func enqueue(_ slice: ByteSlice) {
        pendingWrites.append(slice)
        report(watermark.added(slice.count))
    }

    func report(_ transition: WatermarkBuffer.Transition) {
        guard !isClosed else { return }
        switch transition {
        case .none: break
        case .aboveHigh: delegate?.connectionWriteBufferAboveHighWatermark(self)
        case .belowLow: delegate?.connectionWriteBufferBelowLowWatermark(self)
        }
    }

    /// Hands every queued slice (up to IOV_MAX) to libuv as one write.
    private func flushPendingWrites() {
        guard !writeInFlight, !pendingWrites.isEmpty, !isClosed, !writeFailed else { return }
        let request: WriteRequest
        if let existing = writeRequest {
            request = existing
        } else {
            request = WriteRequest()
            writeRequest = request
        }
        let count = request.load(from: &pendingWrites)
        // The connection outlives the request's callback (it is released in
        // the close callback, which libuv runs after cancelling writes).
        request.request.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        let rc = uv_write(request.request, stream, request.buffers, UInt32(count), connectionWrote)
        if rc < 0 {
            // Only a stream that is closed or no longer writable refuses a
            // write here; the guards above rule that out, so this is rare.
            _ = request.finish()
            writeFailed = true
            fail(EventLoopError(uvCode: rc, operation: "write to \(peerDescription)"))
            return
        }
        writeInFlight = true
        startShutdownIfFlushed()
    }

    fileprivate func didWrite(status: Int32) {
        writeInFlight = false
        let written = writeRequest?.finish() ?? 0
        // Closed: the queue was dropped, and status is ECANCELED.
        guard !isClosed else { return }
        if status < 0 {
            writeFailed = true
            fail(EventLoopError(uvCode: status, operation: "write to \(peerDescription)"))
            return
        }
        bytesWritten &+= UInt64(written)
        let transition = watermark.drained(written)
        updateWriteBuffered()
        flushPendingWrites()
        report(transition)
        if reportsWritesDrained && !writeInFlight && pendingWrites.isEmpty && !isClosed {
            delegate?.connectionWritesDrained(self)
        }
    }

    /// libuv orders a shutdown after the writes it already holds, so FIN can
    /// be requested as soon as our own queue is empty.
    private func startShutdownIfFlushed() {
        guard shutdownState == .requested, pendingWrites.isEmpty, !isClosed else { return }
        shutdownState = .inFlight
        let request: UnsafeMutablePointer<uv_shutdown_t>
        if let existing = shutdownRequest {
            request = existing
        } else {
            request = UVMemory.allocate(uv_shutdown_t.self)
            shutdownRequest = request
        }
        request.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        if uv_shutdown(request, stream, connectionShutDown) < 0 {
            // ENOTCONN: the socket is already gone; there is nothing to half-close.
            shutdownState = .done
            runShutdownCompletions()
        }
    }

    fileprivate func didShutDown(status: Int32) {
        shutdownState = .done
        // A failed shutdown (peer already reset) shows up on the read side;
        // ECANCELED means we closed first.
        guard !isClosed else { shutdownCompletions.removeAll(); return }
        runShutdownCompletions()
    }

    private func runShutdownCompletions() {
        let completions = shutdownCompletions
        shutdownCompletions.removeAll()
        for completion in completions { completion() }
    }

    /// Forgets queued writes on close, without watermark callbacks.
    func dropPendingWrites() {
        pendingWrites.removeAll()
        watermark = WatermarkBuffer(highWatermark: watermark.highWatermark)
    }
}

private let connectionWrote: uv_write_cb = { request, status in
    guard let data = request?.pointee.data else { return }
    Unmanaged<Connection>.fromOpaque(data).takeUnretainedValue().didWrite(status: status)
}

private let connectionShutDown: uv_shutdown_cb = { request, status in
    guard let data = request?.pointee.data else { return }
    Unmanaged<Connection>.fromOpaque(data).takeUnretainedValue().didShutDown(status: status)
}
