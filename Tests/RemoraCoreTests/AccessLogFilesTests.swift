import Foundation
import Testing
@testable import RemoraCore

/// The access-log buffers stay within their limit whatever a worker logs:
/// lines past it are dropped and counted, never queued.
@Suite struct AccessLogFilesTests {
    @Test func aFullBufferDropsLinesAndCountsThem() throws {
        let path = NSTemporaryDirectory() + "remora-access-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = StatsStore(workerCount: 1)
        // A long interval: nothing is written out until `stop()`.
        let files = AccessLogFiles(store: store, flushIntervalMilliseconds: 600_000, bufferLimit: 100)
        let file = try files.file(path: path)
        let line = Array(repeating: UInt8(ascii: "x"), count: 39) + [UInt8(ascii: "\n")]
        // The first line is flushed at once (as Envoy flushes a file's first
        // write); let that happen so the buffer starts empty.
        line.withUnsafeBytes { file.append($0, thread: 1) }
        for _ in 0..<100 where (try? String(contentsOfFile: path, encoding: .utf8))?.isEmpty ?? true {
            Thread.sleep(forTimeInterval: 0.01)
        }
        for _ in 0..<10 { line.withUnsafeBytes { file.append($0, thread: 1) } }
        files.stop()
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written.split(separator: "\n").count == 3)  // the first, then two 40-byte lines fit in 100
        let stats = Dictionary(store.snapshot().map { ($0.name, $0.value) }, uniquingKeysWith: +)
        #expect(stats["filesystem.write_dropped"] == 8)
        #expect(stats["filesystem.write_buffered"] == 3)
        #expect(stats["filesystem.write_total_buffered"] == 0)
    }
}
