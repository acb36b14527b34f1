import RemoraCore
@testable import RemoraHTTP

/// What a parser reported, in a form that compares across ways of feeding it.
enum ParsedEvent: Equatable, CustomStringConvertible {
    case head(String)
    case body([UInt8])
    case trailers(String)
    case end
    /// The tunnel began; the bytes after the head.
    case upgrade([UInt8])
    case error(status: Int, details: String)

    var description: String {
        switch self {
        case .head(let h): return "head(\(h))"
        case .body(let b): return "body(\(String(decoding: b, as: UTF8.self).debugDescription))"
        case .trailers(let t): return "trailers(\(t))"
        case .end: return "end"
        case .upgrade(let b): return "upgrade(\(String(decoding: b, as: UTF8.self).debugDescription))"
        case .error(let s, let d): return "error(\(s) \(d))"
        }
    }
}

func describe(_ h: HTTP1RequestHead) -> String {
    "\(h.method) \(h.targetString) \(h.version) framing=\(h.framing) keepAlive=\(h.keepAlive)"
        + " expect=\(h.expectsContinue) upgrade=\(h.isUpgrade) \(h.headers)"
}

func describe(_ h: HTTP1ResponseHead) -> String {
    "\(h.version) \(h.status) \(String(decoding: h.reason.bytes, as: UTF8.self).debugDescription)"
        + " framing=\(h.framing) keepAlive=\(h.keepAlive) \(h.headers)"
}

/// Records events; checks the zero-copy and size invariants on the way.
struct Recorder: HTTP1ParserDelegate {
    var events: [ParsedEvent] = []
    var requestHeads: [HTTP1RequestHead] = []
    var responseHeads: [HTTP1ResponseHead] = []
    var bodySlices: [ByteSlice] = []
    /// Body bytes since the last head, against a Content-Length.
    var bodyBytes: UInt64 = 0
    var declared: UInt64? = nil
    var violations: [String] = []

    mutating func onRequestHead(_ head: consuming HTTP1RequestHead) {
        events.append(.head(describe(head)))
        start(head.framing)
        requestHeads.append(head)
    }

    mutating func onResponseHead(_ head: consuming HTTP1ResponseHead) {
        events.append(.head(describe(head)))
        start(head.framing)
        responseHeads.append(head)
    }

    private mutating func start(_ framing: HTTP1BodyFraming) {
        bodyBytes = 0
        if case .contentLength(let n) = framing { declared = n } else { declared = nil }
    }

    mutating func onBody(_ chunk: ByteSlice) {
        if chunk.count == 0 { violations.append("empty body event") }
        bodyBytes += UInt64(chunk.count)
        if let declared, bodyBytes > declared { violations.append("body \(bodyBytes) > content-length \(declared)") }
        bodySlices.append(chunk)
        if case .body(let previous) = events.last {
            events[events.count - 1] = .body(previous + chunk.bytes)
        } else {
            events.append(.body(chunk.bytes))
        }
    }

    mutating func onTrailers(_ trailers: HTTPHeaders) {
        events.append(.trailers(trailers.description))
    }

    mutating func onMessageComplete() {
        if let declared, bodyBytes != declared { violations.append("message ended after \(bodyBytes) of \(declared) bytes") }
        declared = nil
        events.append(.end)
    }
}

/// Feeds `pieces` to a parser the way a connection would: each piece is one
/// read; after a message the rest of the read is fed again; after an upgrade
/// every later byte is tunnel data; at the end the peer closes.
struct Feeder {
    var parser: HTTP1Parser
    var recorder = Recorder()
    /// Methods of the requests the responses answer, in order (response parsing).
    var requestMethods: [HTTPMethod] = []
    var stalls = 0

    init(kind: HTTP1Parser.Kind, configuration: HTTP1Parser.Configuration? = nil, requestMethods: [HTTPMethod] = []) {
        parser = HTTP1Parser(kind: kind, configuration: configuration)
        self.requestMethods = requestMethods
        if let first = requestMethods.first { parser.requestMethod = first }
    }

    mutating func feed(_ pieces: [ByteSlice], finish: Bool = true) -> [ParsedEvent] {
        var tunnel: [UInt8]? = nil
        var responsesDone = 0
        outer: for piece in pieces {
            if tunnel != nil {
                tunnel! += piece.bytes
                continue
            }
            var rest = piece
            while true {
                let result: HTTP1ParseResult
                do {
                    result = try parser.parse(rest, delegate: &recorder)
                } catch {
                    recorder.events.append(.error(status: error.status, details: error.details))
                    return recorder.events
                }
                if result.consumed > rest.count { recorder.violations.append("consumed more than the input") }
                rest = rest.dropFirst(result.consumed)
                switch result.stop {
                case .needMoreData:
                    if rest.count != 0 { recorder.violations.append("needMoreData with bytes left") }
                    continue outer
                case .messageComplete:
                    responsesDone += 1
                    if parser.kind == .response && responsesDone < requestMethods.count {
                        parser.requestMethod = requestMethods[responsesDone]
                    }
                    if rest.count == 0 { continue outer }
                case .upgrade:
                    tunnel = rest.bytes
                    continue outer
                case .closed:
                    // The owner stops reading; what is left is dropped.
                    break outer
                }
                stalls += 1
                if stalls > 1_000_000 {
                    recorder.violations.append("no progress")
                    break outer
                }
            }
        }
        if let tunnel {
            recorder.events.append(.upgrade(tunnel))
            return recorder.events
        }
        if finish {
            do {
                try parser.finish(delegate: &recorder)
            } catch {
                recorder.events.append(.error(status: error.status, details: error.details))
            }
        }
        return recorder.events
    }
}

func slice(_ text: String) -> ByteSlice { ByteSlice(copying: Array(text.utf8)) }
func slice(_ bytes: [UInt8]) -> ByteSlice { ByteSlice(copying: bytes) }

/// Events for `bytes` fed whole.
func parseWhole(
    _ bytes: [UInt8], kind: HTTP1Parser.Kind = .request, configuration: HTTP1Parser.Configuration? = nil,
    requestMethods: [HTTPMethod] = []
) -> [ParsedEvent] {
    var f = Feeder(kind: kind, configuration: configuration, requestMethods: requestMethods)
    return f.feed([slice(bytes)])
}

func parseWhole(_ text: String, kind: HTTP1Parser.Kind = .request, configuration: HTTP1Parser.Configuration? = nil,
                requestMethods: [HTTPMethod] = []) -> [ParsedEvent] {
    parseWhole(Array(text.utf8), kind: kind, configuration: configuration, requestMethods: requestMethods)
}

/// Feeding `bytes` in two pieces at every boundary, and one byte at a time,
/// must give the events that feeding it whole gives. Returns the first mismatch.
func splitMismatch(
    _ bytes: [UInt8], kind: HTTP1Parser.Kind = .request, configuration: HTTP1Parser.Configuration? = nil,
    requestMethods: [HTTPMethod] = [], byteByByte: Bool = true
) -> String? {
    var whole = Feeder(kind: kind, configuration: configuration, requestMethods: requestMethods)
    let expected = whole.feed([slice(bytes)])
    if !whole.recorder.violations.isEmpty { return "whole: \(whole.recorder.violations)" }
    // Every boundary; for big inputs, the first and last 600 and a sample between.
    let boundaries = bytes.count <= 2048
        ? Array(0...bytes.count)
        : Array(0..<600) + Array(stride(from: 600, to: bytes.count - 600, by: 97)) + Array((bytes.count - 600)...bytes.count)
    var cuts: [[Int]] = boundaries.map { [$0] }
    if byteByByte { cuts.append(Array(0...bytes.count)) }
    for cut in cuts {
        var pieces: [ByteSlice] = []
        var last = 0
        for c in cut where c >= last {
            pieces.append(slice(Array(bytes[last..<c])))
            last = c
        }
        pieces.append(slice(Array(bytes[last...])))
        var f = Feeder(kind: kind, configuration: configuration, requestMethods: requestMethods)
        let got = f.feed(pieces)
        if got != expected {
            return "cut \(cut.count == 1 ? "at \(cut[0])" : "byte by byte"): expected \(expected), got \(got)"
        }
        if !f.recorder.violations.isEmpty { return "cut \(cut): \(f.recorder.violations)" }
    }
    return nil
}
