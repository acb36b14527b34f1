internal import CLibUV

/// A one-shot or repeating timer (`uv_timer_t`) on one loop; create, start,
/// stop and close it on that loop's thread, where its callback also runs.
///
/// While started, the timer keeps itself alive (fire-and-forget one-shots
/// work); once stopped, fired (one-shot) or closed, it lives only as long as
/// its owner holds it, and `deinit` closes the handle. The handle is freed in
/// its `uv_close` callback.
///
/// Note: a file that also imports Foundation must say `RemoraEventLoop.Timer`.
public final class Timer: LoopResource {
    public let loop: EventLoop
    /// nil once closed.
    private var handle: UnsafeMutablePointer<uv_timer_t>?
    private var callback: (() -> Void)?
    /// Whether libuv's hold on `self` (taken while active) is in place.
    private var retainedWhileActive = false

    public init(loop: EventLoop) {
        loop.assertInLoop()
        self.loop = loop
        let handle = UVMemory.allocate(uv_timer_t.self)
        precondition(uv_timer_init(loop.loop, handle) == 0, "uv_timer_init cannot fail")
        self.handle = handle
        // Unretained: while the handle is open, the timer is either active
        // (retained below) or still referenced by its owner (deinit closes it).
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        close()
    }

    /// (Re)starts the timer: `callback` runs after `afterMilliseconds`, then
    /// every `repeatMilliseconds` if that is not 0. Does nothing once closed
    /// or while the loop is stopping.
    public func start(afterMilliseconds: UInt64, repeatMilliseconds: UInt64 = 0, _ callback: @escaping () -> Void) {
        loop.assertInLoop()
        guard let handle, !loop.isStopping else { return }
        self.callback = callback
        if !retainedWhileActive {
            _ = Unmanaged.passUnretained(self).retain()
            retainedWhileActive = true
        }
        // libuv times timers from its cached loop time, refreshed once per
        // iteration. Before `run()` that cache is as old as the loop, and a
        // timer started then would be due too early; refresh it.
        if !loop.hasRun { uv_update_time(loop.loop) }
        uv_timer_start(handle, timerFired, afterMilliseconds, repeatMilliseconds)
    }

    /// Stops the timer; it can be started again.
    public func stop() {
        loop.assertInLoop()
        guard let handle else { return }
        uv_timer_stop(handle)
        callback = nil
        releaseActiveHold()
    }

    /// Whether the timer is started and has not yet fired (one-shot) or been stopped.
    public var isActive: Bool {
        guard let handle else { return false }
        return uv_is_active(asHandle(handle)) != 0
    }

    /// Closes the handle; idempotent.
    public func close() {
        guard let handle else { return }
        self.handle = nil
        callback = nil
        handle.pointee.data = nil
        uv_close(asHandle(handle), freeHandleOnClose)
        releaseActiveHold()
    }

    func closeForLoopShutdown() {
        close()
    }

    fileprivate func fire() {
        // The callback may stop, restart or close this timer.
        callback?()
        if let handle, uv_is_active(asHandle(handle)) != 0 { return }
        callback = nil
        releaseActiveHold()
    }

    private func releaseActiveHold() {
        guard retainedWhileActive else { return }
        retainedWhileActive = false
        // The caller still holds `self` for the rest of its call.
        Unmanaged.passUnretained(self).release()
    }
}

private let timerFired: uv_timer_cb = { handle in
    guard let data = handle?.pointee.data else { return }
    Unmanaged<Timer>.fromOpaque(data).takeUnretainedValue().fire()
}
