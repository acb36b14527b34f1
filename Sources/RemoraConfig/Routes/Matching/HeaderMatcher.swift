import RemoraAPI

/// `envoy.config.route.v3.HeaderMatcher`, compiled.
///
/// Semantics are Envoy's `HeaderUtility::matchHeaders`: the header's values
/// are joined with `,`; an absent header fails every match except
/// `present_match: false` (and, inverted, `present_match: true`), unless
/// `treat_missing_header_as_empty` makes it the empty string; `invert_match`
/// flips the result of the comparison.
public struct HeaderMatcher: Sendable {
    public enum Kind: Sendable {
        /// `present_match`; also a matcher with no specifier (`present: true`).
        case present(Bool)
        /// Legacy `exact_match`: an empty value matches any value.
        case exact(String)
        case string(StringMatcher)
        /// Legacy `safe_regex_match` (full match).
        case regex(CompiledRegex)
        /// `range_match`: the value parsed as a base-10 integer, in [start, end).
        case range(start: Int64, end: Int64)
    }

    /// Lowercase header name (pseudo-headers keep their `:`).
    public let name: String
    public let kind: Kind
    public let invert: Bool
    public let treatMissingAsEmpty: Bool

    public init(name: String, kind: Kind, invert: Bool = false, treatMissingAsEmpty: Bool = false) {
        self.name = name.lowercased()
        self.kind = kind
        self.invert = invert
        self.treatMissingAsEmpty = treatMissingAsEmpty
    }

    public func matches(_ headers: some HeaderLookup) -> Bool {
        let found = headers.headerValue(lowercasedName: name)
        guard let value = found ?? (treatMissingAsEmpty ? "" : nil) else {
            if case .present(let present) = kind {
                return invert ? present : !present
            }
            return false
        }
        return matches(value: value) != invert
    }

    /// The comparison alone (before `invert`), on a present value.
    public func matches(value: String) -> Bool {
        switch kind {
        case .present(let present):
            return present
        case .exact(let expected):
            return expected.isEmpty || value == expected
        case .string(let matcher):
            return matcher.matches(value)
        case .regex(let regex):
            return regex.fullMatch(value)
        case .range(let start, let end):
            guard let n = Self.parseInteger(value) else { return false }
            return n >= start && n < end
        }
    }

    /// `absl::SimpleAtoi`: optional surrounding ASCII whitespace, optional sign, decimal digits, no overflow.
    static func parseInteger(_ text: String) -> Int64? {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" }
        var s = Substring(text)
        while let f = s.first, isSpace(f) { s = s.dropFirst() }
        while let l = s.last, isSpace(l) { s = s.dropLast() }
        var negative = false
        if s.first == "+" || s.first == "-" {
            negative = s.first == "-"
            s = s.dropFirst()
        }
        guard !s.isEmpty, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        var value: Int64 = 0
        for b in s.utf8 {
            let digit = Int64(b - 0x30)
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (r, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
            guard !o1, !o2 else { return nil }
            value = r
        }
        return value
    }
}

extension HeaderMatcher {
    static func compile(_ config: Envoy_Config_Route_V3_HeaderMatcher, at path: String) throws(ConfigError) -> HeaderMatcher {
        try SupportedFields.require(config, only: [
            "name", "exact_match", "safe_regex_match", "range_match", "present_match", "prefix_match",
            "suffix_match", "contains_match", "string_match", "invert_match", "treat_missing_header_as_empty",
        ], at: path)
        guard !config.name.isEmpty else { throw .missing(at: FieldPath.join(path, "name")) }
        guard ASCIIBytes.isValidHeaderName(config.name) else {
            throw .invalid("invalid header name '\(config.name)'", at: FieldPath.join(path, "name"))
        }
        func nonEmpty(_ s: String, _ field: String) throws(ConfigError) -> String {
            guard !s.isEmpty else { throw .invalid("value length must be at least 1 characters", at: FieldPath.join(path, field)) }
            return s
        }
        let kind: Kind
        switch config.headerMatchSpecifier {
        case nil: kind = .present(true)
        case .exactMatch(let s)?: kind = .exact(s)
        case .safeRegexMatch(let r)?: kind = .regex(try RegexCompiler.compile(r, at: FieldPath.join(path, "safe_regex_match")))
        case .rangeMatch(let r)?:
            let rp = FieldPath.join(path, "range_match")
            try SupportedFields.require(r, only: ["start", "end"], at: rp)
            kind = .range(start: r.start, end: r.end)
        case .presentMatch(let p)?: kind = .present(p)
        case .prefixMatch(let s)?: kind = .string(StringMatcher(.prefix(try nonEmpty(s, "prefix_match"))))
        case .suffixMatch(let s)?: kind = .string(StringMatcher(.suffix(try nonEmpty(s, "suffix_match"))))
        case .containsMatch(let s)?: kind = .string(StringMatcher(.contains(try nonEmpty(s, "contains_match"))))
        case .stringMatch(let m)?: kind = .string(try StringMatcher.compile(m, at: FieldPath.join(path, "string_match")))
        }
        return HeaderMatcher(name: config.name, kind: kind, invert: config.invertMatch,
                             treatMissingAsEmpty: config.treatMissingHeaderAsEmpty)
    }
}
