/// Why an HTTP/1 message was refused. The connection it came on cannot be
/// used again: the owner answers `status` (downstream) or fails the request
/// (upstream) and closes.
///
/// `details` is the string Envoy 1.40 records as the response code details
/// (`%RESPONSE_CODE_DETAILS%`) for the same input, e.g.
/// `http1.invalid_transfer_encoding`; `reason` says more precisely what was
/// wrong. See `Tests/RemoraHTTPTests/ENVOY_BEHAVIOUR.md`.
///
/// On a response (from an upstream) the status is 502 (503 for a premature
/// close), which is what Envoy answers downstream; Envoy's details for those
/// are `upstream_reset_before_response_started{protocol_error}` whatever the
/// codec error was, and the owner reports that.
///
/// Errors compare equal when they are the same kind, whichever side they came from.
public struct HTTP1ParseError: Error, Hashable, Sendable, CustomStringConvertible {
    enum Code: UInt8, Sendable {
        case headersTooLarge
        case tooManyHeaders
        case invalidCharacters
        case invalidMethod
        case invalidTarget
        case invalidURL
        case invalidVersion
        case unsupportedVersion
        case invalidStartLine
        case invalidStatus
        case invalidHeaderName
        case whitespaceBeforeColon
        case missingColon
        case obsFold
        case bareCR
        case duplicateContentLength
        case invalidContentLength
        case contentLengthAndTransferEncoding
        case invalidTransferEncoding
        case connectWithBody
        case missingHost
        case invalidHost
        case duplicateHost
        case invalidChunkSize
        case invalidChunkTerminator
        case transferEncodingNotAllowed
        case contentLengthNotAllowed
        case unexpectedEOF
        case underscoreInHeaderName
    }

    let code: Code
    /// True when the message was a response (read from an upstream).
    public let isResponse: Bool

    init(_ code: Code, response: Bool) {
        self.code = code
        self.isResponse = response
    }

    /// The status Envoy answers downstream for this error.
    public var status: Int {
        if isResponse { return code == .unexpectedEOF ? 503 : 502 }
        switch code {
        case .headersTooLarge, .tooManyHeaders: return 431
        case .invalidTransferEncoding: return 501
        case .unsupportedVersion: return 426
        default: return 400
        }
    }

    /// Envoy's response code details for this error.
    public var details: String {
        switch code {
        case .headersTooLarge: return "http1.headers_too_large"
        case .tooManyHeaders: return "http1.too_many_headers"
        case .invalidCharacters, .bareCR: return "http1.invalid_characters"
        case .invalidURL: return "http1.invalid_url"
        case .unsupportedVersion: return "low_version"
        case .contentLengthAndTransferEncoding: return "http1.content_length_and_chunked_not_allowed"
        case .invalidTransferEncoding: return "http1.invalid_transfer_encoding"
        case .connectWithBody: return "http1.body_disallowed"
        case .missingHost: return "missing_host_header"
        case .invalidHost, .duplicateHost: return "http.invalid_authority"
        case .transferEncodingNotAllowed: return "http1.transfer_encoding_not_allowed"
        case .contentLengthNotAllowed: return "http1.content_length_not_allowed"
        case .underscoreInHeaderName: return "http1.unexpected_underscore"
        case .unexpectedEOF:
            return isResponse ? "upstream_reset_before_response_started{connection_termination}" : "downstream_remote_disconnect"
        case .invalidMethod, .invalidTarget, .invalidVersion, .invalidStartLine, .invalidStatus,
             .invalidHeaderName, .whitespaceBeforeColon, .missingColon, .obsFold,
             .duplicateContentLength, .invalidContentLength, .invalidChunkSize, .invalidChunkTerminator:
            return "http1.codec_error"
        }
    }

    /// What exactly was wrong (for logs; not part of any protocol).
    public var reason: String {
        switch code {
        case .headersTooLarge: return "header block exceeds the size limit"
        case .tooManyHeaders: return "too many header fields"
        case .invalidCharacters: return "control character in start line or field"
        case .invalidMethod: return "invalid or unknown method"
        case .invalidTarget: return "invalid request-target"
        case .invalidURL: return "request-target not allowed for this method"
        case .invalidVersion: return "invalid HTTP version"
        case .unsupportedVersion: return "HTTP/1.0 (or other non-1.1 version) not accepted"
        case .invalidStartLine: return "malformed start line"
        case .invalidStatus: return "invalid status code"
        case .invalidHeaderName: return "invalid field name"
        case .whitespaceBeforeColon: return "whitespace between field name and colon"
        case .missingColon: return "field line without colon"
        case .obsFold: return "obsolete line folding"
        case .bareCR: return "CR not followed by LF"
        case .duplicateContentLength: return "more than one Content-Length"
        case .invalidContentLength: return "invalid Content-Length"
        case .contentLengthAndTransferEncoding: return "both Content-Length and Transfer-Encoding"
        case .invalidTransferEncoding: return "Transfer-Encoding other than chunked"
        case .connectWithBody: return "CONNECT with a body"
        case .missingHost: return "missing Host"
        case .invalidHost: return "invalid Host"
        case .duplicateHost: return "more than one Host"
        case .invalidChunkSize: return "invalid chunk size line"
        case .invalidChunkTerminator: return "chunk data not followed by CRLF"
        case .transferEncodingNotAllowed: return "Transfer-Encoding on a 1xx or 204 response"
        case .contentLengthNotAllowed: return "non-zero Content-Length on a 1xx or 204 response"
        case .unexpectedEOF: return "connection closed in the middle of a message"
        case .underscoreInHeaderName: return "field name with an underscore (headers_with_underscores_action)"
        }
    }

    public var description: String { "\(status) \(details): \(reason)" }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    // Kinds, for comparisons (`error == .invalidTransferEncoding`).
    public static let headersTooLarge = Self(.headersTooLarge, response: false)
    public static let tooManyHeaders = Self(.tooManyHeaders, response: false)
    public static let invalidCharacters = Self(.invalidCharacters, response: false)
    public static let invalidMethod = Self(.invalidMethod, response: false)
    public static let invalidTarget = Self(.invalidTarget, response: false)
    public static let invalidURL = Self(.invalidURL, response: false)
    public static let invalidVersion = Self(.invalidVersion, response: false)
    public static let unsupportedVersion = Self(.unsupportedVersion, response: false)
    public static let invalidStartLine = Self(.invalidStartLine, response: false)
    public static let invalidStatus = Self(.invalidStatus, response: false)
    public static let invalidHeaderName = Self(.invalidHeaderName, response: false)
    public static let whitespaceBeforeColon = Self(.whitespaceBeforeColon, response: false)
    public static let missingColon = Self(.missingColon, response: false)
    public static let obsFold = Self(.obsFold, response: false)
    public static let bareCR = Self(.bareCR, response: false)
    public static let duplicateContentLength = Self(.duplicateContentLength, response: false)
    public static let invalidContentLength = Self(.invalidContentLength, response: false)
    public static let contentLengthAndTransferEncoding = Self(.contentLengthAndTransferEncoding, response: false)
    public static let invalidTransferEncoding = Self(.invalidTransferEncoding, response: false)
    public static let connectWithBody = Self(.connectWithBody, response: false)
    public static let missingHost = Self(.missingHost, response: false)
    public static let invalidHost = Self(.invalidHost, response: false)
    public static let duplicateHost = Self(.duplicateHost, response: false)
    public static let invalidChunkSize = Self(.invalidChunkSize, response: false)
    public static let invalidChunkTerminator = Self(.invalidChunkTerminator, response: false)
    public static let transferEncodingNotAllowed = Self(.transferEncodingNotAllowed, response: false)
    public static let contentLengthNotAllowed = Self(.contentLengthNotAllowed, response: false)
    public static let unexpectedEOF = Self(.unexpectedEOF, response: false)
}
