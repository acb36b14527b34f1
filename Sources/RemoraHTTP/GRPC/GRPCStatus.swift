/// A gRPC status code (`grpc-status`), with Envoy's mappings to and from
/// HTTP statuses (`Grpc::Utility::httpToGrpcStatus`, `grpcToHttpStatus`)
/// and its reading of the header (`Grpc::Common::getGrpcStatus`). A plain
/// value; any loop may use it.
public struct GRPCStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let ok = GRPCStatus(rawValue: 0)
    public static let cancelled = GRPCStatus(rawValue: 1)
    public static let unknown = GRPCStatus(rawValue: 2)
    public static let invalidArgument = GRPCStatus(rawValue: 3)
    public static let deadlineExceeded = GRPCStatus(rawValue: 4)
    public static let notFound = GRPCStatus(rawValue: 5)
    public static let alreadyExists = GRPCStatus(rawValue: 6)
    public static let permissionDenied = GRPCStatus(rawValue: 7)
    public static let resourceExhausted = GRPCStatus(rawValue: 8)
    public static let failedPrecondition = GRPCStatus(rawValue: 9)
    public static let aborted = GRPCStatus(rawValue: 10)
    public static let outOfRange = GRPCStatus(rawValue: 11)
    public static let unimplemented = GRPCStatus(rawValue: 12)
    public static let `internal` = GRPCStatus(rawValue: 13)
    public static let unavailable = GRPCStatus(rawValue: 14)
    public static let dataLoss = GRPCStatus(rawValue: 15)
    public static let unauthenticated = GRPCStatus(rawValue: 16)
    /// Envoy's `MaximumKnown`: larger values read from a peer are `invalidCode`.
    public static let maximumKnown: UInt64 = 16
    /// Envoy's `InvalidCode` (-1): a `grpc-status` that is not a number, or
    /// names no status gRPC defines.
    public static let invalidCode = GRPCStatus(rawValue: .max)

    public var description: String { self == .invalidCode ? "-1" : String(rawValue) }

    /// Envoy's `Grpc::Utility::httpToGrpcStatus`: the status of a gRPC local
    /// reply made for an HTTP status.
    public init(httpStatus: Int) {
        switch httpStatus {
        case 400: self = .internal
        case 401: self = .unauthenticated
        case 403: self = .permissionDenied
        case 404: self = .unimplemented
        case 429, 502, 503, 504: self = .unavailable
        default: self = .unknown
        }
    }

    /// Envoy's `Grpc::Utility::grpcToHttpStatus` (what outlier detection and
    /// the host's `rq_success`/`rq_error` see for a gRPC response).
    public var httpStatus: Int {
        switch rawValue {
        case 0: 200
        case 1: 499
        case 3, 9, 11: 400
        case 4: 504
        case 5: 404
        case 6, 10: 409
        case 7: 403
        case 8: 429
        case 12: 501
        case 14: 503
        case 16: 401
        default: 500  // unknown, internal, data loss, invalid
        }
    }

    /// Envoy's `Grpc::Common::getGrpcStatus(headers)` (user-defined codes not
    /// allowed): nil without a `grpc-status` field (or with an empty one),
    /// `invalidCode` when its value is not an unsigned decimal
    /// (`absl::SimpleAtoi`: surrounding whitespace and a `+` allowed) or is
    /// above 16. Reads the first field only; no allocation.
    public init?(headers: HTTPHeaders) {
        guard let value = headers.first(name: "grpc-status"), value.count > 0 else { return nil }
        let parsed = value.withUnsafeBytes { SimpleDecimal.parse($0) }
        // `SimpleAtoi` into an unsigned refuses any minus sign, "-0" included.
        guard let parsed, !parsed.negative, parsed.magnitude <= Self.maximumKnown else {
            self = .invalidCode
            return
        }
        self.init(rawValue: parsed.magnitude)
    }
}

/// `absl::SimpleAtoi` for base-10 integers: ASCII whitespace around the
/// number is ignored, one sign is allowed, at least one digit, nothing else;
/// nil on overflow of 64 bits.
public enum SimpleDecimal {
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> (negative: Bool, magnitude: UInt64)? {
        var start = 0
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        guard start < end else { return nil }
        var negative = false
        if bytes[start] == UInt8(ascii: "+") || bytes[start] == UInt8(ascii: "-") {
            negative = bytes[start] == UInt8(ascii: "-")
            start += 1
        }
        guard start < end else { return nil }
        var value: UInt64 = 0
        for i in start..<end {
            let b = bytes[i]
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return (negative, value)
    }

    /// `absl::ascii_isspace`: space, \t, \n, \v, \f, \r.
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
}
