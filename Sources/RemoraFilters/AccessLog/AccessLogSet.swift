import RemoraConfig
import RemoraCore

/// The loggers of one `access_log` list on one worker: formatters compiled
/// once, filters with their flag masks, the files' buffers of this worker's
/// thread, and one scratch line reused for every entry.
public final class AccessLogSet {
    struct Entry {
        let formatter: AccessLogFormatter
        let filter: Filter?
        let file: AccessLogFile
    }

    indirect enum Filter {
        case statusCode(AccessLogFilter.Comparison)
        case duration(AccessLogFilter.Comparison)
        case notHealthCheck
        /// Any flag of the mask (any flag at all when the mask is empty).
        case responseFlags(ResponseFlag)
        case and([Filter])
        case or([Filter])

        init(_ config: AccessLogFilter) {
            switch config {
            case .statusCode(let c): self = .statusCode(c)
            case .duration(let c): self = .duration(c)
            case .notHealthCheck: self = .notHealthCheck
            case .responseFlags(let names): self = .responseFlags(ResponseFlag(shortNames: names))
            case .and(let all): self = .and(all.map(Filter.init))
            case .or(let any): self = .or(any.map(Filter.init))
            }
        }

        func matches(_ input: AccessLogInput) -> Bool {
            switch self {
            case .statusCode(let c): return c.matches(UInt64(input.info.responseCode ?? 0))
            case .duration(let c): return c.matches(input.endMilliseconds &- input.info.startMilliseconds)
            case .notHealthCheck: return !input.info.isHealthCheck
            case .responseFlags(let mask):
                return mask.isEmpty ? !input.info.responseFlags.isEmpty : !input.info.responseFlags.isDisjoint(with: mask)
            case .and(let all): return all.allSatisfy { $0.matches(input) }
            case .or(let any): return any.contains { $0.matches(input) }
            }
        }
    }

    private let entries: [Entry]
    private let thread: Int
    private var line: [UInt8] = []
    /// Some format prints response headers or trailers: the stream keeps them.
    public let needsResponseHeaders: Bool

    public init(_ list: AccessLogList, files: AccessLogFiles, thread: Int) throws(AccessLogFileError) {
        var entries: [Entry] = []
        var needsResponse = false
        for config in list.entries {
            entries.append(Entry(formatter: AccessLogFormatter(format: config.format), filter: config.filter.map(Filter.init),
                                 file: try files.file(path: config.destination.path)))
            needsResponse = needsResponse || config.format.operators.contains { op in
                switch op {
                case .responseHeader, .responseTrailer: true
                default: false
                }
            }
        }
        self.entries = entries
        self.thread = thread
        self.needsResponseHeaders = needsResponse
    }

    /// Writes one line to each log whose filter takes `input`.
    public func log(_ input: AccessLogInput) {
        for entry in entries {
            if let filter = entry.filter, !filter.matches(input) { continue }
            line.removeAll(keepingCapacity: true)
            entry.formatter.render(input, into: &line)
            line.withUnsafeBytes { entry.file.append($0, thread: thread) }
        }
        if line.capacity > 64 * 1024 { line = [] }
    }
}

/// A worker's access-log sets, one per `access_log` list, made on first use.
public final class WorkerAccessLogs {
    private let files: AccessLogFiles?
    private let thread: Int
    private var sets: [Int: AccessLogSet] = [:]

    public init(files: AccessLogFiles?, thread: Int) {
        self.files = files
        self.thread = thread
    }

    /// The set for `list`, nil when it is empty (or its file cannot be
    /// opened; the server opened every file at start-up, so that means it
    /// failed there already).
    public func set(for list: AccessLogList) -> AccessLogSet? {
        guard !list.isEmpty, let files else { return nil }
        if let existing = sets[list.id] { return existing }
        guard let made = try? AccessLogSet(list, files: files, thread: thread) else { return nil }
        sets[list.id] = made
        return made
    }
}
