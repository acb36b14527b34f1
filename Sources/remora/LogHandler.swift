import Foundation
import Logging

/// One line per event on stderr, in Envoy's shape:
/// `[2026-11-30 13:00:00.123][1234][info][main] message`.
struct RemoraLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var now = timeval()
        gettimeofday(&now, nil)
        var tm = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &tm)
        let stamp = String(format: "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                           tm.tm_hour, tm.tm_min, tm.tm_sec, Int(now.tv_usec / 1000))
        let line = "[\(stamp)][\(getpid())][\(Self.envoyName(event.level))][\(label)] \(event.message)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func envoyName(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .notice: "info"
        case .warning: "warning"
        case .error: "error"
        case .critical: "critical"
        }
    }

    /// Envoy's level names: trace, debug, info, warning/warn, error, critical, off.
    static func level(named name: String) -> Logger.Level? {
        switch name.lowercased() {
        case "trace": .trace
        case "debug": .debug
        case "info": .info
        case "warning", "warn": .warning
        case "error": .error
        case "critical", "off": .critical
        default: nil
        }
    }
}
