import RemoraCore
import Testing
@testable import RemoraHTTP

/// Hand-made frames a correct peer never sends, and what the server codec
/// does with them (Envoy's outcomes: a stream reset, or GOAWAY and close, and
/// the stat).
@Suite("HTTP2Attacks")
struct HTTP2AttackTests {
    @Test func badPrefaceIsAProtocolError() {
        let raw = RawClient(preface: false)
        let status = raw.send(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        guard case .protocolError = status else {
            Issue.record("status \(status)")
            return
        }
        #expect(raw.events.streams.isEmpty)
    }

    /// Envoy's default (`stream_error_on_invalid_http_messaging: false`):
    /// invalid messaging closes the connection, with no frame sent first
    /// (checked against Envoy 1.40 with the same bytes).
    @Test(arguments: [
        [(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/"), ("X-Upper", "v")],
        [(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/"), ("connection", "keep-alive")],
        [(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/"), ("transfer-encoding", "chunked")],
        [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "a"), (":bogus", "x")],
        [(":method", "GET"), (":authority", "a"), (":path", "/")],
    ])
    func invalidHeadersCloseTheConnection(fields: [(String, String)]) {
        let raw = RawClient()
        _ = raw.received()
        let status = raw.send(Frame.headers(stream: 1, fields))
        guard case .protocolError = status else {
            Issue.record("status \(status)")
            return
        }
        #expect(raw.stats[.rxMessagingError] == 1)
        #expect(raw.received().isEmpty)
        #expect(raw.events.streams.allSatisfy { $0.head == nil })
        #expect(raw.server.wantsClose)
    }

    @Test func invalidHeadersResetOnlyTheStreamWhenConfigured() {
        var options = HTTP2Options()
        options.streamErrorOnInvalidHTTPMessaging = true
        let raw = RawClient(options)
        _ = raw.received()
        #expect(raw.send(Frame.headers(stream: 1, Frame.requestFields + [("X-Upper", "v")])) == .ok)
        let frames = raw.received()
        #expect(frames.contains { $0.type == 3 && $0.stream == 1 && $0.errorCode == 1 })  // RST_STREAM PROTOCOL_ERROR
        #expect(raw.events.streams.first?.reset == .protocolError)
        #expect(raw.events.streams.first?.head == nil)
        #expect(raw.stats[.rxMessagingError] == 1 && raw.stats[.txReset] == 1)
        // The connection carries on.
        #expect(raw.send(Frame.headers(stream: 3, Frame.requestFields)) == .ok)
        #expect(raw.events.streams.last?.head?.path?.string == "/")
    }

    /// nghttp2 checks content-length against the DATA received and resets
    /// the stream (PROTOCOL_ERROR) without failing the connection, in Envoy
    /// as here; the request never completes.
    @Test func contentLengthLongerThanTheBodyResetsTheStream() {
        let raw = RawClient()
        _ = raw.received()
        #expect(raw.send(Frame.headers(stream: 1, Frame.requestFields + [("content-length", "5")], endStream: false)) == .ok)
        #expect(raw.send(Frame.data(stream: 1, Array("abc".utf8), endStream: true)) == .ok)
        #expect(raw.received().contains { $0.type == 3 && $0.stream == 1 && $0.errorCode == 1 })
        let stream = raw.events.streams.first
        #expect(stream?.reset == .protocolError)
        #expect(stream?.ended == false)
        #expect(raw.send(Frame.headers(stream: 3, Frame.requestFields)) == .ok)
        #expect(raw.events.streams.count == 2 && raw.events.streams[1].ended)
    }

    @Test func contentLengthExceededResetsTheStream() {
        let raw = RawClient()
        _ = raw.received()
        #expect(raw.send(Frame.headers(stream: 1, Frame.requestFields + [("content-length", "2")], endStream: false)) == .ok)
        raw.send(Frame.data(stream: 1, Array("abcdef".utf8), endStream: true))
        let frames = raw.received()
        #expect(frames.contains { $0.type == 3 && $0.stream == 1 && $0.errorCode == 1 })
        #expect(raw.events.streams.first?.reset == .protocolError)
        #expect(raw.events.streams.first?.body.isEmpty == true)
    }

    @Test func headerListOverTheLimitResetsTheStream() {
        let raw = RawClient()
        _ = raw.received()
        let many = (0..<100).map { ("x-h\($0)", "v") }
        #expect(raw.send(Frame.headers(stream: 1, Frame.requestFields + many)) == .ok)
        #expect(raw.stats[.headerOverflow] == 1)
        #expect(raw.received().contains { $0.type == 3 && $0.stream == 1 })
        #expect(raw.events.streams.first?.head == nil)
        #expect(raw.events.streams.first?.reset != nil)
        // Bytes: one 61 KiB value.
        // Frames stay under the 16 KiB frame size: HEADERS then CONTINUATIONs.
        let block = Frame.hpack(Frame.requestFields + [("x-big", String(repeating: "a", count: 61 * 1024))])
        var pieces = stride(from: 0, to: block.count, by: 16_000).map { Array(block[$0..<min($0 + 16_000, block.count)]) }
        var bytes = Frame.frame(type: 1, flags: 1, stream: 3, pieces.removeFirst())
        for (i, piece) in pieces.enumerated() { bytes += Frame.continuation(stream: 3, piece, endHeaders: i == pieces.count - 1) }
        #expect(raw.send(bytes) == .ok)
        #expect(raw.stats[.headerListSizeTooLarge] == 1)  // Envoy's stat for the byte limit
        #expect(raw.stats[.headerOverflow] == 1)
        // Under both limits: fine.
        #expect(raw.send(Frame.headers(stream: 5, Frame.requestFields + Array(many.prefix(90)))) == .ok)
        #expect(raw.events.streams.last?.head?.count == 94)
    }

    /// CONTINUATION frames are bounded by the header list limits, as in
    /// Envoy: 50 one-field frames are a valid head; a flood of them overflows
    /// the list and resets the stream (INTERNAL_ERROR, `header_overflow`).
    @Test func continuationFramesMeetTheHeaderListLimits() {
        let raw = RawClient()
        _ = raw.received()
        var bytes = Frame.frame(type: 1, flags: 1, stream: 1, Frame.hpack(Frame.requestFields))
        for i in 0..<50 { bytes += Frame.continuation(stream: 1, Frame.hpack([("x-c\(i)", "v")]), endHeaders: i == 49) }
        #expect(raw.send(bytes) == .ok)
        #expect(raw.events.streams.first?.head?.count == 54)

        bytes = Frame.frame(type: 1, flags: 1, stream: 3, Frame.hpack(Frame.requestFields))
        for i in 0..<2000 { bytes += Frame.continuation(stream: 3, Frame.hpack([("x-c\(i)", "v")]), endHeaders: i == 1999) }
        #expect(raw.send(bytes) == .ok)
        #expect(raw.stats[.headerOverflow] == 1)
        #expect(raw.received().contains { $0.type == 3 && $0.stream == 3 && $0.errorCode == 2 })
        #expect(raw.events.streams.last?.head == nil && raw.events.streams.last?.reset != nil)
    }

    @Test func emptyContinuationFramesAreAnEmptyFrameFlood() {
        let raw = RawClient()
        _ = raw.received()
        var bytes = Frame.frame(type: 1, flags: 1, stream: 1, Frame.hpack(Frame.requestFields))
        bytes += Frame.continuation(stream: 1, [], endHeaders: false)
        bytes += Frame.continuation(stream: 1, [], endHeaders: false)
        #expect(raw.send(bytes) == .inboundFramesWithEmptyPayload)
        #expect(raw.stats[.inboundEmptyFramesFlood] == 1)
    }

    @Test func emptyDataFramesAreAnEmptyFrameFlood() {
        let raw = RawClient()
        _ = raw.received()
        #expect(raw.send(Frame.headers(stream: 1, Frame.requestFields, endStream: false)) == .ok)
        #expect(raw.send(Frame.data(stream: 1, [])) == .ok)
        #expect(raw.send(Frame.data(stream: 1, [])) == .inboundFramesWithEmptyPayload)
        #expect(raw.stats[.inboundEmptyFramesFlood] == 1)
    }

    @Test func pingFloodWithAPeerThatDoesNotRead() {
        let raw = RawClient()
        var status = HTTPCodecStatus.ok
        for _ in 0..<20 where status == .ok {
            status = raw.send((0..<100).flatMap { _ in Frame.ping() })
            _ = raw.received(written: false)
        }
        guard case .bufferFlood = status else {
            Issue.record("status \(status)")
            return
        }
        #expect(raw.stats[.outboundControlFlood] == 1)
    }

    @Test func pingsFromAPeerThatReadsAreFine() {
        let raw = RawClient()
        for _ in 0..<30 {
            #expect(raw.send((0..<100).flatMap { _ in Frame.ping() }) == .ok)
            #expect(raw.received().filter { $0.type == 6 && $0.flags == 1 }.count == 100)
        }
        #expect(raw.stats[.outboundControlFlood] == 0)
    }

    @Test func responsesToAPeerThatDoesNotReadAreAnOutboundFlood() {
        var options = HTTP2Options()
        options.maxOutboundFrames = 20
        let raw = RawClient(options)
        raw.events.onNew = { _, encoder in encoder.encodeHeaders(status(200), endStream: true) }
        var result = HTTPCodecStatus.ok
        for i in 0..<30 where result == .ok {
            result = raw.send(Frame.headers(stream: UInt32(2 * i + 1), Frame.requestFields))
            _ = raw.received(written: false)
        }
        #expect(result == .bufferFlood("Too many frames in the outbound queue."))
        #expect(raw.stats[.outboundFlood] == 1)
    }

    @Test func priorityFlood() {
        let raw = RawClient()
        _ = raw.received()
        let (sent, status) = raw.sendUntilFailure(Frame.priority(stream: 1), limit: 200)
        #expect(sent == 101)
        #expect(status == .bufferFlood("Too many PRIORITY frames"))
        #expect(raw.stats[.inboundPriorityFramesFlood] == 1)
    }

    @Test func windowUpdateFlood() {
        let raw = RawClient()
        _ = raw.received()
        let (sent, status) = raw.sendUntilFailure(Frame.windowUpdate(stream: 0, 1), limit: 100)
        #expect(sent == 6)  // 5 + 2 × (0 streams + 10 × 0 DATA frames sent): the sixth ends it, as Envoy 1.40 (probed)
        #expect(status == .bufferFlood("Too many WINDOW_UPDATE frames"))
        #expect(raw.stats[.inboundWindowUpdateFramesFlood] == 1)
    }

    /// CVE-2023-44487: nghttp2's reset rate limit ends the session; the
    /// counts the connection manager needs for Envoy's premature-reset rule
    /// are there.
    /// Envoy 1.40, same bytes: GOAWAY(INTERNAL_ERROR) after 1000 resets, close.
    @Test func rapidResetEndsTheSession() {
        let raw = RawClient()
        _ = raw.received()
        var goAway: ParsedFrame?
        for i in 0..<1100 where goAway == nil {
            let id = UInt32(2 * i + 1)
            raw.send(Frame.headers(stream: id, Frame.requestFields) + Frame.rst(stream: id))
            goAway = raw.received().first { $0.type == 7 }
        }
        #expect(goAway?.errorCode == 2)
        guard case .protocolError = raw.status else {
            Issue.record("status \(raw.status)")
            return
        }
        #expect(raw.server.streamsResetByPeer >= 1000)
        #expect(raw.stats[.rxReset] == Int64(raw.server.streamsResetByPeer))
        #expect(raw.events.streams.allSatisfy { $0.reset == .remoteReset })
        #expect(raw.server.wantsClose)
    }
}
