import RemoraAPI
import SwiftProtobuf
import Synchronization

/// The `access_log` list of one connection manager, `tcp_proxy` or
/// listener. `id` tells lists apart (workers keep one set of loggers per
/// list); equality compares the entries.
public struct AccessLogList: Sendable, Equatable {
    public let id: Int
    public let entries: [AccessLogConfig]

    public static let none = AccessLogList(id: 0, entries: [])
    private static let nextID = Atomic<Int>(1)

    init(_ entries: [AccessLogConfig]) {
        self.init(id: entries.isEmpty ? 0 : Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue, entries: entries)
    }

    private init(id: Int, entries: [AccessLogConfig]) {
        self.id = id
        self.entries = entries
    }

    public var isEmpty: Bool { entries.isEmpty }

    public static func == (a: AccessLogList, b: AccessLogList) -> Bool { a.entries == b.entries }
}

/// One `access_log` entry: where lines go, their format, and which
/// requests or connections are logged.
public struct AccessLogConfig: Sendable, Equatable {
    public enum Destination: Sendable, Hashable {
        /// `envoy.access_loggers.file` (`/dev/stdout` and `/dev/stderr` included).
        case file(String)
        /// `envoy.access_loggers.stdout`.
        case stdout
        /// `envoy.access_loggers.stderr`.
        case stderr

        /// The path written to.
        public var path: String {
            switch self {
            case .file(let path): path
            case .stdout: "/dev/stdout"
            case .stderr: "/dev/stderr"
            }
        }
    }

    public var destination: Destination
    public var format: AccessLogFormat
    public var filter: AccessLogFilter?
}

/// Envoy's `AccessLogFilter`s that Remora evaluates.
public indirect enum AccessLogFilter: Sendable, Equatable {
    public enum Comparison: Sendable, Equatable {
        case equal(UInt32)
        case atLeast(UInt32)
        case atMost(UInt32)
        case notEqual(UInt32)

        public func matches(_ value: UInt64) -> Bool {
            switch self {
            case .equal(let v): value == UInt64(v)
            case .atLeast(let v): value >= UInt64(v)
            case .atMost(let v): value <= UInt64(v)
            case .notEqual(let v): value != UInt64(v)
            }
        }
    }

    /// `status_code_filter` (a request without a response code compares as 0).
    case statusCode(Comparison)
    /// `duration_filter`, on the total duration in milliseconds.
    case duration(Comparison)
    /// `not_health_check_filter`: passes every request that the
    /// `health_check` HTTP filter did not take for a health check.
    case notHealthCheck
    /// `response_flag_filter`: any of these short flags (any flag at all when empty).
    case responseFlags([String])
    case and([AccessLogFilter])
    case or([AccessLogFilter])
}

enum AccessLogCompiler {
    static let fileType = Envoy_Extensions_AccessLoggers_File_V3_FileAccessLog.protoMessageName
    static let stdoutType = Envoy_Extensions_AccessLoggers_Stream_V3_StdoutAccessLog.protoMessageName
    static let stderrType = Envoy_Extensions_AccessLoggers_Stream_V3_StderrAccessLog.protoMessageName

    /// Envoy's response flag short names (`response_flag_filter.flags` accepts these).
    static let responseFlagNames: Set<String> = [
        "LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "RLSE", "DC", "URX", "SI",
        "IH", "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF", "DO", "DR",
    ]

    static func compile(_ logs: [Envoy_Config_Accesslog_V3_AccessLog], at path: String) throws(ConfigError) -> AccessLogList {
        var result: [AccessLogConfig] = []
        for (i, log) in logs.enumerated() {
            let lp = FieldPath.index(path, i)
            try SupportedFields.require(log, only: ["name", "typed_config", "filter"], at: lp)
            guard case .typedConfig(let any)? = log.configType else { throw .missing(at: FieldPath.join(lp, "typed_config")) }
            let tp = FieldPath.join(lp, "typed_config")
            let destination: AccessLogConfig.Destination
            let format: AccessLogFormat
            switch TypeURL.messageName(any.typeURL) {
            case fileType:
                let file = try TypeURL.unpack(Envoy_Extensions_AccessLoggers_File_V3_FileAccessLog.self, from: any, at: tp)
                try SupportedFields.require(file, only: ["path", "log_format"], at: tp)
                guard !file.path.isEmpty else { throw .invalid("value length must be at least 1 characters", at: FieldPath.join(tp, "path")) }
                destination = file.path == "/dev/stdout" ? .stdout : (file.path == "/dev/stderr" ? .stderr : .file(file.path))
                format = try compileFormat(logFormat(file.accessLogFormat), at: FieldPath.join(tp, "log_format"))
            case stdoutType:
                let stream = try TypeURL.unpack(Envoy_Extensions_AccessLoggers_Stream_V3_StdoutAccessLog.self, from: any, at: tp)
                try SupportedFields.require(stream, only: ["log_format"], at: tp)
                destination = .stdout
                format = try compileFormat(logFormat(stream.accessLogFormat), at: FieldPath.join(tp, "log_format"))
            case stderrType:
                let stream = try TypeURL.unpack(Envoy_Extensions_AccessLoggers_Stream_V3_StderrAccessLog.self, from: any, at: tp)
                try SupportedFields.require(stream, only: ["log_format"], at: tp)
                destination = .stderr
                format = try compileFormat(logFormat(stream.accessLogFormat), at: FieldPath.join(tp, "log_format"))
            case let other:
                throw .unsupported("unsupported access logger type \(other)", at: tp)
            }
            let filter = log.hasFilter ? try compileFilter(log.filter, at: FieldPath.join(lp, "filter")) : nil
            result.append(AccessLogConfig(destination: destination, format: format, filter: filter))
        }
        return AccessLogList(result)
    }

    private static func logFormat(_ format: Envoy_Extensions_AccessLoggers_File_V3_FileAccessLog.OneOf_AccessLogFormat?)
        -> Envoy_Config_Core_V3_SubstitutionFormatString? {
        if case .logFormat(let f)? = format { f } else { nil }
    }

    private static func logFormat(_ format: Envoy_Extensions_AccessLoggers_Stream_V3_StdoutAccessLog.OneOf_AccessLogFormat?)
        -> Envoy_Config_Core_V3_SubstitutionFormatString? {
        if case .logFormat(let f)? = format { f } else { nil }
    }

    private static func logFormat(_ format: Envoy_Extensions_AccessLoggers_Stream_V3_StderrAccessLog.OneOf_AccessLogFormat?)
        -> Envoy_Config_Core_V3_SubstitutionFormatString? {
        if case .logFormat(let f)? = format { f } else { nil }
    }

    static func compileFormat(_ source: Envoy_Config_Core_V3_SubstitutionFormatString?, at path: String) throws(ConfigError) -> AccessLogFormat {
        guard let source else {
            return AccessLogFormat(body: .text(try parse(AccessLogFormat.envoyDefaultText, at: path)))
        }
        try SupportedFields.require(source, only: ["text_format", "json_format", "text_format_source", "omit_empty_values"], at: path)
        let body: AccessLogFormat.Body
        switch source.format {
        case .textFormat(let text)?:
            body = .text(try parse(text, at: FieldPath.join(path, "text_format")))
        case .textFormatSource(let data)?:
            let sp = FieldPath.join(path, "text_format_source")
            body = .text(try parse(String(decoding: try DataSourceReader.read(data, at: sp), as: UTF8.self), at: sp))
        case .jsonFormat(let object)?:
            body = .json(try jsonObject(object, at: FieldPath.join(path, "json_format")))
        case nil:
            throw .invalid("one of text_format, json_format or text_format_source is required", at: path)
        }
        return AccessLogFormat(body: body, omitEmptyValues: source.omitEmptyValues)
    }

    private static func parse(_ text: String, at path: String) throws(ConfigError) -> [AccessLogSegment] {
        do {
            return try AccessLogFormat.parseText(text)
        } catch {
            throw .invalid(error.message, at: path)
        }
    }

    /// A `json_format` Struct: keys sorted (as Envoy prints them), string
    /// values parsed as formats, nested objects kept.
    private static func jsonObject(_ object: Google_Protobuf_Struct, at path: String) throws(ConfigError) -> [(String, AccessLogJSONValue)] {
        var entries: [(String, AccessLogJSONValue)] = []
        for key in object.fields.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            let vp = FieldPath.join(path, key)
            guard let value = object.fields[key] else { continue }
            switch value.kind {
            case .stringValue(let text)?: entries.append((key, .text(try parse(text, at: vp))))
            case .numberValue(let n)?: entries.append((key, .number(n)))
            case .boolValue(let b)?: entries.append((key, .bool(b)))
            case .nullValue?, nil: entries.append((key, .null))
            case .structValue(let nested)?: entries.append((key, .object(try jsonObject(nested, at: vp))))
            case .listValue?:
                throw .unsupported("lists in json_format are not implemented", at: vp)
            }
        }
        return entries
    }

    static func compileFilter(_ filter: Envoy_Config_Accesslog_V3_AccessLogFilter, at path: String) throws(ConfigError) -> AccessLogFilter {
        func comparison(_ c: Envoy_Config_Accesslog_V3_ComparisonFilter, at cp: String) throws(ConfigError) -> AccessLogFilter.Comparison {
            try SupportedFields.require(c, only: ["op", "value"], at: cp)
            guard c.hasValue else { throw .missing(at: FieldPath.join(cp, "value")) }
            let value = c.value.defaultValue
            switch c.op {
            case .eq: return .equal(value)
            case .ge: return .atLeast(value)
            case .le: return .atMost(value)
            case .ne: return .notEqual(value)
            case .UNRECOGNIZED(let n): throw .invalid("unknown comparison op \(n)", at: FieldPath.join(cp, "op"))
            }
        }
        func many(_ filters: [Envoy_Config_Accesslog_V3_AccessLogFilter], at fp: String) throws(ConfigError) -> [AccessLogFilter] {
            // Envoy's rule: `min_items: 2`.
            guard filters.count >= 2 else { throw .invalid("value must contain at least 2 item(s)", at: FieldPath.join(fp, "filters")) }
            var result: [AccessLogFilter] = []
            for (i, f) in filters.enumerated() {
                result.append(try compileFilter(f, at: FieldPath.index(FieldPath.join(fp, "filters"), i)))
            }
            return result
        }
        switch filter.filterSpecifier {
        case .statusCodeFilter(let f)?:
            let fp = FieldPath.join(path, "status_code_filter")
            guard f.hasComparison else { throw .missing(at: FieldPath.join(fp, "comparison")) }
            return .statusCode(try comparison(f.comparison, at: FieldPath.join(fp, "comparison")))
        case .durationFilter(let f)?:
            let fp = FieldPath.join(path, "duration_filter")
            guard f.hasComparison else { throw .missing(at: FieldPath.join(fp, "comparison")) }
            return .duration(try comparison(f.comparison, at: FieldPath.join(fp, "comparison")))
        case .notHealthCheckFilter?:
            return .notHealthCheck
        case .responseFlagFilter(let f)?:
            let fp = FieldPath.join(path, "response_flag_filter")
            for (i, flag) in f.flags.enumerated() where !responseFlagNames.contains(flag) {
                throw .invalid("value must be in list \(responseFlagNames.sorted())", at: FieldPath.index(FieldPath.join(fp, "flags"), i))
            }
            return .responseFlags(f.flags)
        case .andFilter(let f)?:
            return .and(try many(f.filters, at: FieldPath.join(path, "and_filter")))
        case .orFilter(let f)?:
            return .or(try many(f.filters, at: FieldPath.join(path, "or_filter")))
        case .runtimeFilter?:
            throw .unsupported("runtime_filter is not implemented (Remora has no runtime)", at: FieldPath.join(path, "runtime_filter"))
        case .traceableFilter?:
            throw .unsupported("traceable_filter is not implemented (no tracing yet)", at: FieldPath.join(path, "traceable_filter"))
        case .headerFilter?:
            throw .unsupported("header_filter is not implemented", at: FieldPath.join(path, "header_filter"))
        case .grpcStatusFilter?:
            throw .unsupported("grpc_status_filter is not implemented", at: FieldPath.join(path, "grpc_status_filter"))
        case .extensionFilter?:
            throw .unsupported("extension_filter is not implemented", at: FieldPath.join(path, "extension_filter"))
        case .metadataFilter?:
            throw .unsupported("metadata_filter is not implemented", at: FieldPath.join(path, "metadata_filter"))
        case .logTypeFilter?:
            throw .unsupported("log_type_filter is not implemented", at: FieldPath.join(path, "log_type_filter"))
        case nil:
            throw .missing(at: path)
        }
    }
}
