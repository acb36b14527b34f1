#if canImport(Glibc)
import Glibc
#endif
import RemoraConfig
import RemoraCore
import RemoraHTTP

/// What one access-log line is made from: the stream's info and, for HTTP,
/// the request (as the filters left it), the response headers as sent and
/// the response trailers.
public struct AccessLogInput {
    public let info: StreamInfo
    public let request: HTTPRequestMessage?
    public let responseHeaders: HTTPHeaders?
    public let responseTrailers: HTTPHeaders?
    /// Loop time when the stream or connection ended.
    public let endMilliseconds: UInt64

    public init(info: StreamInfo, request: HTTPRequestMessage?, responseHeaders: HTTPHeaders?, responseTrailers: HTTPHeaders?,
                endMilliseconds: UInt64) {
        self.info = info
        self.request = request
        self.responseHeaders = responseHeaders
        self.responseTrailers = responseTrailers
        self.endMilliseconds = endMilliseconds
    }
}

/// Renders `AccessLogFormat`s as Envoy's substitution formatter does: in
/// text, a value that is not there prints `-`; in JSON, a string that is one
/// operator alone prints its typed value (a number bare, nothing as `null`)
/// and other strings are rendered as text, then escaped.
public struct AccessLogFormatter {
    public let format: AccessLogFormat
    private var startTimeFormats: [String: StartTimeFormat] = [:]
    /// The default `%START_TIME%` up to the seconds, for the last second seen.
    private let secondCache = SecondCache()

    final class SecondCache {
        var second = Int.min
        var prefix: [UInt8] = []
    }

    /// A text format's segments with the literals as bytes (copied as they are).
    private enum Step {
        case literal([UInt8])
        case command(AccessLogCommand)
    }

    private var textSteps: [Step] = []

    public init(format: AccessLogFormat) {
        self.format = format
        for op in format.operators {
            if case .startTime(let pattern?) = op { startTimeFormats[pattern] = StartTimeFormat(pattern) }
        }
        if case .text(let segments) = format.body {
            textSteps = segments.map { segment in
                switch segment {
                case .literal(let text): .literal(Array(text.utf8))
                case .command(let command): .command(command)
                }
            }
        }
    }

    /// Appends the line for `input` to `out`.
    public func render(_ input: AccessLogInput, into out: inout [UInt8]) {
        switch format.body {
        case .text:
            let omitEmpty = format.omitEmptyValues
            for step in textSteps {
                switch step {
                case .literal(let bytes):
                    out.append(contentsOf: bytes)
                case .command(let command):
                    appendCommand(command, input, into: &out, omitEmpty: omitEmpty)
                }
            }
        case .json(let entries):
            renderObject(entries, input, into: &out)
            out.append(UInt8(ascii: "\n"))
        }
    }

    private func renderText(_ segments: [AccessLogSegment], _ input: AccessLogInput, into out: inout [UInt8], omitEmpty: Bool) {
        for segment in segments {
            switch segment {
            case .literal(let text):
                out.append(contentsOf: text.utf8)
            case .command(let command):
                appendCommand(command, input, into: &out, omitEmpty: omitEmpty)
            }
        }
    }

    /// One operator's value (cut to its `:N`), or `-` when it has none.
    private func appendCommand(_ command: AccessLogCommand, _ input: AccessLogInput, into out: inout [UInt8], omitEmpty: Bool) {
        let start = out.count
        if value(command.op, input, into: &out) {
            if let max = command.maxLength, out.count - start > max { out.removeSubrange((start + max)...) }
        } else if !omitEmpty {
            out.append(UInt8(ascii: "-"))
        }
    }

    private func renderObject(_ entries: [(String, AccessLogJSONValue)], _ input: AccessLogInput, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in entries {
            let mark = out.count
            if !first { out.append(UInt8(ascii: ",")) }
            JSONText.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            if renderValue(value, input, into: &out) {
                first = false
            } else {
                out.removeSubrange(mark...)  // omit_empty_values
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// False when the value is empty and `omit_empty_values` drops its key.
    private func renderValue(_ json: AccessLogJSONValue, _ input: AccessLogInput, into out: inout [UInt8]) -> Bool {
        switch json {
        case .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let b):
            out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n):
            out.append(contentsOf: JSONText.number(n).utf8)
        case .object(let entries):
            renderObject(entries, input, into: &out)
        case .text(let segments):
            if segments.count == 1, case .command(let command) = segments[0] {
                var raw: [UInt8] = []
                guard value(command.op, input, into: &raw) else {
                    if format.omitEmptyValues { return false }
                    out.append(contentsOf: "null".utf8)
                    return true
                }
                if let max = command.maxLength, raw.count > max { raw.removeSubrange(max...) }
                if command.op.isNumeric {
                    out.append(contentsOf: raw)
                } else {
                    JSONText.appendString(raw, to: &out)
                }
            } else {
                var raw: [UInt8] = []
                renderText(segments, input, into: &raw, omitEmpty: false)
                if raw.isEmpty && format.omitEmptyValues { return false }
                JSONText.appendString(raw, to: &out)
            }
        }
        return true
    }

    /// Appends `op`'s value; false (nothing appended) when it has none.
    private func value(_ op: AccessLogOperator, _ input: AccessLogInput, into out: inout [UInt8]) -> Bool {
        let info = input.info
        func number(_ n: some BinaryInteger) -> Bool {
            Self.appendDecimal(UInt64(clamping: n), to: &out)
            return true
        }
        func address(_ a: SocketAddress?, port: Bool) -> Bool {
            guard let a else { return false }
            Self.appendAddress(a, withPort: port, to: &out)
            return true
        }
        func text(_ s: String?) -> Bool {
            guard let s, !s.isEmpty else { return false }
            out.append(contentsOf: s.utf8)
            return true
        }
        func since(_ mark: UInt64?) -> Bool {
            guard let mark else { return false }
            return number(mark &- info.startMilliseconds)
        }
        switch op {
        case .startTime(let pattern):
            if let pattern, let format = startTimeFormats[pattern] {
                format.append(seconds: info.startWallSeconds, nanoseconds: info.startWallNanoseconds, to: &out)
            } else {
                let cache = secondCache
                if cache.second != info.startWallSeconds {
                    cache.second = info.startWallSeconds
                    cache.prefix.removeAll(keepingCapacity: true)
                    StartTimeFormat.appendDefaultSeconds(seconds: info.startWallSeconds, to: &cache.prefix)
                }
                out.append(contentsOf: cache.prefix)
                StartTimeFormat.appendDefaultFraction(nanoseconds: info.startWallNanoseconds, to: &out)
            }
            return true
        case .requestHeader(let name, let alternative):
            guard let request = input.request else { return false }
            return Self.header(request, name, into: &out) || (alternative.map { Self.header(request, $0, into: &out) } ?? false)
        case .responseHeader(let name, let alternative):
            guard let headers = input.responseHeaders else { return false }
            return Self.field(headers, name, into: &out) || (alternative.map { Self.field(headers, $0, into: &out) } ?? false)
        case .responseTrailer(let name, let alternative):
            guard let headers = input.responseTrailers else { return false }
            return Self.field(headers, name, into: &out) || (alternative.map { Self.field(headers, $0, into: &out) } ?? false)
        case .requestProtocol:
            return text(info.protocolName)
        case .responseCode:
            // Envoy prints 0 when no response was sent.
            return number(info.responseCode ?? 0)
        case .responseCodeDetails:
            return text(info.responseCodeDetails)
        case .responseFlags:
            out.append(contentsOf: info.responseFlags.shortString.utf8)
            return true
        case .responseFlagsLong:
            out.append(contentsOf: info.responseFlags.longString.utf8)
            return true
        case .bytesReceived:
            return number(info.bytesReceived)
        case .bytesSent:
            return number(info.bytesSent)
        case .duration:
            return number(input.endMilliseconds &- info.startMilliseconds)
        case .requestDuration:
            return since(info.lastDownstreamRxMilliseconds)
        case .requestTxDuration:
            return since(info.lastUpstreamTxMilliseconds)
        case .responseDuration:
            return since(info.firstUpstreamRxMilliseconds)
        case .responseTxDuration:
            guard let first = info.firstUpstreamRxMilliseconds, let last = info.lastDownstreamTxMilliseconds else { return false }
            return number(last &- first)
        case .upstreamHost:
            return address(info.upstreamHost, port: true)
        case .upstreamCluster, .upstreamClusterRaw:
            return text(info.upstreamCluster)
        case .upstreamLocalAddress:
            return address(info.upstreamLocalAddress, port: true)
        case .upstreamTransportFailureReason:
            // Envoy prints it with spaces made underscores.
            return text(info.upstreamTransportFailureReason.map { String($0.map { $0 == " " ? "_" : $0 }) })
        case .upstreamRequestAttemptCount:
            return number(info.attemptCount)
        case .downstreamRemoteAddress, .downstreamDirectRemoteAddress:
            return address(info.downstreamRemoteAddress, port: true)
        case .downstreamRemoteAddressWithoutPort, .downstreamDirectRemoteAddressWithoutPort:
            return address(info.downstreamRemoteAddress, port: false)
        case .downstreamRemotePort:
            guard let port = info.downstreamRemoteAddress?.port else { return false }
            return number(port)
        case .downstreamLocalAddress:
            return address(info.downstreamLocalAddress, port: true)
        case .downstreamLocalAddressWithoutPort:
            return address(info.downstreamLocalAddress, port: false)
        case .downstreamLocalPort:
            guard let port = info.downstreamLocalAddress?.port else { return false }
            return number(port)
        case .requestedServerName:
            return text(info.requestedServerName)
        case .tls(let side, let fact):
            return text(fact.text(in: info, side))

        case .routeName:
            return text(info.routeName)
        case .connectionTerminationDetails:
            return text(info.connectionTerminationDetails)
        case .hostname:
            return text(Self.hostname)
        }
    }

    /// Decimal digits of `n`, without a String.
    static func appendDecimal(_ n: UInt64, to out: inout [UInt8]) {
        if n < 10 {
            out.append(UInt8(ascii: "0") + UInt8(n))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: enough for 20 digits
        var count = 0
        var v = n
        withUnsafeMutableBytes(of: &digits) { buffer in
            while v > 0 {
                buffer[23 - count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            }
            out.append(contentsOf: buffer[(24 - count)...])
        }
    }

    /// Envoy's form of an address: `10.0.0.1:80`, `[::1]:80` (or without the port).
    static func appendAddress(_ address: SocketAddress, withPort: Bool, to out: inout [UInt8]) {
        switch address {
        case .v4(let a, let port):
            appendDecimal(UInt64(a >> 24), to: &out)
            out.append(UInt8(ascii: "."))
            appendDecimal(UInt64((a >> 16) & 0xff), to: &out)
            out.append(UInt8(ascii: "."))
            appendDecimal(UInt64((a >> 8) & 0xff), to: &out)
            out.append(UInt8(ascii: "."))
            appendDecimal(UInt64(a & 0xff), to: &out)
            if withPort {
                out.append(UInt8(ascii: ":"))
                appendDecimal(UInt64(port), to: &out)
            }
        case .v6(_, _, let port):
            if withPort { out.append(UInt8(ascii: "[")) }
            out.append(contentsOf: address.host.utf8)
            if withPort {
                out.append(contentsOf: "]:".utf8)
                appendDecimal(UInt64(port), to: &out)
            }
        case .unix(let path):
            out.append(contentsOf: path.utf8)
        }
    }

    static let hostname: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "" }
        return String(cString: buffer)
    }()

    /// A request header by Envoy's name: pseudo-headers from the message.
    private static func header(_ request: HTTPRequestMessage, _ name: String, into out: inout [UInt8]) -> Bool {
        switch name {
        case ":path": out.append(contentsOf: request.path.utf8); return true
        case ":method": out.append(contentsOf: request.method.name.utf8); return true
        case ":authority", "host":
            guard let authority = request.authority else { return false }
            out.append(contentsOf: authority.utf8)
            return true
        case ":scheme": out.append(contentsOf: request.scheme.utf8); return true
        default: return field(request.headers, name, into: &out)
        }
    }

    /// The first field called `name` (Envoy's formatter prints the first value).
    private static func field(_ headers: HTTPHeaders, _ name: String, into out: inout [UInt8]) -> Bool {
        guard let value = headers.first(name: name) else { return false }
        value.withUnsafeBytes { out.append(contentsOf: $0) }
        return true
    }
}

/// `%START_TIME(…)%` patterns: strftime in UTC plus Envoy's `%f` (nine
/// digits of the fraction), `%Nf` (N digits) and `%ENS` (seconds with N
/// decimals), compiled once.
struct StartTimeFormat {
    enum Piece {
        case strftime(String)
        /// Fraction digits (1…9).
        case fraction(Int)
        /// Two-digit seconds and `N` decimals.
        case secondsWithFraction(Int)
    }

    let pieces: [Piece]

    init(_ pattern: String) {
        var pieces: [Piece] = []
        var pending = ""
        let chars = Array(pattern)
        var i = 0
        func flush() {
            if !pending.isEmpty { pieces.append(.strftime(pending)) }
            pending = ""
        }
        while i < chars.count {
            if chars[i] == "%", i + 1 < chars.count {
                if chars[i + 1] == "f" {
                    flush(); pieces.append(.fraction(9)); i += 2; continue
                }
                if let digit = chars[i + 1].wholeNumberValue, digit >= 1, i + 2 < chars.count, chars[i + 2] == "f" {
                    flush(); pieces.append(.fraction(digit)); i += 3; continue
                }
                if chars[i + 1] == "E", i + 3 < chars.count, let digit = chars[i + 2].wholeNumberValue, digit >= 1,
                   chars[i + 3] == "S" {
                    flush(); pieces.append(.secondsWithFraction(digit)); i += 4; continue
                }
                pending.append(chars[i])
                pending.append(chars[i + 1])
                i += 2
                continue
            }
            pending.append(chars[i])
            i += 1
        }
        flush()
        self.pieces = pieces
    }

    func append(seconds: Int, nanoseconds: Int, to out: inout [UInt8]) {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        for piece in pieces {
            switch piece {
            case .strftime(let f):
                Self.appendStrftime(f, &parts, to: &out)
            case .fraction(let digits):
                Self.appendFraction(nanoseconds, digits: digits, to: &out)
            case .secondsWithFraction(let digits):
                Self.appendTwoDigits(Int(parts.tm_sec), to: &out)
                out.append(UInt8(ascii: "."))
                Self.appendFraction(nanoseconds, digits: digits, to: &out)
            }
        }
    }

    /// Envoy's default `%Y-%m-%dT%H:%M:%E3SZ`: up to the seconds' dot…
    static func appendDefaultSeconds(seconds: Int, to out: inout [UInt8]) {
        var time = time_t(seconds)
        var p = tm()
        gmtime_r(&time, &p)
        appendDigits(Int(p.tm_year) + 1900, count: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendTwoDigits(Int(p.tm_mon) + 1, to: &out)
        out.append(UInt8(ascii: "-"))
        appendTwoDigits(Int(p.tm_mday), to: &out)
        out.append(UInt8(ascii: "T"))
        appendTwoDigits(Int(p.tm_hour), to: &out)
        out.append(UInt8(ascii: ":"))
        appendTwoDigits(Int(p.tm_min), to: &out)
        out.append(UInt8(ascii: ":"))
        appendTwoDigits(Int(p.tm_sec), to: &out)
        out.append(UInt8(ascii: "."))
    }

    /// …then the milliseconds and `Z`.
    static func appendDefaultFraction(nanoseconds: Int, to out: inout [UInt8]) {
        appendFraction(nanoseconds, digits: 3, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    private static func appendStrftime(_ format: String, _ parts: inout tm, to out: inout [UInt8]) {
        var buffer = [CChar](repeating: 0, count: 256)
        let n = strftime(&buffer, buffer.count, format, &parts)
        buffer.withUnsafeBytes { out.append(contentsOf: $0.prefix(n)) }
    }

    private static func appendFraction(_ nanoseconds: Int, digits: Int, to out: inout [UInt8]) {
        var value = nanoseconds
        for _ in digits..<9 { value /= 10 }
        appendDigits(value, count: digits, to: &out)
    }

    private static func appendTwoDigits(_ value: Int, to out: inout [UInt8]) {
        appendDigits(value, count: 2, to: &out)
    }

    /// `value` as exactly `count` decimal digits (zero-padded), without a temporary.
    private static func appendDigits(_ value: Int, count: Int, to out: inout [UInt8]) {
        let start = out.count
        for _ in 0..<count { out.append(UInt8(ascii: "0")) }
        var v = value
        var i = start + count - 1
        while i >= start && v > 0 {
            out[i] = UInt8(ascii: "0") + UInt8(v % 10)
            v /= 10
            i -= 1
        }
    }
}

/// JSON text pieces for the access log.
enum JSONText {
    static func appendString(_ s: String, to out: inout [UInt8]) {
        appendString(Array(s.utf8), to: &out)
    }

    static func appendString(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex[Int(b >> 4)], hex[Int(b & 0xf)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A JSON number as protobuf's JSON prints a Struct number: integers
    /// without a fraction.
    static func number(_ n: Double) -> String {
        if n.isFinite, n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        return String(n)
    }
}
