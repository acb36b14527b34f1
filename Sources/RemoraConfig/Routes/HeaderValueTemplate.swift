/// A header value with Envoy formatter commands (`%DOWNSTREAM_REMOTE_ADDRESS%`,
/// `%REQ(x-foo)%`…), parsed once at config time into literal text and
/// variables, so that the runtime only looks the variables up.
///
/// Commands that are constant for the process (`%HOSTNAME%`,
/// `%ENVIRONMENT(X)%`) are resolved at compile time into literal text.
/// Values render with Envoy's header semantics (`omit_empty_values`): a
/// variable with no value renders as nothing, not `-`.
public struct HeaderValueTemplate: Sendable, Equatable {
    public enum Segment: Sendable, Equatable {
        case literal(String)
        case variable(FormatVariable)
    }

    public let segments: [Segment]
    /// The whole value when it has no variables (the common case): no rendering needed.
    public let constant: String?

    public init(segments: [Segment]) {
        // Merge adjacent literals so `constant` is set whenever it can be.
        var merged: [Segment] = []
        for segment in segments {
            if case .literal(let text) = segment, case .literal(let previous)? = merged.last {
                merged[merged.count - 1] = .literal(previous + text)
            } else {
                merged.append(segment)
            }
        }
        self.segments = merged
        if merged.isEmpty {
            constant = ""
        } else if merged.count == 1, case .literal(let text) = merged[0] {
            constant = text
        } else {
            constant = nil
        }
    }

    /// A value with no commands.
    public static func literal(_ text: String) -> HeaderValueTemplate {
        HeaderValueTemplate(segments: [.literal(text)])
    }

    /// Renders the value; `resolve` returns a variable's value, or nil when
    /// it has none. Request/response header variables are cut to their
    /// `:N` length here, so `resolve` returns whole values.
    public func render(_ resolve: (FormatVariable) -> String?) -> String {
        if let constant { return constant }
        var out = ""
        for segment in segments {
            switch segment {
            case .literal(let text):
                out += text
            case .variable(let variable):
                guard var value = resolve(variable) else { continue }
                if let limit = variable.maxLength, value.utf8.count > limit {
                    value = String(decoding: value.utf8.prefix(limit), as: UTF8.self)
                }
                out += value
            }
        }
        return out
    }
}

/// The formatter commands Remora fills in at run time.
public enum FormatVariable: Sendable, Equatable {
    /// `%REQ(name?alternative):N%`: first value of the request header `name`,
    /// else of `alternative`. Names lowercase.
    case requestHeader(name: String, alternative: String?, maxLength: Int?)
    /// `%RESP(name?alternative):N%`: likewise from the response headers
    /// (no value while the request headers are being formed).
    case responseHeader(name: String, alternative: String?, maxLength: Int?)
    /// `%START_TIME%` or `%START_TIME(format)%` (strftime-like with Envoy's
    /// `%f`, `%1f`…`%9f` and `%s` extensions); nil format means Envoy's
    /// default `%Y-%m-%dT%H:%M:%E3SZ`.
    case startTime(format: String?)
    /// `%PROTOCOL%`: `HTTP/1.0`, `HTTP/1.1`, `HTTP/2`.
    case `protocol`
    case downstreamRemoteAddress
    case downstreamRemoteAddressWithoutPort
    case downstreamRemotePort
    case downstreamDirectRemoteAddress
    case downstreamDirectRemoteAddressWithoutPort
    case downstreamDirectRemotePort
    case downstreamLocalAddress
    case downstreamLocalAddressWithoutPort
    case downstreamLocalPort
    case upstreamRemoteAddress
    case upstreamRemoteAddressWithoutPort
    case upstreamRemotePort
    case upstreamLocalAddress
    case upstreamLocalAddressWithoutPort
    case upstreamLocalPort
    /// `%UPSTREAM_HOST%`: the upstream host's address with port.
    case upstreamHost
    case upstreamCluster
    case routeName
    case requestedServerName
    case responseCode
    /// A fact of the downstream or upstream TLS connection (nothing on plaintext).
    case tls(TLSSide, TLSFact)

    /// The `:N` cut for header commands.
    public var maxLength: Int? {
        switch self {
        case .requestHeader(_, _, let n), .responseHeader(_, _, let n): return n
        default: return nil
        }
    }
}
