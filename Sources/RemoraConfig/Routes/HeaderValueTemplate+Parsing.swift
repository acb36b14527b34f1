#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension HeaderValueTemplate {
    /// Parses a header value as Envoy's `SubstitutionFormatParser` does:
    /// `%%` is a literal `%`; any other `%` starts a command that must match
    /// `%COMMAND(ARG):LEN%` (COMMAND in `[A-Z0-9_]+`, the argument and
    /// length optional); an unknown command is an error.
    ///
    /// Errors carry Envoy's wording; `path` is the value's field path.
    static func parse(_ format: String, at path: @autoclosure () -> String) throws(ConfigError) -> HeaderValueTemplate {
        // Most values are plain text: one literal, as the loop below would make.
        if !format.utf8.contains(UInt8(ascii: "%")) {
            return format.isEmpty ? HeaderValueTemplate(segments: []) : .literal(format)
        }
        let bytes = Array(format.utf8)
        var segments: [Segment] = []
        var literal: [UInt8] = []
        var pos = 0
        func flush() {
            if !literal.isEmpty {
                segments.append(.literal(String(decoding: literal, as: UTF8.self)))
                literal.removeAll()
            }
        }
        while pos < bytes.count {
            if bytes[pos] != UInt8(ascii: "%") {
                literal.append(bytes[pos])
                pos += 1
                continue
            }
            if pos + 1 < bytes.count, bytes[pos + 1] == UInt8(ascii: "%") {
                literal.append(UInt8(ascii: "%"))
                pos += 2
                continue
            }
            flush()
            guard let command = Command.scan(bytes, at: pos) else {
                throw .invalid("Incorrect configuration: \(format). Couldn't find valid command at position \(pos)", at: path())
            }
            segments.append(try command.segment(at: path()))
            pos = command.end
        }
        flush()
        return HeaderValueTemplate(segments: segments)
    }

    /// One `%COMMAND(ARG):LEN%` occurrence.
    struct Command {
        var name: String
        var argument: String?
        var length: Int?
        /// Index just past the closing `%`.
        var end: Int

        /// Envoy's regex `^%((?:[A-Z]|[0-9]|_)+)(?:\((.*?)\))?(?::([0-9]+))?%`
        /// at `start`, by hand: the name is greedy (it cannot contain `(`,
        /// `:` or `%`), the argument is the shortest run up to a `)` that is
        /// followed by an optional `:digits` and a `%`.
        static func scan(_ b: [UInt8], at start: Int) -> Command? {
            var i = start + 1
            while i < b.count, isCommandByte(b[i]) { i += 1 }
            guard i > start + 1 else { return nil }
            let name = String(decoding: b[(start + 1)..<i], as: UTF8.self)
            if i < b.count, b[i] == UInt8(ascii: "(") {
                var close = i + 1
                while close < b.count {
                    if b[close] == UInt8(ascii: ")"), let (length, end) = tail(b, at: close + 1) {
                        let argument = String(decoding: b[(i + 1)..<close], as: UTF8.self)
                        return Command(name: name, argument: argument, length: length, end: end)
                    }
                    close += 1
                }
                return nil
            }
            guard let (length, end) = tail(b, at: i) else { return nil }
            return Command(name: name, argument: nil, length: length, end: end)
        }

        /// `(?::([0-9]+))?%` at `i`: the length, if any, and the index past `%`.
        private static func tail(_ b: [UInt8], at i: Int) -> (Int?, Int)? {
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: "%") { return (nil, i + 1) }
            guard b[i] == UInt8(ascii: ":") else { return nil }
            var j = i + 1
            var value = 0
            while j < b.count, b[j] >= 0x30, b[j] <= 0x39 {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (r, o2) = m.addingReportingOverflow(Int(b[j] - 0x30))
                guard !o1, !o2 else { return nil }
                value = r
                j += 1
            }
            guard j > i + 1, j < b.count, b[j] == UInt8(ascii: "%") else { return nil }
            return (value, j + 1)
        }

        private static func isCommandByte(_ c: UInt8) -> Bool {
            (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "_")
        }

        /// Envoy's `CommandSyntaxChecker` rules, then the command itself.
        func segment(at path: String) throws(ConfigError) -> Segment {
            let hasArgument = !(argument ?? "").isEmpty
            func commandOnly() throws(ConfigError) {
                if hasArgument || length != nil {
                    throw .invalid("\(name) does not take any parameters or length", at: path)
                }
            }
            func paramsRequired(lengthAllowed: Bool) throws(ConfigError) -> String {
                guard let argument, !argument.isEmpty else { throw .invalid("\(name) requires parameters", at: path) }
                if !lengthAllowed, length != nil {
                    throw .invalid("\(name) does not allow length to be specified.", at: path)
                }
                return argument
            }
            if let variable = Self.simpleVariables[name] ?? TLSFact.command(name).map({ .tls($0.0, $0.1) }) {
                try commandOnly()
                return .variable(variable)
            }
            switch name {
            case "REQ", "RESP":
                let (main, alternative) = try headerNames(try paramsRequired(lengthAllowed: true), at: path)
                return .variable(name == "REQ"
                    ? .requestHeader(name: main, alternative: alternative, maxLength: length)
                    : .responseHeader(name: main, alternative: alternative, maxLength: length))
            case "START_TIME":
                if length != nil { throw .invalid("\(name) does not allow length to be specified.", at: path) }
                return .variable(.startTime(format: hasArgument ? argument : nil))
            case "HOSTNAME":
                try commandOnly()
                // Envoy reads the host name once, when the formatter is built.
                return .literal(Self.hostname() ?? "")
            case "ENVIRONMENT":
                let key = try paramsRequired(lengthAllowed: true)
                // Envoy reads the variable once, when the formatter is built.
                guard let raw = getenv(key) else { return .literal("") }
                var value = String(cString: raw)
                if let length, value.utf8.count > length {
                    value = String(decoding: value.utf8.prefix(length), as: UTF8.self)
                }
                return .literal(value)
            default:
                if Self.knownEnvoyCommands.contains(name) {
                    throw .unsupported("formatter command %\(name)% is not implemented by Remora", at: path)
                }
                throw .invalid("Not supported field in StreamInfo: \(name)", at: path)
            }
        }

        /// `main?alternative`, lowercased; Envoy allows one alternative and valid header names only.
        private func headerNames(_ argument: String, at path: String) throws(ConfigError) -> (String, String?) {
            let parts = argument.split(separator: "?", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2 else {
                throw .invalid("More than 1 alternative header specified in token: \(argument)", at: path)
            }
            let main = parts[0].lowercased()
            let alternative = parts.count == 2 ? parts[1].lowercased() : nil
            let valid = ASCIIBytes.isValidHeaderName(main) && (alternative.map { $0.isEmpty || ASCIIBytes.isValidHeaderName($0) } ?? true)
            guard valid else {
                throw .invalid("Invalid header configuration. Format string contains invalid characters.", at: path)
            }
            return (main, (alternative?.isEmpty ?? true) ? nil : alternative)
        }

        private static func hostname() -> String? {
            var buffer = [CChar](repeating: 0, count: 256)
            let count = buffer.count - 1
            let rc = buffer.withUnsafeMutableBufferPointer { b -> Int32 in
                guard let base = b.baseAddress else { return -1 }
                return gethostname(base, count)
            }
            guard rc == 0 else { return nil }
            let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            return String(decoding: bytes, as: UTF8.self)
        }

        static let simpleVariables: [String: FormatVariable] = [
            "PROTOCOL": .protocol,
            "DOWNSTREAM_REMOTE_ADDRESS": .downstreamRemoteAddress,
            "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": .downstreamRemoteAddressWithoutPort,
            "DOWNSTREAM_REMOTE_PORT": .downstreamRemotePort,
            "DOWNSTREAM_DIRECT_REMOTE_ADDRESS": .downstreamDirectRemoteAddress,
            "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT": .downstreamDirectRemoteAddressWithoutPort,
            "DOWNSTREAM_DIRECT_REMOTE_PORT": .downstreamDirectRemotePort,
            "DOWNSTREAM_LOCAL_ADDRESS": .downstreamLocalAddress,
            "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT": .downstreamLocalAddressWithoutPort,
            "DOWNSTREAM_LOCAL_PORT": .downstreamLocalPort,
            "UPSTREAM_REMOTE_ADDRESS": .upstreamRemoteAddress,
            "UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": .upstreamRemoteAddressWithoutPort,
            "UPSTREAM_REMOTE_PORT": .upstreamRemotePort,
            "UPSTREAM_LOCAL_ADDRESS": .upstreamLocalAddress,
            "UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT": .upstreamLocalAddressWithoutPort,
            "UPSTREAM_LOCAL_PORT": .upstreamLocalPort,
            "UPSTREAM_HOST": .upstreamHost,
            "UPSTREAM_CLUSTER": .upstreamCluster,
            "ROUTE_NAME": .routeName,
            "REQUESTED_SERVER_NAME": .requestedServerName,
            "RESPONSE_CODE": .responseCode,
        ]

        /// Commands Envoy 1.40 knows that Remora does not fill in: refused
        /// as "not implemented" rather than "unknown".
        static let knownEnvoyCommands: Set<String> = [
            "TRAILER", "LOCAL_REPLY_BODY", "GRPC_STATUS", "GRPC_STATUS_NUMBER", "ACCESS_LOG_TYPE",
            "START_TIME_LOCAL", "EMIT_TIME", "EMIT_TIME_LOCAL", "REQUEST_DURATION", "REQUEST_TX_DURATION",
            "RESPONSE_DURATION", "RESPONSE_TX_DURATION", "DURATION", "DOWNSTREAM_HANDSHAKE_DURATION",
            "ROUNDTRIP_DURATION", "BYTES_RECEIVED", "BYTES_SENT", "BYTES_RETRANSMITTED", "PACKETS_RETRANSMITTED",
            "UPSTREAM_WIRE_BYTES_SENT", "UPSTREAM_WIRE_BYTES_RECEIVED", "UPSTREAM_HEADER_BYTES_SENT",
            "UPSTREAM_HEADER_BYTES_RECEIVED", "DOWNSTREAM_WIRE_BYTES_SENT", "DOWNSTREAM_WIRE_BYTES_RECEIVED",
            "DOWNSTREAM_HEADER_BYTES_SENT", "DOWNSTREAM_HEADER_BYTES_RECEIVED", "RESPONSE_CODE_DETAILS",
            "CONNECTION_TERMINATION_DETAILS", "RESPONSE_FLAGS", "RESPONSE_FLAGS_LONG", "UPSTREAM_HOST_NAME",
            "UPSTREAM_HOST_NAME_WITHOUT_PORT", "UPSTREAM_CLUSTER_RAW", "UPSTREAM_TRANSPORT_FAILURE_REASON",
            "UPSTREAM_REQUEST_ATTEMPT_COUNT", "UPSTREAM_CONNECTION_POOL_READY_DURATION", "UPSTREAM_PROTOCOL",
            "DOWNSTREAM_LOCAL_DNS_SAN", "DOWNSTREAM_LOCAL_URI_SAN", "DOWNSTREAM_LOCAL_SUBJECT",
            "DOWNSTREAM_PEER_DNS_SAN", "DOWNSTREAM_PEER_URI_SAN", "DOWNSTREAM_PEER_SUBJECT", "DOWNSTREAM_PEER_ISSUER",
            "DOWNSTREAM_PEER_FINGERPRINT_256", "DOWNSTREAM_PEER_FINGERPRINT_1", "DOWNSTREAM_PEER_SERIAL",
            "DOWNSTREAM_PEER_CERT", "DOWNSTREAM_PEER_CERT_V_START", "DOWNSTREAM_PEER_CERT_V_END",
            "DOWNSTREAM_TLS_VERSION", "DOWNSTREAM_TLS_CIPHER", "DOWNSTREAM_TLS_SESSION_ID",
            "DOWNSTREAM_TRANSPORT_FAILURE_REASON", "UPSTREAM_PEER_SUBJECT", "UPSTREAM_PEER_ISSUER",
            "UPSTREAM_TLS_VERSION", "UPSTREAM_TLS_CIPHER", "UPSTREAM_TLS_SESSION_ID", "UPSTREAM_PEER_URI_SAN",
            "UPSTREAM_PEER_DNS_SAN", "UPSTREAM_PEER_CERT", "UPSTREAM_LOCAL_URI_SAN", "UPSTREAM_LOCAL_DNS_SAN",
            "UPSTREAM_LOCAL_SUBJECT", "DOWNSTREAM_REMOTE_ADDRESS_ENDPOINT_ID", "DOWNSTREAM_LOCAL_ADDRESS_ENDPOINT_ID",
            "DOWNSTREAM_DIRECT_LOCAL_ADDRESS", "DOWNSTREAM_DIRECT_LOCAL_ADDRESS_WITHOUT_PORT",
            "DOWNSTREAM_DIRECT_LOCAL_PORT", "DOWNSTREAM_LOCAL_IP_SAN", "DOWNSTREAM_PEER_IP_SAN",
            "VIRTUAL_CLUSTER_NAME", "CONNECTION_ID", "UPSTREAM_CONNECTION_ID", "STREAM_ID", "UNIQUE_ID",
            "TRACE_ID", "DYNAMIC_METADATA", "CLUSTER_METADATA", "UPSTREAM_METADATA", "FILTER_STATE",
            "UPSTREAM_FILTER_STATE", "METADATA", "CEL", "REQ_WITHOUT_QUERY", "PATH", "COALESCE",
            "QUERY_PARAM", "CUSTOM_FLAGS", "FILTER_CHAIN_NAME", "REQUEST_HEADERS_BYTES", "RESPONSE_HEADERS_BYTES",
            "RESPONSE_TRAILERS_BYTES", "UPSTREAM_FIRST_BYTE_SENT", "UPSTREAM_LAST_BYTE_SENT",
            "UPSTREAM_FIRST_BYTE_RECEIVED", "UPSTREAM_LAST_BYTE_RECEIVED", "DOWNSTREAM_FIRST_BYTE_SENT",
            "DOWNSTREAM_LAST_BYTE_SENT", "DOWNSTREAM_FIRST_BYTE_RECEIVED", "DOWNSTREAM_LAST_BYTE_RECEIVED",
            "COMMON_DURATION", "UPSTREAM_DETECTED_CLOSE_TYPE", "DOWNSTREAM_DETECTED_CLOSE_TYPE", "TLS_JA3_FINGERPRINT",
            "TLS_JA4_FINGERPRINT",
        ]
    }
}
