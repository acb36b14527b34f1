internal import CLibUV

/// Runs a handler on its loop's thread each time the process receives a
/// signal (`uv_signal_t`). Owned by one loop; create and close it there.
///
/// It keeps itself alive from creation until `close()` (or the loop's
/// `stop()`), and its handle is freed in the `uv_close` callback.
public final class SignalWatcher: LoopResource {
    public let loop: EventLoop
    public let signal: Int32
    private let handle: UnsafeMutablePointer<uv_signal_t>
    private var handler: (() -> Void)?
    private var closed = false

    public init(loop: EventLoop, signal: Int32, _ handler: @escaping () -> Void) throws(EventLoopError) {
        loop.assertInLoop()
        let handle = UVMemory.allocate(uv_signal_t.self)
        do {
            try uvCheck(uv_signal_init(loop.loop, handle), "watch signal \(signal)")
        } catch {
            handle.deallocate()
            throw error
        }
        self.loop = loop
        self.signal = signal
        self.handle = handle
        self.handler = handler
        // Held by libuv until the close callback.
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        do {
            try uvCheck(uv_signal_start(handle, signalReceived, signal), "watch signal \(signal)")
        } catch {
            close()
            throw error
        }
    }

    /// Stops watching and closes the handle; idempotent.
    public func close() {
        loop.assertInLoop()
        guard !closed else { return }
        closed = true
        handler = nil
        uv_close(asHandle(handle), signalWatcherClosed)
    }

    func closeForLoopShutdown() {
        close()
    }

    fileprivate func received() {
        handler?()
    }
}

private let signalReceived: uv_signal_cb = { handle, _ in
    guard let data = handle?.pointee.data else { return }
    Unmanaged<SignalWatcher>.fromOpaque(data).takeUnretainedValue().received()
}

private let signalWatcherClosed: uv_close_cb = { handle in
    guard let handle, let data = handle.pointee.data else { return }
    Unmanaged<SignalWatcher>.fromOpaque(data).release()
    UVMemory.free(UnsafeMutableRawPointer(handle))
}
