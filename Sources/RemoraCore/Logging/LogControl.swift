internal import CRemoraShims
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The proxy's own log, as Envoy's: one level per logger (Envoy's logger
/// names), changed at start-up (`-l`, `--component-log-level`) and at run
/// time (`/logging`); lines in Envoy's spdlog-style `--log-format`, written
/// with one `write(2)` each to stderr or `--log-path`.
public final class LogControl: Sendable {
    public static let shared = LogControl()

    /// Envoy 1.40's loggers, in its `/logging` order.
    public static let loggerNames: [String] = [
        "a2a", "admin", "ai_protocol_manager", "alternate_protocols_cache", "aws", "assert", "backtrace", "basic_auth",
        "cache_filter", "client", "config", "connection", "conn_handler", "compression", "credential_injector",
        "decompression", "dns", "dubbo", "envoy_bug", "ext_authz", "ext_proc", "rocketmq", "file", "filter",
        "forward_proxy", "geolocation", "grpc", "happy_eyeballs", "hc", "health_checker", "http", "http2", "hystrix",
        "init", "io", "jwt", "json_rpc", "kafka", "key_value_store", "lua", "local_rate_limit", "main", "matcher", "mcp",
        "misc", "mongo", "multi_connection", "notification", "oauth2", "quic", "quic_stream", "pool", "rate_limit_quota",
        "rbac", "rds", "redis", "router", "runtime", "stats", "secret", "sse", "tap", "testing", "thrift", "tracing",
        "upstream", "udp", "wasm", "websocket", "golang", "stats_sinks", "dynamic_modules", "ip_tagging",
    ]

    /// Envoy's levels, least to most severe.
    public enum Level: Int, Sendable, CaseIterable {
        case trace, debug, info, warning, error, critical, off

        public var name: String {
            switch self {
            case .trace: "trace"
            case .debug: "debug"
            case .info: "info"
            case .warning: "warning"
            case .error: "error"
            case .critical: "critical"
            case .off: "off"
            }
        }

        /// Envoy's names (`warn` too).
        public init?(name: String) {
            switch name.lowercased() {
            case "trace": self = .trace
            case "debug": self = .debug
            case "info": self = .info
            case "warning", "warn": self = .warning
            case "error": self = .error
            case "critical": self = .critical
            case "off": self = .off
            default: return nil
            }
        }
    }

    private struct State {
        var levels: [String: Level]
        var defaultLevel: Level
        var pattern: LogPattern
        var fd: Int32
    }

    private let state: Mutex<State>

    private init() {
        state = Mutex(State(levels: Dictionary(uniqueKeysWithValues: Self.loggerNames.map { ($0, Level.info) }),
                            defaultLevel: .info, pattern: LogPattern(LogPattern.envoyDefault), fd: 2))
    }

    /// `-l`: every logger.
    public func setAll(_ level: Level) {
        state.withLock { s in
            s.defaultLevel = level
            for name in s.levels.keys { s.levels[name] = level }
        }
    }

    /// One logger; false when Envoy has no logger of that name.
    @discardableResult
    public func set(_ name: String, _ level: Level) -> Bool {
        state.withLock { s in
            guard s.levels[name] != nil else { return false }
            s.levels[name] = level
            return true
        }
    }

    public func level(of name: String) -> Level {
        state.withLock { $0.levels[name] ?? $0.defaultLevel }
    }

    /// `--component-log-level a:debug,b:trace`; the error is Envoy's message.
    public func applyComponentLevels(_ spec: String) -> String? {
        for item in spec.split(separator: ",") {
            let parts = item.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { return "error: component log level not correctly specified '\(item)'" }
            guard Self.loggerNames.contains(String(parts[0])) else { return "error: invalid component specified '\(parts[0])'" }
            guard let level = Level(name: String(parts[1])) else { return "error: invalid log level specified '\(parts[1])'" }
            set(String(parts[0]), level)
        }
        return nil
    }

    /// `--log-format`.
    public func setFormat(_ pattern: String) {
        state.withLock { $0.pattern = LogPattern(pattern) }
    }

    /// `--log-path`: lines go to this file (appended) instead of stderr.
    public func setPath(_ path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        state.withLock { $0.fd = fd }
        return true
    }

    /// `/logging`'s listing: `active loggers:` and each `  name: level`.
    public var listing: String {
        state.withLock { s in
            var out = "active loggers:\n"
            for name in Self.loggerNames { out += "  \(name): \((s.levels[name] ?? s.defaultLevel).name)\n" }
            return out + "\n"  // Envoy ends the listing with an empty line
        }
    }

    /// Writes `message` from `logger` at `level`, if that logger's level lets it through.
    public func log(_ level: Level, logger: String, _ message: String) {
        let (pattern, fd, enabled) = state.withLock { s in
            (s.pattern, s.fd, level != .off && level.rawValue >= (s.levels[logger] ?? s.defaultLevel).rawValue)
        }
        guard enabled else { return }
        var line = pattern.render(level: level, logger: logger, message: message)
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return }
                offset += n
            }
        }
    }
}

/// An spdlog pattern as Envoy's `--log-format` takes it: `%Y %m %d %H %M %S
/// %e %f %F %T %D %t %P %l %L %n %v %_ %%` (other flags print as written).
public struct LogPattern: Sendable {
    /// Envoy's default without the source location (Remora logs carry none).
    public static let envoyDefault = "[%Y-%m-%d %T.%e][%t][%l][%n] %v"

    enum Piece: Sendable {
        case literal([UInt8])
        case flag(UInt8)
    }

    let pieces: [Piece]

    public init(_ pattern: String) {
        var pieces: [Piece] = []
        var literal: [UInt8] = []
        var bytes = Array(pattern.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%"), let flag = bytes.popFirst() {
                if flag == UInt8(ascii: "%") { literal.append(flag); continue }
                if !literal.isEmpty { pieces.append(.literal(literal)); literal = [] }
                pieces.append(.flag(flag))
            } else {
                literal.append(b)
            }
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        self.pieces = pieces
    }

    func render(level: LogControl.Level, logger: String, message: String) -> [UInt8] {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var t = tm()
        gmtime_r(&seconds, &t)
        var out: [UInt8] = []
        func digits(_ v: Int, _ n: Int) {
            var s = String(v)
            while s.count < n { s = "0" + s }
            out.append(contentsOf: s.utf8)
        }
        for piece in pieces {
            switch piece {
            case .literal(let bytes): out.append(contentsOf: bytes)
            case .flag(let f):
                switch f {
                case UInt8(ascii: "Y"): digits(Int(t.tm_year) + 1900, 4)
                case UInt8(ascii: "m"): digits(Int(t.tm_mon) + 1, 2)
                case UInt8(ascii: "d"): digits(Int(t.tm_mday), 2)
                case UInt8(ascii: "H"): digits(Int(t.tm_hour), 2)
                case UInt8(ascii: "M"): digits(Int(t.tm_min), 2)
                case UInt8(ascii: "S"): digits(Int(t.tm_sec), 2)
                case UInt8(ascii: "e"): digits(Int(now.tv_nsec) / 1_000_000, 3)
                case UInt8(ascii: "f"): digits(Int(now.tv_nsec) / 1_000, 6)
                case UInt8(ascii: "F"): digits(Int(now.tv_nsec), 9)
                case UInt8(ascii: "T"):
                    digits(Int(t.tm_hour), 2); out.append(UInt8(ascii: ":"))
                    digits(Int(t.tm_min), 2); out.append(UInt8(ascii: ":"))
                    digits(Int(t.tm_sec), 2)
                case UInt8(ascii: "D"):
                    digits(Int(t.tm_mon) + 1, 2); out.append(UInt8(ascii: "/"))
                    digits(Int(t.tm_mday), 2); out.append(UInt8(ascii: "/"))
                    digits(Int(t.tm_year) % 100, 2)
                case UInt8(ascii: "t"): out.append(contentsOf: String(remora_thread_id()).utf8)
                case UInt8(ascii: "P"): out.append(contentsOf: String(getpid()).utf8)
                case UInt8(ascii: "l"): out.append(contentsOf: level.name.utf8)
                case UInt8(ascii: "L"): out.append(level.name.uppercased().utf8.first ?? UInt8(ascii: "?"))
                case UInt8(ascii: "n"): out.append(contentsOf: logger.utf8)
                case UInt8(ascii: "v"), UInt8(ascii: "_"): out.append(contentsOf: message.utf8)
                default: out.append(UInt8(ascii: "%")); out.append(f)
                }
            }
        }
        return out
    }
}
