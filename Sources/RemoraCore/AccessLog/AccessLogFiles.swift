import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Envoy's `filesystem.*` stats of the access-log files.
public enum FileSystemStat: Int, StatName {
    case writeBuffered, writeCompleted, writeFailed, flushedByTimer, reopenFailed, writeTotalBuffered, writeDropped

    public var name: String {
        switch self {
        case .writeBuffered: "write_buffered"
        case .writeCompleted: "write_completed"
        case .writeFailed: "write_failed"
        case .flushedByTimer: "flushed_by_timer"
        case .reopenFailed: "reopen_failed"
        case .writeTotalBuffered: "write_total_buffered"
        case .writeDropped: "write_dropped"
        }
    }

    public var kind: StatKind { self == .writeTotalBuffered ? .gauge : .counter }

    public static func makeScope(in store: StatsStore) -> StatScope {
        store.makeScope(prefix: "filesystem.", FileSystemStat.self)
    }
}

/// The access-log files of the process. Workers never write to a file:
/// each appends its lines to its own buffer of the file (a lock only the
/// flush thread also takes), and one flush thread writes the buffers out
/// every flush interval (Envoy's `--file-flush-interval-msec`), sooner when
/// a buffer passes 64 KiB, and once more at exit. A buffer at its limit
/// drops lines (`filesystem.write_dropped`) instead of growing. `reopen()`
/// (SIGUSR1) makes the flush thread reopen every file before its next
/// write, for logrotate.
public final class AccessLogFiles: @unchecked Sendable {
    /// A buffer this big wakes the flush thread (Envoy's minimum flush size).
    public static let flushSize = 64 * 1024

    public let flushIntervalMilliseconds: UInt64
    /// What one thread's buffer of one file may hold before lines are dropped.
    public let bufferLimit: Int
    private let threadCount: Int
    private let scope: StatScope
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var files: [AccessLogFile] = []
    private var wake = false
    private var reopenRequested = false
    private var stopping = false
    private var thread: Thread?
    private let stopped = NSCondition()
    private var threadDone = false

    public init(store: StatsStore, flushIntervalMilliseconds: UInt64, bufferLimit: Int = 16 * 1024 * 1024) {
        self.flushIntervalMilliseconds = max(flushIntervalMilliseconds, 1)
        self.bufferLimit = bufferLimit
        self.threadCount = store.threadCount
        self.scope = FileSystemStat.makeScope(in: store)
    }

    /// The file at `path`, opened (append, created 0644) on first use;
    /// the same object for the same path. Main thread, before workers log.
    public func file(path: String) throws(AccessLogFileError) -> AccessLogFile {
        condition.lock()
        defer { condition.unlock() }
        if let existing = files.first(where: { $0.path == path }) { return existing }
        let fd = try AccessLogFile.open(path)
        let file = AccessLogFile(path: path, fd: fd, threadCount: threadCount, owner: self)
        files.append(file)
        if thread == nil { startThread() }
        return file
    }

    /// SIGUSR1: reopen every file before the next write.
    public func reopen() {
        condition.lock()
        reopenRequested = true
        wake = true
        condition.signal()
        condition.unlock()
    }

    /// Writes out what is buffered and stops the flush thread (at exit).
    public func stop() {
        condition.lock()
        let running = thread != nil
        stopping = true
        wake = true
        condition.signal()
        condition.unlock()
        guard running else { return }
        stopped.lock()
        while !threadDone { stopped.wait() }
        stopped.unlock()
    }

    /// A worker's buffer grew past `flushSize`, or a file got its first line.
    func requestFlush() {
        condition.lock()
        wake = true
        condition.signal()
        condition.unlock()
    }

    func stats(thread: Int) -> Stats<FileSystemStat> { scope.stats(FileSystemStat.self, thread: thread) }

    private func startThread() {
        let thread = Thread { [unowned self] in self.flushLoop() }
        thread.name = "access_log_flush"
        self.thread = thread
        thread.start()
    }

    private func flushLoop() {
        // The flush thread's stats share row 0 with the main thread, which
        // writes none of them.
        let stats = self.stats(thread: 0)
        while true {
            condition.lock()
            var timedOut = false
            if !wake {
                let deadline = Date(timeIntervalSinceNow: Double(flushIntervalMilliseconds) / 1000)
                timedOut = !condition.wait(until: deadline)
            }
            wake = false
            let reopen = reopenRequested
            reopenRequested = false
            let stop = stopping
            let current = files
            condition.unlock()
            if timedOut { stats.add(.flushedByTimer) }
            for file in current {
                if reopen, !file.reopen() { stats.add(.reopenFailed) }
                file.flush(stats: stats)
            }
            if stop { break }
        }
        for file in files { file.close() }
        stopped.lock()
        threadDone = true
        stopped.signal()
        stopped.unlock()
    }
}

public struct AccessLogFileError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    public var description: String { "cannot open access log file \(path): \(String(cString: strerror(errno)))" }
}

/// One access-log file: a buffer per thread (each filled by its worker,
/// emptied by the flush thread) and the descriptor only the flush thread uses.
public final class AccessLogFile: @unchecked Sendable {
    public let path: String
    private var fd: Int32
    private let buffers: [ThreadBuffer]
    private unowned let owner: AccessLogFiles
    /// Set once the first line arrived (that one is flushed at once, as Envoy does).
    private let started = Atomic<Bool>(false)

    final class ThreadBuffer: Sendable {
        let bytes = Mutex<[UInt8]>([])
    }

    init(path: String, fd: Int32, threadCount: Int, owner: AccessLogFiles) {
        self.path = path
        self.fd = fd
        self.buffers = (0..<threadCount).map { _ in ThreadBuffer() }
        self.owner = owner
    }

    static func open(_ path: String) throws(AccessLogFileError) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AccessLogFileError(path: path, errno: errno) }
        return fd
    }

    /// Appends one line to `thread`'s buffer (a worker's loop only).
    public func append(_ line: UnsafeRawBufferPointer, thread: Int) {
        let stats = owner.stats(thread: thread)
        let limit = owner.bufferLimit
        let size = buffers[thread].bytes.withLock { bytes -> Int in
            guard bytes.count + line.count <= limit else { return -1 }
            bytes.append(contentsOf: line)
            return bytes.count
        }
        guard size >= 0 else {
            stats.add(.writeDropped)
            return
        }
        stats.add(.writeBuffered)
        stats.add(.writeTotalBuffered, Int64(line.count))
        if size >= AccessLogFiles.flushSize && size - line.count < AccessLogFiles.flushSize {
            owner.requestFlush()
        } else if !started.load(ordering: .relaxed) {
            started.store(true, ordering: .relaxed)
            owner.requestFlush()
        }
    }

    /// Flush thread: writes every thread's buffer out.
    func flush(stats: Stats<FileSystemStat>) {
        for buffer in buffers {
            var pending: [UInt8] = []
            buffer.bytes.withLock { swap(&$0, &pending) }
            guard !pending.isEmpty else { continue }
            stats.add(.writeTotalBuffered, -Int64(pending.count))
            if writeAll(pending) { stats.add(.writeCompleted) } else { stats.add(.writeFailed) }
        }
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        guard fd >= 0 else { return false }
        return bytes.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
    }

    /// Flush thread: closes and opens the path again (it may have been
    /// moved away by logrotate). False if it cannot be opened.
    func reopen() -> Bool {
        guard let new = try? Self.open(path) else { return false }
        if fd >= 0 { Glibc.close(fd) }
        fd = new
        return true
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
