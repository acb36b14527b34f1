/// A configuration that cannot be honoured: where (the field path, in
/// Envoy's snake_case with `[i]` indices) and why. Shown to users as
/// `path: reason`; for xDS it becomes the NACK's error detail.
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    private enum Code: Equatable, Sendable {
        case syntax, unknownField, invalidValue, unsupported, missing, io
    }

    private let code: Code
    /// Field path such as `static_resources.listeners[0].address`; empty for the whole document.
    public let path: String
    public let reason: String

    private init(_ code: Code, _ path: String, _ reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    public static func syntax(_ reason: String, at path: String = "") -> ConfigError { .init(.syntax, path, reason) }
    public static func unknownField(at path: String) -> ConfigError { .init(.unknownField, path, "unknown field") }
    public static func invalid(_ reason: String, at path: String) -> ConfigError { .init(.invalidValue, path, reason) }
    public static func unsupported(_ reason: String, at path: String) -> ConfigError { .init(.unsupported, path, reason) }
    public static func missing(at path: String) -> ConfigError { .init(.missing, path, "required field is missing") }
    public static func io(_ reason: String) -> ConfigError { .init(.io, "", reason) }

    public var isUnsupported: Bool { code == .unsupported }
    public var isUnknownField: Bool { code == .unknownField }

    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}

/// Builds field paths: `a.b[2].c`.
struct FieldPath {
    static func join(_ base: String, _ field: String) -> String {
        base.isEmpty ? field : "\(base).\(field)"
    }

    static func index(_ base: String, _ i: Int) -> String { "\(base)[\(i)]" }

    static func key(_ base: String, _ key: String) -> String { "\(base)[\"\(key)\"]" }
}
