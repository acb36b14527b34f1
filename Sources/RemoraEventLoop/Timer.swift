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
    /// Whether libuv's hold on `self` (taken while armed or pending) is in place.
    private var retainedWhileActive = false
    /// Started and not yet fired (one-shot), stopped or disarmed.
    private var armed = false
    /// Loop time (ms) at which the callback is due, while armed.
    private var deadline: UInt64 = 0
    private var repeatInterval: UInt64 = 0
    /// When the libuv timer is set to fire, if it is set. It may fire before
    /// `deadline` (the timer was restarted later without touching libuv);
    /// it then sets itself again for the rest.
    private var pendingDue: UInt64?

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
    ///
    /// A restart for a deadline no earlier than the one libuv already has
    /// (the common case for per-request timeouts pushed forward) costs no
    /// libuv call: the timer fires at the old time and sets itself again.
    public func start(afterMilliseconds: UInt64, repeatMilliseconds: UInt64 = 0, _ callback: @escaping () -> Void) {
        loop.assertInLoop()
        guard let handle, !loop.isStopping else { return }
        self.callback = callback
        // libuv times timers from its cached loop time, refreshed once per
        // iteration. Before `run()` that cache is as old as the loop, and a
        // timer started then would be due too early; refresh it.
        if !loop.hasRun { uv_update_time(loop.loop) }
        let (due, overflow) = uv_now(loop.loop).addingReportingOverflow(afterMilliseconds)
        deadline = overflow ? .max : due
        repeatInterval = repeatMilliseconds
        armed = true
        takeActiveHold()
        if let due = pendingDue, due <= deadline { return }
        uv_timer_start(handle, timerFired, afterMilliseconds, 0)
        pendingDue = deadline
    }

    /// Stops the timer at once (libuv lets go of it); it can be started again.
    public func stop() {
        loop.assertInLoop()
        guard let handle else { return }
        uv_timer_stop(handle)
        pendingDue = nil
        disarm()
    }

    /// Stops the timer without touching libuv: the callback will not run,
    /// but a pending libuv timer is left to fire (and do nothing) or to be
    /// reused by the next `start`. For timers that are started again soon
    /// (per-request timeouts): a stop and a start each cost a heap update
    /// in libuv. The timer stays alive until that pending time.
    public func disarm() {
        loop.assertInLoop()
        armed = false
        callback = nil
        if pendingDue == nil { releaseActiveHold() }
    }

    /// Whether the timer is started and has not yet fired (one-shot) or been stopped.
    public var isActive: Bool {
        handle != nil && armed
    }

    /// Closes the handle; idempotent.
    public func close() {
        guard let handle else { return }
        self.handle = nil
        callback = nil
        armed = false
        pendingDue = nil
        handle.pointee.data = nil
        uv_close(asHandle(handle), freeHandleOnClose)
        releaseActiveHold()
    }

    func closeForLoopShutdown() {
        close()
    }

    fileprivate func fire() {
        pendingDue = nil
        guard let handle, armed else {
            releaseActiveHold()
            return
        }
        let now = uv_now(loop.loop)
        if now < deadline {
            uv_timer_start(handle, timerFired, deadline - now, 0)
            pendingDue = deadline
            return
        }
        if repeatInterval > 0 {
            deadline = now &+ repeatInterval
            uv_timer_start(handle, timerFired, repeatInterval, 0)
            pendingDue = deadline
        } else {
            armed = false
        }
        // The callback may restart, stop, disarm or close this timer.
        let callback = self.callback
        callback?()
        if !armed {
            self.callback = nil
            if pendingDue == nil { releaseActiveHold() }
        }
    }

    private func takeActiveHold() {
        guard !retainedWhileActive else { return }
        _ = Unmanaged.passUnretained(self).retain()
        retainedWhileActive = true
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
