internal import CLibUV
#if canImport(Glibc)
import Glibc
#endif

/// Watches directories for files moved into them (inotify `IN_MOVED_TO`),
/// as Envoy's `Filesystem::Watcher` does for `path_config_source`: a config
/// file is replaced by writing a new one beside it and renaming it into
/// place, so a half-written file is never read.
///
/// One inotify descriptor polled by a `uv_poll_t` on `loop`, shared by
/// every watch on the loop (Envoy makes one inotify instance per file
/// subscription, and stops at the kernel's 128 per user: a thousand EDS
/// clusters from files abort it); callbacks run there. Kept alive by libuv
/// from start to the `uv_close` callback, which frees the handle and closes
/// the descriptor.
public final class FileWatcher: LoopResource {
    private let loop: EventLoop
    private let poll: UnsafeMutablePointer<uv_poll_t>
    private let descriptor: Int32
    /// Callbacks by watch descriptor: file name (nil: any file) → callback.
    private var watches: [Int32: [(token: Int, name: String?, callback: () -> Void)]] = [:]
    private var nextToken = 0

    /// Names one watch, for `unwatch`.
    public struct Token: Hashable, Sendable {
        fileprivate let descriptor: Int32
        fileprivate let id: Int
    }
    private var closed = false

    public init(loop: EventLoop) throws(EventLoopError) {
        loop.assertInLoop()
        self.loop = loop
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw EventLoopError(errno: errno, operation: "inotify_init1") }
        let poll = UVMemory.allocate(uv_poll_t.self)
        let status = uv_poll_init(loop.loop, poll, fd)
        guard status == 0 else {
            Glibc.close(fd)
            UVMemory.free(UnsafeMutableRawPointer(poll))
            throw EventLoopError(uvCode: status, operation: "uv_poll_init")
        }
        self.poll = poll
        self.descriptor = fd
        poll.pointee.data = Unmanaged.passRetained(self).toOpaque()
        let started = uv_poll_start(poll, Int32(UV_READABLE.rawValue), fileWatcherPolled)
        if started != 0 {
            close()
            throw EventLoopError(uvCode: started, operation: "uv_poll_start")
        }
    }

    /// Calls `callback` whenever a file is moved into `directory` (when
    /// `name` is nil) or a file called `name` is moved there.
    @discardableResult
    public func watchMovedTo(directory: String, name: String?, _ callback: @escaping () -> Void) throws(EventLoopError) -> Token {
        loop.assertInLoop()
        // The same directory gives the same watch descriptor: its callbacks are listed together.
        let wd = inotify_add_watch(descriptor, directory, UInt32(IN_MOVED_TO))
        guard wd >= 0 else { throw EventLoopError(errno: errno, operation: "inotify_add_watch \(directory)") }
        nextToken += 1
        watches[wd, default: []].append((nextToken, name, callback))
        return Token(descriptor: wd, id: nextToken)
    }

    /// Drops one watch's callback (the directory stays watched while others use it).
    public func unwatch(_ token: Token) {
        loop.assertInLoop()
        watches[token.descriptor]?.removeAll { $0.token == token.id }
        if watches[token.descriptor]?.isEmpty == true {
            watches[token.descriptor] = nil
            _ = inotify_rm_watch(descriptor, token.descriptor)
        }
    }

    /// Stops watching; idempotent. No callback runs after this.
    public func close() {
        guard !closed else { return }
        closed = true
        watches = [:]
        uv_close(asHandle(poll), fileWatcherClosed)
    }

    func closeForLoopShutdown() { close() }

    fileprivate func readEvents() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var fired: [() -> Void] = []
        while !closed {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            buffer.withUnsafeBytes { raw in
                var offset = 0
                while offset + MemoryLayout<inotify_event>.size <= count {
                    let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let nameStart = offset + MemoryLayout<inotify_event>.size
                    let nameBytes = raw[nameStart..<min(nameStart + length, count)].prefix { $0 != 0 }
                    let name = String(decoding: nameBytes, as: UTF8.self)
                    for watch in watches[wd] ?? [] where watch.name == nil || watch.name == name {
                        fired.append(watch.callback)
                    }
                    offset = nameStart + length
                }
            }
        }
        for callback in fired where !closed { callback() }
    }

    fileprivate func didClose() {
        Glibc.close(descriptor)
        UVMemory.free(UnsafeMutableRawPointer(poll))
    }
}

private let fileWatcherPolled: uv_poll_cb = { handle, status, _ in
    guard let data = handle?.pointee.data, status >= 0 else { return }
    Unmanaged<FileWatcher>.fromOpaque(data).takeUnretainedValue().readEvents()
}

private let fileWatcherClosed: uv_close_cb = { handle in
    guard let data = handle?.pointee.data else { return }
    Unmanaged<FileWatcher>.fromOpaque(data).takeRetainedValue().didClose()
}
