/// One level's `request_headers_to_add`/`_remove` (or the response pair):
/// a route's, a virtual host's, a route configuration's or a weighted
/// cluster's.
///
/// The router applies a route's mutations in the order of
/// `MatchedRoute.requestHeaderMutations`, each one as Envoy's
/// `HeaderParser::evaluateHeaders` does:
/// 1. remove every header named in `remove`;
/// 2. render every value of `add` against the headers as they are now
///    (after the removals, before any addition of this level); skip a value
///    that renders empty unless `keepEmptyValue`;
/// 3. apply the overwrites (`overwriteIfExistsOrAdd`, and
///    `overwriteIfExists` when the header was present, checked in step 2),
///    then the appends (`appendIfExistsOrAdd` adds another header line;
///    `addIfAbsent` adds only when the header was absent in step 2).
public struct HeaderMutation: Sendable {
    /// Lowercase names to remove.
    public let remove: [String]
    public let add: [HeaderAddition]

    public var isEmpty: Bool { remove.isEmpty && add.isEmpty }

    public init(remove: [String] = [], add: [HeaderAddition] = []) {
        self.remove = remove
        self.add = add
    }
}

public struct HeaderAddition: Sendable {
    /// Lowercase header name.
    public let name: String
    public let value: HeaderValueTemplate
    public let action: HeaderAppendAction
    /// `keep_empty_value`: add the header even when the value renders empty.
    public let keepEmptyValue: Bool
}

/// `HeaderValueOption.append_action` (the deprecated `append: true` is
/// `appendIfExistsOrAdd`, `append: false` is `overwriteIfExistsOrAdd`).
public enum HeaderAppendAction: Sendable, Equatable {
    /// Add another value (a new header line) whether or not one exists. Envoy's default.
    case appendIfExistsOrAdd
    /// Add only if the header is absent.
    case addIfAbsent
    /// Replace all values, or add.
    case overwriteIfExistsOrAdd
    /// Replace all values if present; do nothing otherwise.
    case overwriteIfExists
}
