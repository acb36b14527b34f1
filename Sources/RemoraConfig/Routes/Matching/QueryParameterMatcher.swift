import RemoraAPI

/// `envoy.config.route.v3.QueryParameterMatcher`, compiled.
///
/// Envoy's `ConfigUtility::QueryParameterMatcher`: the query is the text
/// after the first `?` of `:path`, split on `&`, each part `name=value` or a
/// bare `name` (value ""), not percent-decoded; only the first value of a
/// name is looked at. `present_match` compares presence (so `false` matches
/// an absent parameter); a string matcher needs the parameter present; with
/// neither, presence alone matches.
public struct QueryParameterMatcher: Sendable {
    public enum Kind: Sendable {
        case present(Bool)
        case string(StringMatcher)
    }

    public let name: String
    public let kind: Kind
    private let nameBytes: [UInt8]

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
        self.nameBytes = Array(name.utf8)
    }

    /// Matches against a whole `:path` (the query is found inside it).
    public func matches(path: UnsafeRawBufferPointer) -> Bool {
        let value = firstValue(in: path)
        switch kind {
        case .present(let present):
            return (value != nil) == present
        case .string(let matcher):
            guard let value else { return false }
            return matcher.matches(value)
        }
    }

    public func matches(path: String) -> Bool {
        ASCIIBytes.withBytes(path) { matches(path: $0) }
    }

    /// The first value of this parameter in `path`'s query, as a slice of it.
    func firstValue(in path: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard let question = path.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        var start = question + 1
        while start < path.count {
            var end = start
            while end < path.count, path[end] != UInt8(ascii: "&") { end += 1 }
            var equal = start
            while equal < end, path[equal] != UInt8(ascii: "=") { equal += 1 }
            let key = UnsafeRawBufferPointer(rebasing: path[start..<equal])
            if ASCIIBytes.equal(key, nameBytes, ignoreCase: false) {
                return equal < end ? UnsafeRawBufferPointer(rebasing: path[(equal + 1)..<end])
                                   : UnsafeRawBufferPointer(rebasing: path[end..<end])
            }
            start = end + 1
        }
        return nil
    }
}

extension QueryParameterMatcher {
    static func compile(_ config: Envoy_Config_Route_V3_QueryParameterMatcher, at path: String) throws(ConfigError) -> QueryParameterMatcher {
        try SupportedFields.require(config, only: ["name", "string_match", "present_match"], at: path)
        guard !config.name.isEmpty else { throw .missing(at: FieldPath.join(path, "name")) }
        guard config.name.utf8.count <= 1024 else {
            throw .invalid("value length must be at most 1024 bytes", at: FieldPath.join(path, "name"))
        }
        switch config.queryParameterMatchSpecifier {
        case .stringMatch(let m)?:
            return QueryParameterMatcher(name: config.name, kind: .string(try StringMatcher.compile(m, at: FieldPath.join(path, "string_match"))))
        case .presentMatch(let p)?:
            return QueryParameterMatcher(name: config.name, kind: .present(p))
        case nil:
            return QueryParameterMatcher(name: config.name, kind: .present(true))
        }
    }
}
