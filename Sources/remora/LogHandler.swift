import Logging
import RemoraCore

/// swift-log's handler over `LogControl`: the level comes from the logger's
/// entry there (so `/logging` changes it at run time), and lines are
/// written in the `--log-format` pattern to stderr or `--log-path`.
struct RemoraLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    let label: String

    var logLevel: Logger.Level {
        get { Self.swiftLevel(LogControl.shared.level(of: label)) }
        set { LogControl.shared.set(label, Self.controlLevel(newValue)) }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        LogControl.shared.log(Self.controlLevel(event.level), logger: label, "\(event.message)")
    }

    static func swiftLevel(_ level: LogControl.Level) -> Logger.Level {
        switch level {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .warning: .warning
        case .error: .error
        case .critical, .off: .critical
        }
    }

    static func controlLevel(_ level: Logger.Level) -> LogControl.Level {
        switch level {
        case .trace: .trace
        case .debug: .debug
        case .info, .notice: .info
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }

    /// Envoy's level names: trace, debug, info, warning/warn, error, critical, off.
    static func level(named name: String) -> LogControl.Level? {
        LogControl.Level(name: name)
    }
}
