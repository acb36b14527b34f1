import RemoraCore
@testable import RemoraHTTP

/// A stream consumer that records what its codec delivered.
final class RecordingStream: HTTPRequestDecoder, HTTPResponseDecoder {
    var head: HTTPHeaders?
    var informational: [HTTPHeaders] = []
    var body: [UInt8] = []
    var dataCalls = 0
    var chunkStorages: [ObjectIdentifier] = []
    var trailers: HTTPHeaders?
    var ended = false
    var reset: HTTPStreamResetReason?
    var aboveHigh = 0
    var belowLow = 0
    /// Give received bytes back at once (a consumer that keeps up).
    var autoConsume = true
    var encoder: (any HTTPStreamEncoder)?
    /// A codec error the codec asked this stream to answer.
    var codecError: (status: Int, details: String)?
    /// Called with each event, to act from inside the codec's callbacks.
    var onEvent: ((RecordingStream) -> Void)?

    func decodeHeaders(_ headers: consuming HTTPHeaders, endStream: Bool) {
        head = headers
        if endStream { ended = true }
        onEvent?(self)
    }

    func decode1xxHeaders(_ headers: HTTPHeaders) { informational.append(headers) }

    func sendCodecErrorReply(status: Int, details: String) {
        codecError = (status, details)
        onEvent?(self)
    }

    func decodeData(_ chunk: ByteSlice, endStream: Bool) {
        precondition(chunk.count > 0 || endStream, "empty chunk without end")
        body += chunk.bytes
        chunkStorages.append(ObjectIdentifier(chunk.storage))
        dataCalls += 1
        if autoConsume { encoder?.consumed(chunk.count) }
        if endStream { ended = true }
        onEvent?(self)
    }

    func decodeTrailers(_ trailers: HTTPHeaders) {
        self.trailers = trailers
        ended = true
    }

    func onResetStream(_ reason: HTTPStreamResetReason) {
        precondition(reset == nil, "reset twice")
        reset = reason
        encoder = nil
    }

    func onAboveWriteBufferHighWatermark() { aboveHigh += 1 }
    func onBelowWriteBufferLowWatermark() { belowLow += 1 }

    var headString: String { head.map(\.description) ?? "nil" }
    var bodyString: String { String(decoding: body, as: UTF8.self) }
}

/// Connection events of either side.
class RecordingConnection: HTTPConnectionCallbacks {
    var goAways: [(UInt32, Int32)] = []
    var settings: [UInt32] = []
    var pingAcks: [UInt64] = []

    func onGoAway(errorCode: UInt32, lastStreamID: Int32) { goAways.append((errorCode, lastStreamID)) }
    func onSettings(maxConcurrentStreams: UInt32) { settings.append(maxConcurrentStreams) }
    func onPingAck(_ opaqueData: UInt64) { pingAcks.append(opaqueData) }
}

/// The connection manager's side: every new stream gets a recorder.
class RecordingServer: RecordingConnection, HTTPServerConnectionCallbacks {
    var streams: [RecordingStream] = []
    var encoders: [any HTTPResponseEncoder] = []
    var autoConsume = true
    /// Called for each request stream as it begins.
    var onNew: ((RecordingStream, any HTTPResponseEncoder) -> Void)?

    func newStream(_ encoder: any HTTPResponseEncoder) -> any HTTPRequestDecoder {
        let s = RecordingStream()
        s.autoConsume = autoConsume
        s.encoder = encoder
        streams.append(s)
        encoders.append(encoder)
        onNew?(s, encoder)
        return s
    }
}

/// A `Stats` row to count into, and a way to read it.
struct CodecStats {
    let scope: StatScope
    let stats: Stats<HTTP2CodecStat>

    init() {
        scope = StatsStore(workerCount: 0).makeScope(prefix: "http2.", HTTP2CodecStat.self)
        stats = scope.stats(HTTP2CodecStat.self, thread: 0)
    }

    subscript(_ stat: HTTP2CodecStat) -> Int64 { scope.value(stat.rawValue) }
}

/// A server codec and a client codec wired back to back in memory.
final class CodecPair {
    let pool = BufferPool(blockSize: 16 * 1024)
    let serverEvents = RecordingServer()
    let clientEvents = RecordingConnection()
    let serverStats = CodecStats()
    let clientStats = CodecStats()
    let server: HTTP2ServerConnection
    let client: HTTP2ClientConnection
    var serverStatus: HTTPCodecStatus = .ok
    var clientStatus: HTTPCodecStatus = .ok
    /// Bytes moved each way, for flow-control checks.
    var toServer = 0
    var toClient = 0

    init(server serverOptions: HTTP2Options = HTTP2Options(), client clientOptions: HTTP2Options = HTTP2Options()) {
        server = HTTP2ServerConnection(options: serverOptions, pool: pool, stats: serverStats.stats, callbacks: serverEvents)
        client = HTTP2ClientConnection(options: clientOptions, pool: pool, stats: clientStats.stats, callbacks: clientEvents)
    }

    /// Moves output both ways until neither side has anything to say.
    func pump(maxRounds: Int = 1000) {
        for _ in 0..<maxRounds {
            let toServerMoved = move(from: client, &clientStatus, to: server, &serverStatus)
            let toClientMoved = move(from: server, &serverStatus, to: client, &clientStatus)
            toServer += toServerMoved
            toClient += toClientMoved
            if toServerMoved == 0 && toClientMoved == 0 { return }
        }
    }

    /// Flushes `source`, feeds its output to `sink`; returns the bytes moved.
    private func move(from source: HTTP2Connection, _ sourceStatus: inout HTTPCodecStatus,
                      to sink: HTTP2Connection, _ sinkStatus: inout HTTPCodecStatus) -> Int {
        if sourceStatus == .ok { sourceStatus = source.flush() }
        var out: [ByteSlice] = []
        source.takeOutput(into: &out)
        source.outputWritten()
        var moved = 0
        for s in out where sinkStatus == .ok {
            moved += s.count
            sinkStatus = sink.dispatch(s)
        }
        return moved
    }

    /// Opens a request stream on the client.
    func request(_ headers: HTTPHeaders, endStream: Bool) -> (RecordingStream, any HTTPRequestEncoder) {
        let r = RecordingStream()
        let e = client.newStream(r)
        r.encoder = e
        e.encodeHeaders(headers, endStream: endStream)
        return (r, e)
    }
}

func get(_ path: String, _ extra: [(String, String)] = []) -> HTTPHeaders {
    HTTPHeaders([(":method", "GET"), (":scheme", "http"), (":authority", "example.com"), (":path", path)] + extra)
}

func post(_ path: String, _ extra: [(String, String)] = []) -> HTTPHeaders {
    HTTPHeaders([(":method", "POST"), (":scheme", "http"), (":authority", "example.com"), (":path", path)] + extra)
}

func status(_ code: Int, _ extra: [(String, String)] = []) -> HTTPHeaders {
    HTTPHeaders([(":status", String(code))] + extra)
}

// MARK: - Raw frames

/// Hand-built HTTP/2 frames (RFC 9113 §4.1, §6), for inputs no correct peer
/// sends. HPACK is literal without indexing, no Huffman (RFC 7541 §6.2.2).
enum Frame {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    static func frame(type: UInt8, flags: UInt8 = 0, stream: UInt32 = 0, _ payload: [UInt8] = []) -> [UInt8] {
        let n = payload.count
        return [UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff), type, flags,
                UInt8(stream >> 24 & 0x7f), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff)] + payload
    }

    static func settings(_ entries: [(UInt16, UInt32)] = []) -> [UInt8] {
        var p: [UInt8] = []
        for (id, v) in entries {
            p += [UInt8(id >> 8), UInt8(id & 0xff), UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
        }
        return frame(type: 4, p)
    }

    static let settingsAck = frame(type: 4, flags: 1)

    static func hpackInt(_ value: Int, prefixBits: Int, firstByte: UInt8) -> [UInt8] {
        let max = (1 << prefixBits) - 1
        if value < max { return [firstByte | UInt8(value)] }
        var out = [firstByte | UInt8(max)]
        var v = value - max
        while v >= 128 {
            out.append(UInt8(v % 128 + 128))
            v /= 128
        }
        out.append(UInt8(v))
        return out
    }

    static func hpack(_ fields: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (n, v) in fields {
            out += [0x00]
            out += hpackInt(n.utf8.count, prefixBits: 7, firstByte: 0) + Array(n.utf8)
            out += hpackInt(v.utf8.count, prefixBits: 7, firstByte: 0) + Array(v.utf8)
        }
        return out
    }

    static let requestFields = [(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/")]

    /// HEADERS with END_HEADERS (0x4) and optionally END_STREAM (0x1).
    static func headers(stream: UInt32, _ fields: [(String, String)], endStream: Bool = true, endHeaders: Bool = true) -> [UInt8] {
        frame(type: 1, flags: (endStream ? 1 : 0) | (endHeaders ? 4 : 0), stream: stream, hpack(fields))
    }

    static func continuation(stream: UInt32, _ block: [UInt8], endHeaders: Bool) -> [UInt8] {
        frame(type: 9, flags: endHeaders ? 4 : 0, stream: stream, block)
    }

    static func data(stream: UInt32, _ bytes: [UInt8], endStream: Bool = false) -> [UInt8] {
        frame(type: 0, flags: endStream ? 1 : 0, stream: stream, bytes)
    }

    static func rst(stream: UInt32, code: UInt32 = 8) -> [UInt8] {
        frame(type: 3, stream: stream, [UInt8(code >> 24), UInt8(code >> 16 & 0xff), UInt8(code >> 8 & 0xff), UInt8(code & 0xff)])
    }

    static func ping(_ n: UInt8 = 1) -> [UInt8] { frame(type: 6, [0, 0, 0, 0, 0, 0, 0, n]) }

    static func priority(stream: UInt32) -> [UInt8] { frame(type: 2, stream: stream, [0, 0, 0, 0, 16]) }

    static func windowUpdate(stream: UInt32, _ increment: UInt32) -> [UInt8] {
        frame(type: 8, stream: stream, [UInt8(increment >> 24 & 0x7f), UInt8(increment >> 16 & 0xff), UInt8(increment >> 8 & 0xff), UInt8(increment & 0xff)])
    }
}

/// One frame parsed from a codec's output.
struct ParsedFrame {
    let type: UInt8
    let flags: UInt8
    let stream: UInt32
    let payload: [UInt8]

    /// The error code of a RST_STREAM or GOAWAY.
    var errorCode: UInt32? {
        let at: Int
        switch type {
        case 3: at = 0
        case 7: at = 4
        default: return nil
        }
        guard payload.count >= at + 4 else { return nil }
        return payload[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    var lastStreamID: UInt32? {
        guard type == 7, payload.count >= 4 else { return nil }
        return payload[0..<4].reduce(0) { $0 << 8 | UInt32($1) } & 0x7fff_ffff
    }
}

/// The frames in a codec's output.
func parseFrames(_ slices: [ByteSlice]) -> [ParsedFrame] {
    var bytes = slices.flatMap(\.bytes)
    var frames: [ParsedFrame] = []
    while bytes.count >= 9 {
        let n = Int(bytes[0]) << 16 | Int(bytes[1]) << 8 | Int(bytes[2])
        guard bytes.count >= 9 + n else { break }
        let id = (UInt32(bytes[5]) << 24 | UInt32(bytes[6]) << 16 | UInt32(bytes[7]) << 8 | UInt32(bytes[8])) & 0x7fff_ffff
        frames.append(ParsedFrame(type: bytes[3], flags: bytes[4], stream: id, payload: Array(bytes[9..<9 + n])))
        bytes.removeFirst(9 + n)
    }
    return frames
}

/// Feeds raw bytes to a server codec and reads back the frames it answers.
final class RawClient {
    let pool = BufferPool(blockSize: 16 * 1024)
    let events = RecordingServer()
    let stats = CodecStats()
    let server: HTTP2ServerConnection
    var status: HTTPCodecStatus = .ok

    init(_ options: HTTP2Options = HTTP2Options(), preface: Bool = true) {
        server = HTTP2ServerConnection(options: options, pool: pool, stats: stats.stats, callbacks: events)
        if preface { send(Frame.preface + Frame.settings()) }
    }

    @discardableResult
    func send(_ bytes: [UInt8]) -> HTTPCodecStatus {
        guard status == .ok else { return status }
        status = server.dispatch(ByteSlice(copying: bytes))
        return status
    }

    /// Takes the server's output (as written) and parses it into frames.
    func received(written: Bool = true) -> [ParsedFrame] {
        _ = server.flush()
        var out: [ByteSlice] = []
        server.takeOutput(into: &out)
        if written { server.outputWritten() }
        return parseFrames(out)
    }

    /// Sends `frame` until the codec fails (or `limit` times); returns how
    /// many went and the final status.
    func sendUntilFailure(_ frame: [UInt8], limit: Int) -> (sent: Int, status: HTTPCodecStatus) {
        var sent = 0
        while status == .ok && sent < limit {
            send(frame)
            sent += 1
        }
        return (sent, status)
    }
}

/// Feeds raw server frames to a client codec.
final class RawServer {
    let pool = BufferPool(blockSize: 16 * 1024)
    let events = RecordingConnection()
    let stats = CodecStats()
    let client: HTTP2ClientConnection
    var status: HTTPCodecStatus = .ok

    init(_ options: HTTP2Options = HTTP2Options()) {
        client = HTTP2ClientConnection(options: options, pool: pool, stats: stats.stats, callbacks: events)
        send(Frame.settings() + Frame.settingsAck)
    }

    @discardableResult
    func send(_ bytes: [UInt8]) -> HTTPCodecStatus {
        guard status == .ok else { return status }
        status = client.dispatch(ByteSlice(copying: bytes))
        return status
    }

    /// Opens a stream and frames its request.
    func request(_ headers: HTTPHeaders) -> RecordingStream {
        let r = RecordingStream()
        let e = client.newStream(r)
        r.encoder = e
        e.encodeHeaders(headers, endStream: true)
        _ = client.flush()
        var out: [ByteSlice] = []
        client.takeOutput(into: &out)
        client.outputWritten()
        return r
    }
}
