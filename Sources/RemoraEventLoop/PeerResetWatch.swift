internal import CLibUV
#if canImport(Glibc)
import Glibc
#endif

/// Watches a TCP socket whose reads are disabled for a reset from its peer,
/// as Envoy's early-close detection does while a connection is
/// read-disabled: without it, a client that gives up mid-upload while
/// back-pressure holds its reads would go unnoticed until the upstream
/// drained, and the upstream request would go on for nothing.
///
/// libuv lets one handle watch a descriptor, so the watch polls a duplicate
/// of it (same socket, own epoll registration). Only a reset (POLLERR) is
/// reported; a FIN stops the watch, since request bytes may still wait ahead
/// of it in the socket and the reads will find them when they resume.
///
/// Owned by one `Connection`, on its loop. Kept alive by libuv from start to
/// the `uv_close` callback, which frees the handle and closes the duplicate.
final class PeerResetWatch {
    private let poll: UnsafeMutablePointer<uv_poll_t>
    private let descriptor: Int32
    private var onReset: (() -> Void)?
    private var closed = false

    /// Nil when the socket cannot be watched (no descriptor, no spare
    /// descriptor for the duplicate): the connection then learns of the
    /// reset when it reads again, as before.
    init?(loop: EventLoop, stream: UnsafeMutablePointer<uv_stream_t>, onReset: @escaping () -> Void) {
        var original: uv_os_fd_t = -1
        guard uv_fileno(asHandle(stream), &original) == 0 else { return nil }
        let copy = fcntl(original, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { return nil }
        let poll = UVMemory.allocate(uv_poll_t.self)
        guard uv_poll_init(loop.loop, poll, copy) == 0 else {
            Glibc.close(copy)
            UVMemory.free(UnsafeMutableRawPointer(poll))
            return nil
        }
        self.poll = poll
        self.descriptor = copy
        self.onReset = onReset
        poll.pointee.data = Unmanaged.passRetained(self).toOpaque()
        if uv_poll_start(poll, Int32(UV_DISCONNECT.rawValue), peerResetPolled) != 0 { close() }
    }

    /// Stops watching; idempotent. The reset callback never runs after this.
    func close() {
        guard !closed else { return }
        closed = true
        onReset = nil
        uv_close(asHandle(poll), peerResetWatchClosed)
    }

    fileprivate func polled(status: Int32) {
        guard !closed else { return }
        let reset = status < 0 ? onReset : nil
        close()
        reset?()
    }

    fileprivate func didClose() {
        Glibc.close(descriptor)
        UVMemory.free(UnsafeMutableRawPointer(poll))
    }
}

private let peerResetPolled: uv_poll_cb = { handle, status, _ in
    guard let data = handle?.pointee.data else { return }
    Unmanaged<PeerResetWatch>.fromOpaque(data).takeUnretainedValue().polled(status: status)
}

private let peerResetWatchClosed: uv_close_cb = { handle in
    guard let data = handle?.pointee.data else { return }
    Unmanaged<PeerResetWatch>.fromOpaque(data).takeRetainedValue().didClose()
}
