/// How route matching reads a request's headers. The runtime's header map
/// conforms; so can a response (for `retriable_headers`).
public protocol HeaderLookup {
    /// Every value of header `name` joined with `,` in arrival order, as
    /// Envoy's `getAllOfHeaderAsString` does; nil when the header is absent.
    ///
    /// `name` is lowercase. Pseudo-headers are asked for by their HTTP/2
    /// names: `:authority` (the Host header on HTTP/1), `:method`, `:path`,
    /// `:scheme`.
    func headerValue(lowercasedName name: String) -> String?
}

/// A request as route matching sees it, implemented by the HTTP runtime.
///
/// Path and authority are lent as bytes for the duration of a call, so that
/// the common case — a `prefix`/`path` route with no header or query
/// matchers — allocates nothing: no `String` is built, no closure escapes.
/// `headerValue` is only called for routes with header matchers (and for
/// `cluster_header` / `vhost_header`).
public protocol RouteRequest: HeaderLookup {
    /// Calls `body` with `:path` as received (path, query and all). The
    /// buffer is valid only inside `body`.
    func withPath<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result

    /// Calls `body` with the `:authority` / Host value, or nil when the
    /// request has none. The buffer is valid only inside `body`.
    func withAuthority<Result>(_ body: (UnsafeRawBufferPointer?) -> Result) -> Result
}

/// A `RouteRequest` over plain strings, for tests, the admin API and callers
/// that already hold `String`s. Header names are matched case-insensitively.
public struct SimpleRouteRequest: RouteRequest, Sendable {
    public var path: String
    public var authority: String?
    /// Regular headers and pseudo-headers (`:method`, `:scheme`), in order; repeats allowed.
    public var headers: [(name: String, value: String)]

    public init(path: String, authority: String? = nil, method: String = "GET", scheme: String = "http",
                headers: [(name: String, value: String)] = []) {
        self.path = path
        self.authority = authority
        self.headers = [(":method", method), (":scheme", scheme)] + headers
    }

    public func withPath<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        ASCIIBytes.withBytes(path, body)
    }

    public func withAuthority<Result>(_ body: (UnsafeRawBufferPointer?) -> Result) -> Result {
        guard let authority else { return body(nil) }
        return ASCIIBytes.withBytes(authority) { body($0) }
    }

    public func headerValue(lowercasedName name: String) -> String? {
        switch name {
        case ":path": return path
        case ":authority", "host": return authority
        default: break
        }
        var result: String? = nil
        for (n, v) in headers where n.lowercased() == name {
            result = result.map { $0 + "," + v } ?? v
        }
        return result
    }
}
