internal import CLibUV
internal import CRemoraShims
#if canImport(Glibc)
import Glibc
#endif

extension EventLoop {
    /// Creates a loop and runs it on a new thread named `name` (Linux keeps
    /// the first 15 bytes) until `stop()`. Returns once the thread owns the
    /// loop; from then on, reach the loop with `execute(_:)`.
    public static func startThread(name: String) throws(EventLoopError) -> EventLoop {
        let loop = try EventLoop()
        let start = ThreadStart(loop: loop, name: name)
        let context = Unmanaged.passRetained(start).toOpaque()
        var thread = uv_thread_t()
        do {
            try uvCheck(uv_thread_create(&thread, eventLoopThreadMain, context), "start thread \(name)")
        } catch {
            Unmanaged<ThreadStart>.fromOpaque(context).release()
            throw error
        }
        loop.setThread(thread)
        uv_sem_wait(start.running)
        return loop
    }

    /// Waits for the thread started by `startThread(name:)` to finish (after
    /// `stop()`). Returns at once for loops run with `run()`, or when already
    /// joined. Never call it on the loop's own thread.
    public func join() {
        guard var thread = takeThread() else { return }
        precondition(!inLoop, "EventLoop.join() called on the loop's own thread")
        uv_thread_join(&thread)
    }
}

/// Hands the loop and a start-up semaphore to the new thread.
/// `@unchecked Sendable`: `loop` and `name` are immutable and the semaphore is
/// itself a thread-synchronisation primitive.
private final class ThreadStart: @unchecked Sendable {
    let loop: EventLoop
    let name: String
    let running: UnsafeMutablePointer<uv_sem_t>

    init(loop: EventLoop, name: String) {
        self.loop = loop
        self.name = name
        running = UVMemory.allocate(uv_sem_t.self)
        precondition(uv_sem_init(running, 0) == 0, "uv_sem_init failed")
    }

    deinit {
        uv_sem_destroy(running)
        running.deallocate()
    }
}

private let eventLoopThreadMain: uv_thread_cb = { context in
    guard let context else { return }
    let start = Unmanaged<ThreadStart>.fromOpaque(context).takeRetainedValue()
    // Best effort: the name only helps `top -H` and debuggers.
    _ = remora_set_thread_name(start.name)
    start.loop.run(onRunning: { uv_sem_post(start.running) })
}
