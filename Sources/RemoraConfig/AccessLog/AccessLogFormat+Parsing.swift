extension AccessLogFormat {
    /// Parses a text format as Envoy's `SubstitutionFormatParser` does, with
    /// its error messages: `%%` is a literal `%`; every other `%` starts a
    /// command `%NAME(param):length%`.
    public static func parseText(_ format: String) throws(AccessLogFormatError) -> [AccessLogSegment] {
        let bytes = Array(format.utf8)
        var segments: [AccessLogSegment] = []
        var literal: [UInt8] = []
        var i = 0
        func flush() {
            if !literal.isEmpty { segments.append(.literal(String(decoding: literal, as: UTF8.self))) }
            literal.removeAll()
        }
        while i < bytes.count {
            let c = bytes[i]
            guard c == UInt8(ascii: "%") else {
                literal.append(c)
                i += 1
                continue
            }
            if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "%") {
                literal.append(c)
                i += 2
                continue
            }
            guard let (command, end) = try parseCommand(bytes, at: i) else {
                throw AccessLogFormatError("Incorrect configuration: \(format). Couldn't find valid command at position \(i)")
            }
            flush()
            segments.append(.command(command))
            i = end
        }
        flush()
        return segments
    }

    /// `%NAME(param):length%` at `start` (Envoy's command regex
    /// `^%([A-Z]|[0-9]|_)+(\([^\)]*\))?(:[0-9]+)?(%)`), or nil if it does not match.
    private static func parseCommand(_ b: [UInt8], at start: Int) throws(AccessLogFormatError) -> (AccessLogCommand, Int)? {
        var i = start + 1
        let nameStart = i
        while i < b.count, (b[i] >= UInt8(ascii: "A") && b[i] <= UInt8(ascii: "Z"))
                || (b[i] >= UInt8(ascii: "0") && b[i] <= UInt8(ascii: "9")) || b[i] == UInt8(ascii: "_") {
            i += 1
        }
        guard i > nameStart else { return nil }
        let name = String(decoding: b[nameStart..<i], as: UTF8.self)
        var param: String? = nil
        if i < b.count && b[i] == UInt8(ascii: "(") {
            guard let close = b[(i + 1)...].firstIndex(of: UInt8(ascii: ")")) else { return nil }
            param = String(decoding: b[(i + 1)..<close], as: UTF8.self)
            i = close + 1
        }
        var length: Int? = nil
        if i < b.count && b[i] == UInt8(ascii: ":") {
            let digitsStart = i + 1
            var j = digitsStart
            while j < b.count, b[j] >= UInt8(ascii: "0"), b[j] <= UInt8(ascii: "9") { j += 1 }
            guard j > digitsStart, let n = Int(String(decoding: b[digitsStart..<j], as: UTF8.self)) else { return nil }
            length = n
            i = j
        }
        guard i < b.count && b[i] == UInt8(ascii: "%") else { return nil }
        return (AccessLogCommand(op: try parseOperator(name, param: param, length: length), maxLength: length), i + 1)
    }

    private static func parseOperator(_ name: String, param: String?, length: Int?) throws(AccessLogFormatError) -> AccessLogOperator {
        func headers() throws(AccessLogFormatError) -> (String, String?) {
            guard let param, !param.isEmpty else { throw AccessLogFormatError("\(name) requires parameters") }
            let parts = param.split(separator: "?", omittingEmptySubsequences: false)
            guard parts.count <= 2 else {
                throw AccessLogFormatError("More than 1 alternative header specified in token: \(param)")
            }
            return (parts[0].lowercased(), parts.count == 2 ? parts[1].lowercased() : nil)
        }
        switch name {
        case "START_TIME":
            return .startTime(param.flatMap { $0.isEmpty ? nil : $0 })
        case "REQ":
            let (main, alt) = try headers()
            return .requestHeader(main, alternative: alt)
        case "RESP":
            let (main, alt) = try headers()
            return .responseHeader(main, alternative: alt)
        case "TRAILER":
            let (main, alt) = try headers()
            return .responseTrailer(main, alternative: alt)
        default:
            guard let op = AccessLogOperator.plain[name] ?? TLSFact.command(name).map({ .tls($0.0, $0.1) }) else {
                throw AccessLogFormatError("Not supported field in StreamInfo: \(name)")
            }
            guard param == nil && length == nil else {
                throw AccessLogFormatError("\(name) does not take any parameters or length")
            }
            return op
        }
    }
}

/// A format string Envoy would refuse, with Envoy's message.
public struct AccessLogFormatError: Error, Sendable, Equatable {
    public let message: String
    init(_ message: String) { self.message = message }
}
