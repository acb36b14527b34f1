import RemoraAPI

/// `envoy.type.matcher.v3.RegexMatcher` → `CompiledRegex`, with Envoy's
/// program-size bound.
///
/// Envoy 1.40 (`source/common/common/regex.cc`): a regex whose RE2 program
/// size exceeds the runtime key `re2.max_program_size.error_level` (default
/// 100) is rejected; `re2.max_program_size.warn_level` (no default) only
/// warns. Remora has no runtime layers, so the limit is 100, unless the
/// deprecated `google_re2.max_program_size` is set, which replaces it (Envoy
/// then skips the runtime check and applies that value instead).
enum RegexCompiler {
    static let defaultMaxProgramSize = 100

    static func compile(_ matcher: Envoy_Type_Matcher_V3_RegexMatcher, at path: String) throws(ConfigError) -> CompiledRegex {
        try SupportedFields.require(matcher, only: ["google_re2", "regex"], at: path)
        var limit = defaultMaxProgramSize
        var explicitLimit = false
        if case .googleRe2(let engine)? = matcher.engineType {
            let enginePath = FieldPath.join(path, "google_re2")
            try SupportedFields.require(engine, only: ["max_program_size"], at: enginePath)
            if engine.hasMaxProgramSize {
                limit = Int(engine.maxProgramSize.value)
                explicitLimit = true
            }
        }
        return try compile(matcher.regex, maxProgramSize: limit, explicitLimit: explicitLimit, at: FieldPath.join(path, "regex"))
    }

    static func compile(
        _ pattern: String, maxProgramSize limit: Int = defaultMaxProgramSize, explicitLimit: Bool = false, at path: String
    ) throws(ConfigError) -> CompiledRegex {
        guard !pattern.isEmpty else { throw .invalid("value length must be at least 1 characters", at: path) }
        let regex: CompiledRegex
        do {
            regex = try CompiledRegex(pattern)
        } catch {
            throw .invalid(error.message, at: path)
        }
        if regex.programSize > limit {
            let threshold = explicitLimit ? "" : " set for the error level threshold"
            throw .invalid(
                "regex '\(pattern)' RE2 program size of \(regex.programSize) > max program size of \(limit)\(threshold). Increase configured max program size if necessary.",
                at: path)
        }
        return regex
    }

    /// `RegexMatchAndSubstitute`: the pattern and a substitution RE2 accepts for it.
    static func compileSubstitution(
        _ spec: Envoy_Type_Matcher_V3_RegexMatchAndSubstitute, at path: String
    ) throws(ConfigError) -> RegexSubstitution {
        try SupportedFields.require(spec, only: ["pattern", "substitution"], at: path)
        guard spec.hasPattern else { throw .missing(at: FieldPath.join(path, "pattern")) }
        let regex = try compile(spec.pattern, at: FieldPath.join(path, "pattern"))
        guard regex.isValidRewrite(spec.substitution) else {
            throw .invalid("invalid substitution '\(spec.substitution)' for regex '\(regex.pattern)' (a \\N names a group the regex lacks)",
                           at: FieldPath.join(path, "substitution"))
        }
        return RegexSubstitution(regex: regex, substitution: spec.substitution)
    }
}

/// `regex_rewrite`-style substitution: every match of `regex` in the input is
/// replaced by `substitution` (`\N` groups).
public struct RegexSubstitution: Sendable {
    public let regex: CompiledRegex
    public let substitution: String

    public func apply(to text: String) -> String {
        regex.replaceAll(in: text, with: substitution)
    }
}
