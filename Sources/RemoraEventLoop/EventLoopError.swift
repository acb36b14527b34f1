internal import CLibUV
#if canImport(Glibc)
import Glibc
#endif

/// An error from libuv or a system call, with the operation that failed.
///
/// A struct over a private code enum, so that codes can be added without
/// breaking `switch`es elsewhere (async-http-client's `HTTPClientError`).
/// Compare with the static constants: `error == .connectionRefused`. Equality
/// looks at the code only, never at the operation text.
///
/// Plain value: created on the loop that saw the failure, `Sendable` so that
/// it can be reported to any thread.
public struct EventLoopError: Error, CustomStringConvertible, Equatable, Sendable {
    private enum Code: Equatable, Sendable {
        case wouldBlock
        case connectionRefused
        case connectionReset
        case timedOut
        case addressInUse
        case addressNotAvailable
        case brokenPipe
        case cancelled
        case endOfFile
        case hostNotFound
        case invalidArgument
        case transportFailure
        case other
    }

    private let code: Code
    /// The libuv error code (negative; on Linux `-errno` for system errors,
    /// `UV_EOF` and `UV_EAI_*` otherwise).
    public let uvCode: Int32
    /// What was being done, e.g. `connect 127.0.0.1:9`; empty for the constants.
    public let operation: String
    /// Envoy's transport failure text for a TLS failure
    /// (`TLS_error:|…:TLS_error_end`); nil otherwise.
    public let transportReason: String?

    /// An error from a libuv result code (`rc < 0`).
    init(uvCode: Int32, operation: String = "") {
        self.uvCode = uvCode
        self.operation = operation
        self.code = Self.classify(uvCode)
        self.transportReason = nil
    }

    private init(transportReason: String, operation: String) {
        self.uvCode = UV_EPROTO.rawValue
        self.operation = operation
        self.code = .transportFailure
        self.transportReason = transportReason
    }

    /// The transport socket (TLS) failed: a refused handshake, a bad record.
    public static func transportFailure(_ reason: String, operation: String = "") -> EventLoopError {
        EventLoopError(transportReason: reason, operation: operation)
    }

    /// A TLS failure (compare codes with `==`: any transport failure matches).
    public static let transportFailure = EventLoopError.transportFailure("")

    /// An error from a system `errno` value.
    public init(errno value: Int32, operation: String = "") {
        self.init(uvCode: -value, operation: operation)
    }

    /// The same error, naming another operation.
    public func with(operation: String) -> EventLoopError {
        if let transportReason { return .transportFailure(transportReason, operation: operation) }
        return EventLoopError(uvCode: uvCode, operation: operation)
    }

    public static let wouldBlock = EventLoopError(uvCode: UV_EAGAIN.rawValue)
    public static let connectionRefused = EventLoopError(uvCode: UV_ECONNREFUSED.rawValue)
    public static let connectionReset = EventLoopError(uvCode: UV_ECONNRESET.rawValue)
    public static let timedOut = EventLoopError(uvCode: UV_ETIMEDOUT.rawValue)
    public static let addressInUse = EventLoopError(uvCode: UV_EADDRINUSE.rawValue)
    public static let addressNotAvailable = EventLoopError(uvCode: UV_EADDRNOTAVAIL.rawValue)
    public static let brokenPipe = EventLoopError(uvCode: UV_EPIPE.rawValue)
    public static let cancelled = EventLoopError(uvCode: UV_ECANCELED.rawValue)
    public static let endOfFile = EventLoopError(uvCode: UV_EOF.rawValue)
    public static let hostNotFound = EventLoopError(uvCode: UV_EAI_NONAME.rawValue)
    public static let invalidArgument = EventLoopError(uvCode: UV_EINVAL.rawValue)

    /// The system `errno` behind the error, or nil for libuv's own codes
    /// (`UV_EOF`, resolver errors).
    public var errno: Int32? {
        // libuv's non-errno codes sit at -3000 (UV_EAI_*) and below.
        uvCode < 0 && uvCode > -3000 ? -uvCode : nil
    }

    /// The symbolic name, e.g. `ECONNREFUSED`.
    public var name: String { String(cString: uv_err_name(uvCode)) }

    /// libuv's text for the code, e.g. `connection refused`.
    public var message: String { String(cString: uv_strerror(uvCode)) }

    /// The C library's text for a system error (`Connection refused`), or
    /// libuv's for its own codes.
    public var systemMessage: String {
        uvCode < 0 && uvCode > -4096 ? String(cString: strerror(-uvCode)) : message
    }

    /// Envoy's upstream transport failure reason for a failed connect
    /// (`delayed connect error: Connection refused`); nil for a timeout,
    /// which Envoy reports without one.
    public var connectFailureReason: String? {
        if let transportReason { return transportReason }
        return self == .timedOut ? nil : "delayed connect error: \(systemMessage)"
    }

    /// `connect 127.0.0.1:9: connection refused (ECONNREFUSED)`.
    public var description: String {
        if let transportReason { return operation.isEmpty ? transportReason : "\(operation): \(transportReason)" }
        return operation.isEmpty ? "\(message) (\(name))" : "\(operation): \(message) (\(name))"
    }

    public static func == (lhs: EventLoopError, rhs: EventLoopError) -> Bool {
        lhs.code == rhs.code && (lhs.code != .other || lhs.uvCode == rhs.uvCode)
    }

    private static func classify(_ uvCode: Int32) -> Code {
        switch uvCode {
        case UV_EAGAIN.rawValue: return .wouldBlock
        case UV_ECONNREFUSED.rawValue: return .connectionRefused
        case UV_ECONNRESET.rawValue: return .connectionReset
        case UV_ETIMEDOUT.rawValue: return .timedOut
        case UV_EADDRINUSE.rawValue: return .addressInUse
        case UV_EADDRNOTAVAIL.rawValue: return .addressNotAvailable
        case UV_EPIPE.rawValue: return .brokenPipe
        case UV_ECANCELED.rawValue: return .cancelled
        case UV_EOF.rawValue: return .endOfFile
        case UV_EAI_NONAME.rawValue, UV_EAI_NODATA.rawValue: return .hostNotFound
        case UV_EINVAL.rawValue: return .invalidArgument
        default: return .other
        }
    }
}
