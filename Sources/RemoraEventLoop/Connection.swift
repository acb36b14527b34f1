internal import CLibUV
internal import CRemoraShims
public import RemoraCore

/// A connected TCP or Unix stream socket, owned by one loop: every method
/// must be called, and every delegate callback happens, on that loop's thread.
///
/// Reads land in blocks of the loop's `BufferPool`, handed to the delegate as
/// `ByteSlice`s without copying. Writes take `ByteSlice`s and keep them until
/// the kernel has the bytes; the caller must not change their memory.
///
/// The connection keeps itself alive while its libuv handle is open (retained
/// when opened, released in the `uv_close` callback), so an owner may drop it
/// only after `connectionDidClose`. The handle memory is freed in that callback.
public final class Connection: LoopResource {
    public let loop: EventLoop
    /// Strong: the connection keeps its delegate alive until the handle is
    /// closed (then it lets go, which breaks the owner ↔ connection cycle).
    /// A weak reference would put a side table on every delegate and make
    /// each of its retains and releases take the slow path.
    public var delegate: (any ConnectionDelegate)?
    /// The socket's local address, or the original destination once
    /// `restoreLocalAddress` has put it there (Envoy's connection info:
    /// filter-chain matching, stats and the ORIGINAL_DST cluster read it).
    public private(set) var localAddress: SocketAddress?
    /// The local address was restored from the original destination.
    public private(set) var isLocalAddressRestored = false
    /// The socket's own local address (what `getsockname` said at accept).
    public let directLocalAddress: SocketAddress?
    /// The peer's address; nil for an unnamed Unix-socket peer.
    public let remoteAddress: SocketAddress?
    /// The TLS session between the socket and the delegate, or nil for a
    /// raw connection (which then pays nothing for the seam: one nil check
    /// per read and per write).
    public internal(set) var transport: (any TransportSocket)?
    /// Plaintext the transport decrypted while reads were stopped or held
    /// disabled, and whether the peer's close_notify came after it: given
    /// to the delegate once reads resume, so that a stopped connection
    /// hears nothing, TLS or not.
    var heldPlaintext: [ByteSlice] = []
    var heldEOF = false
    private var deliveringHeld = false

    let stream: UnsafeMutablePointer<uv_stream_t>
    let kind: StreamKind

    public private(set) var isClosed = false
    /// The peer half-closed (EOF was read).
    public private(set) var isReadClosed = false
    public private(set) var isReading = false
    public private(set) var bytesRead: UInt64 = 0
    public internal(set) var bytesWritten: UInt64 = 0
    /// Buffer gauges (kept for their scope's lifetime), their cells (read on
    /// the data path without reference counting) and this connection's
    /// share of them (Connection+BufferStats.swift).
    var bufferGaugeOwner: ConnectionBufferGauges?
    var rxGauge: GaugeCell?
    var txGauge: GaugeCell?
    var lastReadBuffered = 0
    var lastWriteBuffered = 0
    /// Plaintext the transport handed on during the read in progress.
    var plaintextThisRead = 0

    /// The block of the loop's read area offered to the read in progress
    /// (between libuv's allocate and read callbacks), and where in it.
    private var readBlock: PooledBuffer?
    private var readOffset = 0
    /// A read is offered at least this much space.
    private static let minimumReadSpace = 8 * 1024
    /// Reads go to the loop's small blocks until one read fills the space
    /// offered: bulk streams then read into large blocks (fewer syscalls),
    /// request/response traffic keeps its memory small.
    private var bulkReads = false
    private var offeredSpace = 0

    // Write state, driven by Connection+Write.swift.
    var watermark = WatermarkBuffer(highWatermark: Connection.defaultHighWatermark)
    /// Slices not yet handed to libuv, in order.
    var pendingWrites: [ByteSlice] = []
    /// The connection's one `uv_write` request, made on first need and reused.
    var writeRequest: WriteRequest?
    var writeInFlight = false
    /// Queued with the loop for its end-of-iteration flush.
    var flushScheduled = false
    /// Tell the delegate each time every queued byte reached the kernel
    /// (`connectionWritesDrained`); off unless asked (an HTTP/2 codec counts
    /// its frames until then).
    public var reportsWritesDrained = false
    /// Set after a write error: later writes are dropped.
    var writeFailed = false
    var shutdownState = ShutdownState.none
    var shutdownRequest: UnsafeMutablePointer<uv_shutdown_t>?
    var shutdownCompletions: [() -> Void] = []

    enum ShutdownState {
        case none, requested, inFlight, done
    }

    /// Envoy's default `per_connection_buffer_limit_bytes`.
    public static let defaultHighWatermark = 1024 * 1024

    /// Takes ownership of an open, connected stream handle.
    init(loop: EventLoop, stream: UnsafeMutablePointer<uv_stream_t>, kind: StreamKind) {
        self.loop = loop
        self.stream = stream
        self.kind = kind
        let local = StreamAddresses.local(stream, kind: kind)
        self.localAddress = local
        self.directLocalAddress = local
        self.remoteAddress = StreamAddresses.remote(stream, kind: kind)
        // Held by libuv until the close callback.
        stream.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    deinit {
        // Both requests' callbacks have run by now: libuv cancels them before
        // the close callback, which holds the last libuv reference.
        if let shutdownRequest { shutdownRequest.deallocate() }
    }

    /// The destination the client asked for before an iptables REDIRECT
    /// (`SO_ORIGINAL_DST`), or nil when the connection was not redirected
    /// (the kernel gives no answer, or the local address itself).
    public func originalDestination() -> SocketAddress? {
        loop.assertInLoop()
        guard !isClosed, kind == .tcp, let original = StreamAddresses.originalDestination(stream) else { return nil }
        return original == directLocalAddress ? nil : original
    }

    /// Envoy's `restoreLocalAddress`: from now on `localAddress` is the
    /// original destination (set by the `original_dst` listener filter).
    public func restoreLocalAddress(_ address: SocketAddress) {
        loop.assertInLoop()
        localAddress = address
        isLocalAddressRestored = true
    }

    public func setNoDelay(_ on: Bool) {
        loop.assertInLoop()
        guard !isClosed, kind == .tcp else { return }
        // Fails only on a socket that is already gone; nothing to do then.
        _ = uv_tcp_nodelay(asTCP(stream), on ? 1 : 0)
    }

    // MARK: Reading

    /// Starts delivering reads to the delegate, unless reads are held
    /// disabled (`readDisable`). No effect once closed or after EOF.
    public func startReading() {
        loop.assertInLoop()
        wantsReading = true
        updateReading()
    }

    /// Stops reads: bytes wait in the kernel until `startReading()`. This is
    /// the owner's switch; back-pressure from other parties goes through
    /// `readDisable`, so that one party cannot undo another's.
    public func stopReading() {
        loop.assertInLoop()
        wantsReading = false
        updateReading()
    }

    /// Envoy's `readDisable(bool)`: each party that needs reads stopped
    /// (a full write buffer on the other side, a request waiting for its
    /// response) holds one count, and releases it with `false`. Reads run
    /// only while no count is held (and the owner wants them).
    public func readDisable(_ disable: Bool) {
        loop.assertInLoop()
        if disable {
            readDisableCount += 1
        } else {
            precondition(readDisableCount > 0, "readDisable(false) without a matching readDisable(true)")
            readDisableCount -= 1
        }
        updateReading()
    }

    /// How many parties hold reads disabled.
    public private(set) var readDisableCount = 0
    private var wantsReading = false

    private func updateReading() {
        let should = wantsReading && readDisableCount == 0 && !isClosed && !isReadClosed
        if should && !isReading {
            // Fails only on a closing or unreadable stream, which the guard excludes.
            if uv_read_start(stream, connectionAllocate, connectionRead) == 0 { isReading = true }
        } else if !should && isReading {
            uv_read_stop(stream)
            isReading = false
        }
        if (!heldPlaintext.isEmpty || heldEOF) && readsWanted { deliverHeld() }
        // While others hold reads off, a reset from the peer is still noticed.
        let watch = !isReading && wantsReading && readDisableCount > 0 && kind == .tcp && !isClosed && !isReadClosed
        if watch && resetWatch == nil {
            resetWatch = PeerResetWatch(loop: loop, stream: stream) { [unowned self] in
                self.resetWatch = nil
                self.fail(EventLoopError(uvCode: Int32(UV_ECONNRESET.rawValue), operation: "read from \(self.peerDescription)"))
            }
        } else if !watch, let resetWatch {
            resetWatch.close()
            self.resetWatch = nil
        }
    }

    private var resetWatch: PeerResetWatch?

    /// The owner wants reads and nobody holds them disabled.
    var readsWanted: Bool { wantsReading && readDisableCount == 0 && !isClosed }

    private func deliverHeld() {
        guard !deliveringHeld else { return }
        deliveringHeld = true
        defer { deliveringHeld = false }
        while !heldPlaintext.isEmpty && readsWanted {
            let slice = heldPlaintext.removeFirst()
            delegate?.connection(self, didRead: slice)
        }
        if heldPlaintext.isEmpty && heldEOF && !isClosed {
            heldEOF = false
            delegate?.connectionDidReadEOF(self)
        }
    }

    fileprivate func allocate(_ buffer: UnsafeMutablePointer<uv_buf_t>) {
        let (block, offset) = bulkReads
            ? loop.readAreas.large.space(from: loop.bufferPool, minimum: Connection.minimumReadSpace)
            : loop.readAreas.small.space(from: loop.smallBufferPool, minimum: Connection.minimumReadSpace)
        readBlock = block
        readOffset = offset
        offeredSpace = block.capacity - offset
        buffer.pointee.base = (block.base + offset).assumingMemoryBound(to: CChar.self)
        buffer.pointee.len = offeredSpace
    }

    fileprivate func didRead(_ count: Int) {
        let block = readBlock
        readBlock = nil
        if count > 0, let block {
            if bulkReads {
                loop.readAreas.large.consume(count)
            } else {
                loop.readAreas.small.consume(count)
                if count == offeredSpace && offeredSpace >= Connection.minimumReadSpace { bulkReads = true }
            }
            bytesRead &+= UInt64(count)
            if let transport {
                plaintextThisRead = 0
                transport.received(ByteSlice(storage: block, offset: readOffset, count: count), self)
                if !isClosed { updateReadBuffered(plaintextThisRead) }
            } else {
                updateReadBuffered(count)
                delegate?.connection(self, didRead: ByteSlice(storage: block, offset: readOffset, count: count))
            }
        } else if count == Int(UV_EOF.rawValue) {
            // libuv stops reading by itself at EOF; the write side stays open.
            isReading = false
            isReadClosed = true
            if heldPlaintext.isEmpty {
                delegate?.connectionDidReadEOF(self)
            } else {
                heldEOF = true
            }
        } else if count < 0 {
            uv_read_stop(stream)
            isReading = false
            fail(EventLoopError(uvCode: Int32(count), operation: "read from \(peerDescription)"))
        }
        // count == 0: EAGAIN, nothing was read.
    }

    /// The peer's side ended (a TLS close_notify): no more reads.
    func stopReadingAtEOF() {
        if isReading { uv_read_stop(stream) }
        isReading = false
        isReadClosed = true
        updateReading()
    }

    /// Tells the delegate once about an I/O error; the owner then closes.
    func fail(_ error: EventLoopError) {
        guard !isClosed else { return }
        delegate?.connection(self, didFailWith: error)
    }

    var peerDescription: String {
        (remoteAddress ?? localAddress)?.description ?? "unnamed socket"
    }

    // MARK: Closing

    /// Closes the socket; idempotent. With `reset`, a TCP connection is
    /// aborted with RST (SO_LINGER 0) instead of FIN. Queued writes are
    /// dropped. `connectionDidClose` follows from the loop.
    public func close(reset: Bool = false) {
        loop.assertInLoop()
        guard !isClosed else { return }
        // Queued writes not yet tried get one last chance (best effort, as a
        // direct write would have had), unless this is a reset.
        if !reset && !writeInFlight && !writeFailed { tryWritePending() }
        isClosed = true
        isReading = false
        readBlock = nil
        transport?.closed()
        heldPlaintext.removeAll()
        resetWatch?.close()
        resetWatch = nil
        dropPendingWrites()
        clearBufferGauges()
        // Completions waiting for a FIN that will never be sent; dropping
        // them here also breaks any cycle through captures of `self`.
        shutdownCompletions.removeAll()
        if reset && kind == .tcp {
            var fd: uv_os_fd_t = -1
            if uv_fileno(asHandle(stream), &fd) == 0 {
                // Best effort: without it the peer sees FIN instead of RST.
                _ = remora_set_linger_zero(fd)
            }
        }
        uv_close(asHandle(stream), connectionClosed)
    }

    func closeForLoopShutdown() {
        close()
    }

    fileprivate func didClose() {
        let delegate = self.delegate
        self.delegate = nil
        delegate?.connectionDidClose(self)
    }
}

private let connectionAllocate: uv_alloc_cb = { handle, _, buffer in
    guard let data = handle?.pointee.data, let buffer else { return }
    Unmanaged<Connection>.fromOpaque(data).takeUnretainedValue().allocate(buffer)
}

private let connectionRead: uv_read_cb = { stream, count, _ in
    guard let data = stream?.pointee.data else { return }
    Unmanaged<Connection>.fromOpaque(data).takeUnretainedValue().didRead(count)
}

private let connectionClosed: uv_close_cb = { handle in
    guard let handle, let data = handle.pointee.data else { return }
    // Takes back the reference held since the connection was opened.
    let connection = Unmanaged<Connection>.fromOpaque(data).takeRetainedValue()
    connection.didClose()
    UVMemory.free(UnsafeMutableRawPointer(handle))
}
