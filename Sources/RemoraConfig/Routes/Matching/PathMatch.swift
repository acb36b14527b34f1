/// How a route matches `:path`: Envoy's `prefix`, `path`, `safe_regex` and
/// `path_separated_prefix`.
///
/// Envoy's `PathMatcher` drops the query and fragment before comparing, so
/// `prefix: /a` matches `/a?x=1` and `path: /a` does too, and a regex must
/// match the path without its query. `case_sensitive: false` folds ASCII
/// case for every kind but regex (which has its own `(?i)`).
public struct PathMatch: Sendable {
    public enum Kind: Sendable {
        case prefix(String)
        case exact(String)
        case regex(CompiledRegex)
        /// `path_separated_prefix`: the prefix, then end of path or `/`.
        case pathSeparatedPrefix(String)
        /// `connect_matcher`: any path; the route matches CONNECT requests only.
        case connect
    }

    /// `connect_matcher`.
    public var isConnect: Bool {
        if case .connect = kind { return true }
        return false
    }

    public let kind: Kind
    public let caseSensitive: Bool
    /// Prefix/exact text, lowercased when case-insensitive.
    private let bytes: [UInt8]

    public init(_ kind: Kind, caseSensitive: Bool = true) {
        self.kind = kind
        self.caseSensitive = caseSensitive
        switch kind {
        case .prefix(let s), .exact(let s), .pathSeparatedPrefix(let s):
            bytes = caseSensitive ? Array(s.utf8) : ASCIIBytes.lowercased(s)
        case .regex, .connect:
            bytes = []
        }
    }

    /// Matches a `:path` as received. `ignorePathParameters` is the route
    /// configuration's `ignore_path_parameters_in_path_matching`: everything
    /// from the first `;` is ignored.
    public func matches(_ path: UnsafeRawBufferPointer, ignorePathParameters: Bool = false) -> Bool {
        var p = path
        if ignorePathParameters, let semicolon = p.firstIndex(of: UInt8(ascii: ";")) {
            p = UnsafeRawBufferPointer(rebasing: p[..<semicolon])
        }
        p = ASCIIBytes.pathWithoutQuery(p)
        switch kind {
        case .prefix:
            return ASCIIBytes.hasPrefix(p, bytes, ignoreCase: !caseSensitive)
        case .exact:
            return ASCIIBytes.equal(p, bytes, ignoreCase: !caseSensitive)
        case .regex(let regex):
            return regex.fullMatch(p)
        case .pathSeparatedPrefix:
            guard ASCIIBytes.hasPrefix(p, bytes, ignoreCase: !caseSensitive) else { return false }
            return p.count == bytes.count || p[bytes.count] == UInt8(ascii: "/")
        case .connect:
            return true
        }
    }

    public func matches(_ path: String, ignorePathParameters: Bool = false) -> Bool {
        ASCIIBytes.withBytes(path) { matches($0, ignorePathParameters: ignorePathParameters) }
    }

    /// How many leading bytes of the path a `prefix_rewrite` replaces: the
    /// configured prefix/path for those kinds, the whole path without its
    /// query for a regex (Envoy's `matched_path`).
    func rewrittenLength(of path: UnsafeRawBufferPointer) -> Int {
        switch kind {
        case .prefix, .exact, .pathSeparatedPrefix:
            return min(bytes.count, path.count)
        case .regex:
            return ASCIIBytes.pathWithoutQuery(path).count
        case .connect:
            return 0
        }
    }
}
