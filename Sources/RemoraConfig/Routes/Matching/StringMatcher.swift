import RemoraAPI

/// `envoy.type.matcher.v3.StringMatcher`, compiled: exact, prefix, suffix,
/// contains or RE2 full match, optionally ignoring ASCII case (not for regex).
///
/// Immutable and `Sendable`; matches byte slices or strings without copying.
public struct StringMatcher: Sendable {
    public enum Pattern: Sendable {
        case exact(String)
        case prefix(String)
        case suffix(String)
        case contains(String)
        case regex(CompiledRegex)
    }

    public let pattern: Pattern
    public let ignoreCase: Bool
    /// The pattern's bytes, lowercased when `ignoreCase`.
    private let bytes: [UInt8]

    public init(_ pattern: Pattern, ignoreCase: Bool = false) {
        self.pattern = pattern
        self.ignoreCase = ignoreCase
        switch pattern {
        case .exact(let s), .prefix(let s), .suffix(let s), .contains(let s):
            bytes = ignoreCase ? ASCIIBytes.lowercased(s) : Array(s.utf8)
        case .regex:
            bytes = []
        }
    }

    public func matches(_ value: UnsafeRawBufferPointer) -> Bool {
        switch pattern {
        case .exact: return ASCIIBytes.equal(value, bytes, ignoreCase: ignoreCase)
        case .prefix: return ASCIIBytes.hasPrefix(value, bytes, ignoreCase: ignoreCase)
        case .suffix: return ASCIIBytes.hasSuffix(value, bytes, ignoreCase: ignoreCase)
        case .contains: return ASCIIBytes.contains(value, bytes, ignoreCase: ignoreCase)
        case .regex(let regex): return regex.fullMatch(value)
        }
    }

    public func matches(_ value: String) -> Bool {
        ASCIIBytes.withBytes(value) { matches($0) }
    }
}

extension StringMatcher {
    /// Envoy's `StringMatcherImpl` checks: `ignore_case` has no effect on
    /// `safe_regex` (rejected), prefix/suffix/contains need at least one
    /// byte, `custom` matchers are extensions Remora does not have.
    static func compile(_ matcher: Envoy_Type_Matcher_V3_StringMatcher, at path: String) throws(ConfigError) -> StringMatcher {
        try SupportedFields.require(matcher, only: ["exact", "prefix", "suffix", "safe_regex", "contains", "ignore_case"], at: path)
        func nonEmpty(_ s: String, _ field: String) throws(ConfigError) -> String {
            guard !s.isEmpty else { throw .invalid("value length must be at least 1 characters", at: FieldPath.join(path, field)) }
            return s
        }
        switch matcher.matchPattern {
        case .exact(let s)?:
            return StringMatcher(.exact(s), ignoreCase: matcher.ignoreCase)
        case .prefix(let s)?:
            return StringMatcher(.prefix(try nonEmpty(s, "prefix")), ignoreCase: matcher.ignoreCase)
        case .suffix(let s)?:
            return StringMatcher(.suffix(try nonEmpty(s, "suffix")), ignoreCase: matcher.ignoreCase)
        case .contains(let s)?:
            return StringMatcher(.contains(try nonEmpty(s, "contains")), ignoreCase: matcher.ignoreCase)
        case .safeRegex(let regex)?:
            if matcher.ignoreCase {
                throw .invalid("ignore_case has no effect for safe_regex.", at: FieldPath.join(path, "ignore_case"))
            }
            return StringMatcher(.regex(try RegexCompiler.compile(regex, at: FieldPath.join(path, "safe_regex"))))
        case .custom?:
            throw .unsupported("custom string matchers are not implemented", at: FieldPath.join(path, "custom"))
        case nil:
            throw .invalid("one of exact, prefix, suffix, contains or safe_regex is required", at: path)
        }
    }
}
