/// The result of `RouteTable.route(for:)`: the virtual host, the route, and
/// for a forwarding route the cluster chosen for this request.
///
/// A value type over shared immutable config; computing it retains two
/// objects and allocates nothing unless the cluster comes from a header.
public struct MatchedRoute: Sendable {
    public let virtualHost: VirtualHost
    public let route: RouteEntry
    /// For `.forward`: the cluster to use. Empty when `cluster_header` (or a
    /// weighted entry's) named no cluster: the router then answers with
    /// `cluster_not_found_response_code`. Nil for redirects and direct responses.
    public let clusterName: String?
    /// For weighted clusters: the index of the chosen entry.
    public let weightedClusterIndex: Int?

    init<R: RouteRequest>(virtualHost: VirtualHost, route: RouteEntry, request: R, randomValue: UInt64) {
        self.virtualHost = virtualHost
        self.route = route
        guard case .forward(let forward) = route.action else {
            clusterName = nil
            weightedClusterIndex = nil
            return
        }
        switch forward.cluster {
        case .cluster(let name):
            clusterName = name
            weightedClusterIndex = nil
        case .clusterHeader(let header):
            clusterName = Self.firstValue(request.headerValue(lowercasedName: header)) ?? ""
            weightedClusterIndex = nil
        case .weighted(let weighted):
            var value = randomValue
            if let header = weighted.randomValueHeader,
               let text = request.headerValue(lowercasedName: header), let parsed = UInt64(text) {
                value = parsed
            }
            let index = weighted.pick(randomValue: value)
            let entry = weighted.entries[index]
            if let header = entry.clusterHeader, let named = Self.firstValue(request.headerValue(lowercasedName: header)) {
                clusterName = named
            } else {
                clusterName = entry.name
            }
            weightedClusterIndex = index
        }
    }

    /// Only the first value of an untrusted header is used (Envoy's API docs);
    /// values arrive joined with `,`.
    private static func firstValue(_ joined: String?) -> String? {
        guard let joined else { return nil }
        if let comma = joined.firstIndex(of: ",") { return String(joined[..<comma]) }
        return joined
    }

    public var forwardAction: ForwardAction? {
        if case .forward(let f) = route.action { return f }
        return nil
    }

    private var weightedEntry: WeightedClusters.Entry? {
        guard let index = weightedClusterIndex, case .forward(let f) = route.action,
              case .weighted(let w) = f.cluster else { return nil }
        return w.entries[index]
    }

    /// Request header mutations in application order (see `HeaderMutation`):
    /// a weighted entry's own first, then the route's, virtual host's and
    /// route configuration's in the configured specificity order.
    public var requestHeaderMutations: [HeaderMutation] {
        weightedEntry?.requestHeaderMutations ?? route.requestHeaderMutations
    }

    public var responseHeaderMutations: [HeaderMutation] {
        weightedEntry?.responseHeaderMutations ?? route.responseHeaderMutations
    }

    /// Whether the router must set `:authority` to the upstream host's
    /// hostname after picking a host (`auto_host_rewrite`).
    public var autoHostRewrite: Bool {
        if case .auto? = forwardAction?.hostRewrite { return true }
        return false
    }

    /// The new `:authority` for a forwarded request, or nil to keep it.
    /// Covers `host_rewrite_literal`, `host_rewrite_header`,
    /// `host_rewrite_path_regex` and a weighted entry's
    /// `host_rewrite_literal` (the route's rewrite, applied after it in
    /// Envoy, wins). `auto_host_rewrite` is the router's (see `autoHostRewrite`).
    public func rewrittenHost<R: RouteRequest>(for request: R) -> String? {
        guard let forward = forwardAction else { return nil }
        switch forward.hostRewrite {
        case .literal(let host)?:
            return host
        case .header(let name)?:
            if let value = Self.firstValue(request.headerValue(lowercasedName: name)), !value.isEmpty { return value }
        case .pathRegex(let substitution)?:
            let path = request.withPath { String(decoding: ASCIIBytes.pathWithoutQuery($0), as: UTF8.self) }
            return substitution.apply(to: path)
        case .auto?, nil:
            break
        }
        return weightedEntry?.hostRewriteLiteral
    }

    /// The new `:path` for a forwarded request (`prefix_rewrite` or
    /// `regex_rewrite`), or nil when the route rewrites nothing. The query
    /// is kept. The router also sets `x-envoy-original-path` to the old path
    /// unless `suppress_envoy_headers`.
    public func rewrittenPath<R: RouteRequest>(for request: R) -> String? {
        guard let rewrite = forwardAction?.pathRewrite else { return nil }
        return request.withPath { path in Self.rewrite(path, rewrite: rewrite, match: route.path) }
    }

    static func rewrite(_ path: UnsafeRawBufferPointer, rewrite: PathRewrite, match: PathMatch) -> String {
        switch rewrite {
        case .prefix(let replacement):
            let cut = match.rewrittenLength(of: path)
            return replacement + String(decoding: UnsafeRawBufferPointer(rebasing: path[cut...]), as: UTF8.self)
        case .regex(let substitution):
            let justPath = ASCIIBytes.pathWithoutQuery(path)
            let rest = UnsafeRawBufferPointer(rebasing: path[justPath.count...])
            return substitution.apply(to: String(decoding: justPath, as: UTF8.self)) + String(decoding: rest, as: UTF8.self)
        }
    }

    /// The `location` of a redirect route, as Envoy's `newUri` builds it.
    ///
    /// - Parameters:
    ///   - scheme: the request's `:scheme` (used when the route keeps the scheme).
    ///   - forwardedProto: `x-forwarded-proto` as the connection manager set
    ///     it; decides whether a default port (`:80` for http, `:443` for
    ///     https) is dropped when the scheme changes.
    public func redirectLocation<R: RouteRequest>(for request: R, scheme: String, forwardedProto: String) -> String? {
        guard case .redirect(let redirect) = route.action else { return nil }
        let finalScheme = redirect.scheme ?? scheme
        let finalPort = redirect.port.map { ":\($0)" } ?? ""
        let finalHost: String
        if let host = redirect.host {
            finalHost = host
        } else {
            let original = request.withAuthority { $0.map { String(decoding: $0, as: UTF8.self) } } ?? ""
            finalHost = Self.processRequestHost(original, newScheme: finalScheme, newPort: finalPort, forwardedProto: forwardedProto)
        }
        var currentPath = request.withPath { String(decoding: $0, as: UTF8.self) }
        var pathRedirectHasQuery = false
        switch redirect.path {
        case .prefix(let replacement)?:
            currentPath = request.withPath { Self.rewrite($0, rewrite: .prefix(replacement), match: route.path) }
        case .regex(let substitution)?:
            currentPath = request.withPath { Self.rewrite($0, rewrite: .regex(substitution), match: route.path) }
        case .path(let newPath)?:
            if newPath.contains("?") {
                pathRedirectHasQuery = true
                currentPath = newPath
            } else if let question = currentPath.firstIndex(of: "?") {
                currentPath = newPath + currentPath[question...]
            } else {
                currentPath = newPath
            }
        case nil:
            break
        }
        if !currentPath.hasPrefix("/") { currentPath = "/" + currentPath }
        if !pathRedirectHasQuery, redirect.stripQuery, let question = currentPath.firstIndex(of: "?") {
            currentPath = String(currentPath[..<question])
        }
        return "\(finalScheme)://\(finalHost)\(finalPort)\(currentPath)"
    }

    /// Envoy's `processRequestHost`: drop the request's port when the
    /// redirect sets one, or when the scheme changes away from the
    /// forwarded protocol whose default port it is.
    static func processRequestHost(_ host: String, newScheme: String, newPort: String, forwardedProto: String) -> String {
        guard !host.isEmpty else { return host }
        let bytes = Array(host.utf8)
        var hostEnd: Int? = nil
        if bytes[0] == UInt8(ascii: "[") {
            // IPv6 literal: a port follows "]:".
            if let close = bytes.lastIndex(of: UInt8(ascii: "]")), close + 1 < bytes.count, bytes[close + 1] == UInt8(ascii: ":") {
                hostEnd = close + 1
            }
        } else {
            hostEnd = bytes.lastIndex(of: UInt8(ascii: ":"))
        }
        guard let hostEnd else { return host }
        let port = String(decoding: bytes[hostEnd...], as: UTF8.self)
        var removePort = !newPort.isEmpty
        if newScheme != forwardedProto {
            removePort = removePort || (forwardedProto == "https" && port == ":443")
            removePort = removePort || (forwardedProto == "http" && port == ":80")
        }
        return removePort ? String(decoding: bytes[..<hostEnd], as: UTF8.self) : host
    }
}
