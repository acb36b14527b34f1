import RemoraAPI

/// `envoy.config.route.v3.Route` → `RouteEntry`.
enum RouteCompiler {
    static func compile(
        _ route: Envoy_Config_Route_V3_Route, at path: @autoclosure () -> String, context: inout RouteCompileContext
    ) throws(ConfigError) -> RouteEntry {
        // `decorator` and `tracing` only shape trace spans, and Remora does not trace: accepted, without effect.
        try SupportedFields.require(route, only: [
            "name", "match", "route", "redirect", "direct_response", "metadata", "decorator",
            "request_headers_to_add", "request_headers_to_remove", "response_headers_to_add", "response_headers_to_remove",
            "tracing", "per_request_buffer_limit_bytes",
        ], at: path())
        guard route.hasMatch else { throw .missing(at: FieldPath.join(path(), "match")) }
        // Paths are built only for an error: a push compiles every route.
        func matchPath() -> String { FieldPath.join(path(), "match") }
        let match = route.match
        try SupportedFields.require(match, only: [
            "prefix", "path", "safe_regex", "path_separated_prefix", "connect_matcher", "case_sensitive", "runtime_fraction",
            "headers", "query_parameters", "grpc",
        ], at: matchPath())
        let caseSensitive = match.hasCaseSensitive ? match.caseSensitive.value : true
        let pathMatch: PathMatch
        switch match.pathSpecifier {
        case .prefix(let prefix)?:
            try checkHeaderValue(prefix, at: FieldPath.join(matchPath(), "prefix"))
            pathMatch = PathMatch(.prefix(prefix), caseSensitive: caseSensitive)
        case .path(let exact)?:
            try checkHeaderValue(exact, at: FieldPath.join(matchPath(), "path"))
            pathMatch = PathMatch(.exact(exact), caseSensitive: caseSensitive)
        case .safeRegex(let regex)?:
            pathMatch = PathMatch(.regex(try RegexCompiler.compile(regex, at: FieldPath.join(matchPath(), "safe_regex"))), caseSensitive: caseSensitive)
        case .pathSeparatedPrefix(let prefix)?:
            // Envoy's rule: `^[^?#]+[^?#/]$` — no query or fragment, no trailing slash.
            let bytes = Array(prefix.utf8)
            let forbidden: Set<UInt8> = [UInt8(ascii: "?"), UInt8(ascii: "#")]
            guard bytes.count >= 2, !bytes.contains(where: forbidden.contains), bytes.last != UInt8(ascii: "/") else {
                throw .invalid("RouteMatchValidationError.PathSeparatedPrefix: value does not match regex pattern \"^[^?#]+[^?#/]$\"", at: FieldPath.join(matchPath(), "path_separated_prefix"))
            }
            pathMatch = PathMatch(.pathSeparatedPrefix(prefix), caseSensitive: caseSensitive)
        case .connectMatcher?:
            // CONNECT requests only, whatever their target (RouteEntry checks the method).
            pathMatch = PathMatch(.connect)
        case .pathMatchPolicy?:
            preconditionFailure("refused by SupportedFields")
        case nil:
            throw .invalid("one of prefix, path, safe_regex or path_separated_prefix is required", at: matchPath())
        }
        var headers: [HeaderMatcher] = []
        for (i, h) in match.headers.enumerated() {
            headers.append(try HeaderMatcher.compile(h, at: FieldPath.index(FieldPath.join(matchPath(), "headers"), i)))
        }
        var queries: [QueryParameterMatcher] = []
        for (i, q) in match.queryParameters.enumerated() {
            queries.append(try QueryParameterMatcher.compile(q, at: FieldPath.index(FieldPath.join(matchPath(), "query_parameters"), i)))
        }
        let fraction = match.hasRuntimeFraction
            ? try compileRuntimeFraction(match.runtimeFraction, at: FieldPath.join(matchPath(), "runtime_fraction")).fraction : nil

        let routeRequest = try HeaderMutationCompiler.compile(
            add: route.requestHeadersToAdd, remove: route.requestHeadersToRemove,
            addPath: FieldPath.join(path(), "request_headers_to_add"), removePath: FieldPath.join(path(), "request_headers_to_remove"))
        let routeResponse = try HeaderMutationCompiler.compile(
            add: route.responseHeadersToAdd, remove: route.responseHeadersToRemove,
            addPath: FieldPath.join(path(), "response_headers_to_add"), removePath: FieldPath.join(path(), "response_headers_to_remove"))
        let requestMutations = context.ordered(route: routeRequest, vhost: context.vhostRequest, global: context.globalRequest)
        let responseMutations = context.ordered(route: routeResponse, vhost: context.vhostResponse, global: context.globalResponse)

        let action: RouteAction
        switch route.action {
        case .route(let forward)?:
            action = .forward(try compileForward(
                forward, at: FieldPath.join(path(), "route"), context: &context,
                requestMutations: requestMutations, responseMutations: responseMutations))
        case .redirect(let redirect)?:
            recordMirrorReferences(context.inheritedMirrors, context: &context)
            action = .redirect(try compileRedirect(redirect, at: FieldPath.join(path(), "redirect")))
        case .directResponse(let direct)?:
            recordMirrorReferences(context.inheritedMirrors, context: &context)
            action = .directResponse(try compileDirectResponse(
                direct, at: FieldPath.join(path(), "direct_response"), maxBodySize: context.maxDirectResponseBodySize))
        case .filterAction?, .nonForwardingAction?:
            preconditionFailure("refused by SupportedFields")
        case nil:
            throw .invalid("one of route, redirect or direct_response is required", at: path())
        }

        return RouteEntry(
            name: route.name, path: pathMatch, headers: headers, queryParameters: queries,
            runtimeFraction: fraction, grpcOnly: match.hasGrpc, action: action,
            requestHeaderMutations: requestMutations, responseHeaderMutations: responseMutations,
            perRequestBufferLimitBytes: route.hasPerRequestBufferLimitBytes ? route.perRequestBufferLimitBytes.value : context.vhostBufferLimit)
    }

    /// Envoy's `HTTP_HEADER_VALUE` rule (not strict): no NUL, CR or LF.
    static func checkHeaderValue(_ value: String, at path: @autoclosure () -> String) throws(ConfigError) {
        guard !ASCIIBytes.hasControlBreak(value) else { throw .invalid("value contains a NUL, CR or LF", at: path()) }
    }

    static func checkHeaderName(_ name: String, at path: @autoclosure () -> String) throws(ConfigError) -> String {
        guard !name.isEmpty else { throw .invalid("value length must be at least 1 characters", at: path()) }
        guard ASCIIBytes.isValidHeaderName(name) else { throw .invalid("invalid header name '\(name)'", at: path()) }
        return name.lowercased()
    }

    static func compileRuntimeFraction(
        _ config: Envoy_Config_Core_V3_RuntimeFractionalPercent, at path: String
    ) throws(ConfigError) -> (fraction: FractionalPercent, key: String) {
        try SupportedFields.require(config, only: ["default_value", "runtime_key"], at: path)
        guard config.hasDefaultValue else { throw .missing(at: FieldPath.join(path, "default_value")) }
        return (try compileFraction(config.defaultValue, at: FieldPath.join(path, "default_value")), config.runtimeKey)
    }

    static func compileFraction(_ config: Envoy_Type_V3_FractionalPercent, at path: String) throws(ConfigError) -> FractionalPercent {
        try SupportedFields.require(config, only: ["numerator", "denominator"], at: path)
        let denominator: UInt32
        switch config.denominator {
        case .hundred: denominator = 100
        case .tenThousand: denominator = 10_000
        case .million: denominator = 1_000_000
        case .UNRECOGNIZED: throw .invalid("unknown denominator", at: FieldPath.join(path, "denominator"))
        }
        // Envoy caps the numerator at the denominator (a share above 100% is 100%).
        return FractionalPercent(numerator: min(config.numerator, denominator), denominator: denominator)
    }
}
