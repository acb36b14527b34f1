import Synchronization
internal import CLibUV
public import RemoraCore
#if canImport(Glibc)
import Glibc
#endif

/// One libuv loop (`uv_loop_t`), run by one thread: a worker's or the main
/// thread's. Everything created with a loop — connections, listeners, timers,
/// signal watchers — belongs to it and is used only on the thread that runs it
/// (checked with `assertInLoop()` in debug builds).
///
/// Other threads talk to a loop only through `execute(_:)` and `stop()`.
///
/// Making the first loop ignores SIGPIPE process-wide (as Envoy does), so
/// that writing to a vanished peer fails with `.brokenPipe` instead.
///
/// `@unchecked Sendable` is safe because the only members touched from other
/// threads are the mutex-protected post queue, the atomic owner-thread id and
/// immutable `let`s; the libuv loop, the buffer pool and all loop-thread state
/// are used on the loop thread alone.
public final class EventLoop: @unchecked Sendable {
    /// The libuv loop; loop thread only.
    let loop: UnsafeMutablePointer<uv_loop_t>
    /// Wakes the loop for posts and stop; freed in its close callback.
    private let wakeup: UnsafeMutablePointer<uv_async_t>
    private let shared: Mutex<SharedState>
    /// The thread that owns the loop: its creator until `run()` starts, then the runner.
    private let ownerThread: Atomic<UInt>

    /// Blocks for socket reads (64 KiB). Loop thread only.
    public let bufferPool: BufferPool
    /// Small blocks (16 KiB) for connections whose reads are small (requests,
    /// responses); a read that fills one moves the connection to `bufferPool`.
    public let smallBufferPool: BufferPool
    /// The blocks reads go into, shared by every connection of the loop
    /// (libuv reads one socket at a time): a read takes the free tail of the
    /// current block, so an idle or request/response connection pins no
    /// block of its own, only the bytes its slices still hold.
    var readAreas = (small: ReadArea(), large: ReadArea())

    /// True once `stop()` has begun closing the loop's handles. Loop thread only.
    private(set) var isStopping = false
    /// True once `run()` has started. Loop thread only.
    private(set) var hasRun = false
    /// Reused between wake-ups so that draining posts does not allocate.
    private var draining: [@Sendable () -> Void] = []
    /// Connections with writes queued during this iteration; flushed once,
    /// vectored, after the I/O callbacks (check) or before polling (prepare).
    private var flushQueue: [Connection] = []
    private var flushSpare: [Connection] = []
    /// Codec owners whose output is framed once, before those writes.
    private var framingQueue: [any DeferredFraming] = []
    private var framingSpare: [any DeferredFraming] = []
    private let flushAfterIO: UnsafeMutablePointer<uv_check_t>
    private let flushBeforePoll: UnsafeMutablePointer<uv_prepare_t>
    private var flushHandlesActive = false
    private var flushHandlesOpen = true

    struct SharedState {
        var posted: [@Sendable () -> Void] = []
        var wakeupOpen = true
        var stopRequested = false
        var thread: uv_thread_t?
    }

    public init() throws(EventLoopError) {
        _ = ignoreSIGPIPE
        let loop = UVMemory.allocate(uv_loop_t.self)
        do {
            // Fails only when the process is out of file descriptors (epoll, eventfd).
            try uvCheck(uv_loop_init(loop), "create event loop")
        } catch {
            loop.deallocate()
            throw error
        }
        let wakeup = UVMemory.allocate(uv_async_t.self)
        do {
            try uvCheck(uv_async_init(loop, wakeup, eventLoopWakeupCallback), "create event loop wake-up")
        } catch {
            wakeup.deallocate()
            uv_loop_close(loop)
            loop.deallocate()
            throw error
        }
        let check = UVMemory.allocate(uv_check_t.self)
        let prepare = UVMemory.allocate(uv_prepare_t.self)
        // Cannot fail on an initialised loop.
        uv_check_init(loop, check)
        uv_prepare_init(loop, prepare)
        self.flushAfterIO = check
        self.flushBeforePoll = prepare
        self.loop = loop
        self.wakeup = wakeup
        self.shared = Mutex(SharedState())
        self.ownerThread = Atomic(pthread_self())
        // A few blocks stay cached for the next reads; the rest go back to malloc.
        self.bufferPool = BufferPool(blockSize: 64 * 1024, maxCached: 16)
        self.smallBufferPool = BufferPool(blockSize: 16 * 1024, maxCached: 64)
        // Unretained: the loop is not kept alive by its own wake-up handle;
        // the callback only runs inside `run()`, which holds `self`.
        wakeup.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        check.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        prepare.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    // MARK: - Deferred write flushing

    /// Queues `connection` to flush its writes at the end of this loop
    /// iteration: several writes made while handling one batch of events go
    /// out as one vectored write. Loop thread only.
    func scheduleFlush(_ connection: Connection) {
        flushQueue.append(connection)
        armFlushHandles()
    }

    /// Queues `owner` to frame its codec's output at the end of this loop
    /// iteration, before the writes are flushed: the frames of every stream
    /// that answered during one batch of events are made in one pass (one
    /// `nghttp2_session_send` per connection, not one per encoder call).
    /// The owner keeps a flag so that it is queued once. Loop thread only.
    public func scheduleFraming(_ owner: any DeferredFraming) {
        assertInLoop()
        framingQueue.append(owner)
        armFlushHandles()
    }

    private func armFlushHandles() {
        if !flushHandlesActive && flushHandlesOpen {
            flushHandlesActive = true
            uv_check_start(flushAfterIO, eventLoopFlushCheck)
            uv_prepare_start(flushBeforePoll, eventLoopFlushPrepare)
        }
    }

    fileprivate func runFlushes() {
        // Framing writes to connections (and may, rarely, frame again).
        while !framingQueue.isEmpty || !flushQueue.isEmpty {
            while !framingQueue.isEmpty {
                swap(&framingQueue, &framingSpare)
                for owner in framingSpare { owner.frameDeferredOutput() }
                framingSpare.removeAll(keepingCapacity: true)
            }
            while !flushQueue.isEmpty {
                swap(&flushQueue, &flushSpare)
                for connection in flushSpare { connection.flushDeferredWrites() }
                flushSpare.removeAll(keepingCapacity: true)
            }
        }
        if flushHandlesActive {
            flushHandlesActive = false
            uv_check_stop(flushAfterIO)
            uv_prepare_stop(flushBeforePoll)
        }
    }

    private func closeFlushHandles() {
        guard flushHandlesOpen else { return }
        flushHandlesOpen = false
        flushHandlesActive = false
        uv_close(asHandle(flushAfterIO), freeHandleOnClose)
        uv_close(asHandle(flushBeforePoll), freeHandleOnClose)
    }

    deinit {
        let open = shared.withLock { state in
            defer { state.wakeupOpen = false }
            return state.wakeupOpen
        }
        if open { uv_close(asHandle(wakeup), freeHandleOnClose) }
        closeFlushHandles()
        // Runs the close callbacks of handles closed after `run()` returned
        // (or of a loop that never ran).
        uv_run(loop, UV_RUN_NOWAIT)
        if uv_loop_close(loop) == 0 {
            loop.deallocate()
        }
        // Otherwise a handle outlived its loop: leaking the loop's memory is
        // safer than freeing it under that handle.
    }

    /// Runs the loop on the calling thread until `stop()`, which closes every
    /// handle on the loop (owners see their normal close callbacks) before
    /// this returns. Call once.
    public func run() {
        run(onRunning: {})
    }

    func run(onRunning: () -> Void) {
        precondition(!hasRun, "EventLoop.run() called twice")
        hasRun = true
        ownerThread.store(pthread_self(), ordering: .releasing)
        onRunning()
        uv_run(loop, UV_RUN_DEFAULT)
    }

    /// Asks the loop to close all of its handles and return from `run()`.
    /// Thread-safe and idempotent. Work posted before it still runs. On a
    /// loop that is not running yet, it takes effect when `run()` starts.
    public func stop() {
        shared.withLock { state in
            guard !state.stopRequested else { return }
            state.stopRequested = true
            if state.wakeupOpen { uv_async_send(wakeup) }
        }
    }

    /// Runs `work` on the loop thread, soon, in posting order. Thread-safe;
    /// always asynchronous, even when called on the loop. Work posted after
    /// the loop has stopped is dropped.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        shared.withLock { state in
            guard state.wakeupOpen else { return }
            state.posted.append(work)
            uv_async_send(wakeup)
        }
    }

    /// True on the thread that runs (or, before `run()`, created) the loop.
    public var inLoop: Bool {
        ownerThread.load(ordering: .acquiring) == pthread_self()
    }

    /// Debug builds only: traps when called off the loop thread.
    @inline(__always)
    public func assertInLoop(file: StaticString = #fileID, line: UInt = #line) {
        assert(inLoop, "called off the loop thread", file: file, line: line)
    }

    /// libuv's cached loop time in milliseconds (updated once per iteration).
    public var nowMilliseconds: UInt64 {
        uv_now(loop)
    }

    // MARK: - Loop thread

    fileprivate func runPosted() {
        let stopping = shared.withLock { state in
            swap(&draining, &state.posted)
            return state.stopRequested
        }
        for work in draining { work() }
        draining.removeAll(keepingCapacity: true)
        if stopping && !isStopping { closeAllHandles() }
    }

    /// Closes every handle on the loop through its owner, so that `uv_run`
    /// returns once their close callbacks have run.
    private func closeAllHandles() {
        isStopping = true
        shared.withLock { state in
            state.wakeupOpen = false
            swap(&draining, &state.posted)
        }
        for work in draining { work() }
        draining.removeAll()
        uv_close(asHandle(wakeup), freeHandleOnClose)
        uv_walk(loop, closeHandleForShutdown, nil)
        runFlushes()
        closeFlushHandles()
        readAreas.small.release()
        readAreas.large.release()
    }

    func setThread(_ thread: uv_thread_t) {
        shared.withLock { $0.thread = thread }
    }

    func takeThread() -> uv_thread_t? {
        shared.withLock { state in
            defer { state.thread = nil }
            return state.thread
        }
    }
}

/// Writes to a socket whose peer has gone must fail with EPIPE, not kill the
/// process; libuv uses plain write(2), so SIGPIPE is ignored process-wide
/// (as Envoy does) the first time a loop is made.
private let ignoreSIGPIPE: Void = {
    _ = signal(SIGPIPE, SIG_IGN)
}()

private let eventLoopFlushCheck: uv_check_cb = { handle in
    guard let data = handle?.pointee.data else { return }
    Unmanaged<EventLoop>.fromOpaque(data).takeUnretainedValue().runFlushes()
}

private let eventLoopFlushPrepare: uv_prepare_cb = { handle in
    guard let data = handle?.pointee.data else { return }
    Unmanaged<EventLoop>.fromOpaque(data).takeUnretainedValue().runFlushes()
}

private let eventLoopWakeupCallback: uv_async_cb = { handle in
    guard let data = handle?.pointee.data else { return }
    Unmanaged<EventLoop>.fromOpaque(data).takeUnretainedValue().runPosted()
}

private let closeHandleForShutdown: uv_walk_cb = { handle, _ in
    guard let handle, uv_is_closing(handle) == 0, let data = handle.pointee.data else { return }
    // Every open handle's `data` is its owner (see LoopResource); the cast
    // happens once per handle at shutdown, never on the data path.
    let owner = Unmanaged<AnyObject>.fromOpaque(data).takeUnretainedValue()
    (owner as? any LoopResource)?.closeForLoopShutdown()
}

/// The owner of a codec that frames its output in batches
/// (`EventLoop.scheduleFraming`): an HTTP/2 connection's owner, downstream
/// or in a pool. Loop thread only.
public protocol DeferredFraming: AnyObject {
    /// Frames what the codec has queued and writes it to the connection.
    func frameDeferredOutput()
}
