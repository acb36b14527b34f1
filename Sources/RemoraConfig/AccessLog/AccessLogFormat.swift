/// A compiled access-log format (Envoy's `SubstitutionFormatString`): text
/// made of literals and command operators, or a JSON object whose string
/// values are such texts. Parsed once at config time; the data path only
/// walks the segments.
public struct AccessLogFormat: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        case text([AccessLogSegment])
        /// `json_format`: keys sorted as Envoy prints them; one line per entry.
        case json([(String, AccessLogJSONValue)])

        public static func == (a: Body, b: Body) -> Bool {
            switch (a, b) {
            case (.text(let x), .text(let y)): return x == y
            case (.json(let x), .json(let y)): return x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
            default: return false
            }
        }
    }

    public var body: Body
    /// `omit_empty_values`: text drops what would print `-`; JSON drops the key.
    public var omitEmptyValues: Bool

    public init(body: Body, omitEmptyValues: Bool = false) {
        self.body = body
        self.omitEmptyValues = omitEmptyValues
    }

    /// Envoy's default format (`DEFAULT_FORMAT`, substitution_format_string.cc).
    public static let envoyDefaultText =
        "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
        + "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
        + "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
        + "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n"

    /// Every operator the format uses (to know what a stream must record).
    public var operators: [AccessLogOperator] {
        func ops(_ segments: [AccessLogSegment]) -> [AccessLogOperator] {
            segments.compactMap { if case .command(let c) = $0 { c.op } else { nil } }
        }
        func ops(_ value: AccessLogJSONValue) -> [AccessLogOperator] {
            switch value {
            case .text(let segments): ops(segments)
            case .object(let entries): entries.flatMap { ops($0.1) }
            case .number, .bool, .null: []
            }
        }
        switch body {
        case .text(let segments): return ops(segments)
        case .json(let entries): return entries.flatMap { ops($0.1) }
        }
    }
}

public indirect enum AccessLogJSONValue: Sendable, Equatable {
    /// A string with operators; a string that is one operator alone prints
    /// that operator's typed value (a number stays a number).
    case text([AccessLogSegment])
    case number(Double)
    case bool(Bool)
    case null
    case object([(String, AccessLogJSONValue)])

    public static func == (a: AccessLogJSONValue, b: AccessLogJSONValue) -> Bool {
        switch (a, b) {
        case (.text(let x), .text(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        case (.object(let x), .object(let y)): return x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
        default: return false
        }
    }
}

public enum AccessLogSegment: Sendable, Equatable {
    case literal(String)
    case command(AccessLogCommand)
}

/// One `%OPERATOR(param):length%`.
public struct AccessLogCommand: Sendable, Equatable {
    public var op: AccessLogOperator
    /// `:N` truncates the value to N bytes.
    public var maxLength: Int?
}

public enum AccessLogOperator: Sendable, Equatable {
    /// `%START_TIME%`, optionally with a strftime format (plus `%f`, `%Nf`, `%s`).
    case startTime(String?)
    /// `%REQ(X?Y)%`: the request header X, else Y. Names are lowercased;
    /// pseudo-headers `:path`, `:method`, `:authority`, `:scheme`.
    case requestHeader(String, alternative: String?)
    case responseHeader(String, alternative: String?)
    case responseTrailer(String, alternative: String?)
    case requestProtocol
    case responseCode
    case responseCodeDetails
    case responseFlags
    case responseFlagsLong
    case bytesReceived
    case bytesSent
    case duration
    case requestDuration
    case requestTxDuration
    case responseDuration
    case responseTxDuration
    case upstreamHost
    case upstreamCluster
    case upstreamClusterRaw
    case upstreamLocalAddress
    case upstreamTransportFailureReason
    case upstreamRequestAttemptCount
    case downstreamRemoteAddress
    case downstreamRemoteAddressWithoutPort
    case downstreamRemotePort
    case downstreamDirectRemoteAddress
    case downstreamDirectRemoteAddressWithoutPort
    case downstreamLocalAddress
    case downstreamLocalAddressWithoutPort
    case downstreamLocalPort
    case requestedServerName
    /// A fact of the downstream or upstream TLS connection (`-` on plaintext).
    case tls(TLSSide, TLSFact)
    case routeName
    case connectionTerminationDetails
    case hostname

    /// Operators whose value is a number (printed bare in JSON).
    public var isNumeric: Bool {
        switch self {
        case .responseCode, .bytesReceived, .bytesSent, .duration, .requestDuration, .requestTxDuration,
             .responseDuration, .responseTxDuration, .upstreamRequestAttemptCount, .downstreamRemotePort,
             .downstreamLocalPort:
            return true
        default:
            return false
        }
    }

    /// Operators that take no parameter, by name.
    static let plain: [String: AccessLogOperator] = [
        "PROTOCOL": .requestProtocol, "RESPONSE_CODE": .responseCode, "RESPONSE_CODE_DETAILS": .responseCodeDetails,
        "RESPONSE_FLAGS": .responseFlags, "RESPONSE_FLAGS_LONG": .responseFlagsLong,
        "BYTES_RECEIVED": .bytesReceived, "BYTES_SENT": .bytesSent, "DURATION": .duration,
        "REQUEST_DURATION": .requestDuration, "REQUEST_TX_DURATION": .requestTxDuration,
        "RESPONSE_DURATION": .responseDuration, "RESPONSE_TX_DURATION": .responseTxDuration,
        "UPSTREAM_HOST": .upstreamHost, "UPSTREAM_CLUSTER": .upstreamCluster, "UPSTREAM_CLUSTER_RAW": .upstreamClusterRaw,
        "UPSTREAM_LOCAL_ADDRESS": .upstreamLocalAddress,
        "UPSTREAM_TRANSPORT_FAILURE_REASON": .upstreamTransportFailureReason,
        "UPSTREAM_REQUEST_ATTEMPT_COUNT": .upstreamRequestAttemptCount,
        "DOWNSTREAM_REMOTE_ADDRESS": .downstreamRemoteAddress,
        "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": .downstreamRemoteAddressWithoutPort,
        "DOWNSTREAM_REMOTE_PORT": .downstreamRemotePort,
        "DOWNSTREAM_DIRECT_REMOTE_ADDRESS": .downstreamDirectRemoteAddress,
        "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT": .downstreamDirectRemoteAddressWithoutPort,
        "DOWNSTREAM_LOCAL_ADDRESS": .downstreamLocalAddress,
        "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT": .downstreamLocalAddressWithoutPort,
        "DOWNSTREAM_LOCAL_PORT": .downstreamLocalPort,
        "REQUESTED_SERVER_NAME": .requestedServerName, "ROUTE_NAME": .routeName,
        "CONNECTION_TERMINATION_DETAILS": .connectionTerminationDetails,
        "HOSTNAME": .hostname,
    ]
}
