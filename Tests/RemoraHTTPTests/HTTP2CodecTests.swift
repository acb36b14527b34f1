import RemoraCore
import Testing
@testable import RemoraHTTP

/// The HTTP/2 server and client codecs back to back in memory.
@Suite("HTTP2Codec")
struct HTTP2CodecTests {
    @Test func requestAndResponseWithBodiesAndTrailers() {
        let p = CodecPair()
        p.serverEvents.onNew = { _, _ in }
        let (response, request) = p.request(post("/upload", [("content-type", "text/plain")]), endStream: false)
        request.encodeData(slice("hello, "), endStream: false)
        request.encodeData(slice("world"), endStream: false)
        request.encodeTrailers(HTTPHeaders([("x-checksum", "abc")]))
        p.pump()
        #expect(p.serverStatus == .ok && p.clientStatus == .ok)
        let s = try! #require(p.serverEvents.streams.first)
        #expect(s.head?.method?.string == "POST")
        #expect(s.head?.path?.string == "/upload")
        #expect(s.head?.authority?.string == "example.com")
        #expect(s.head?.scheme?.string == "http")
        #expect(s.head?.first(name: "content-type")?.string == "text/plain")
        #expect(s.bodyString == "hello, world")
        #expect(s.trailers?.first(name: "x-checksum")?.string == "abc")
        #expect(s.ended)

        let encoder = p.serverEvents.encoders[0]
        encoder.encodeHeaders(status(200, [("server", "remora")]), endStream: false)
        encoder.encodeData(slice("response body"), endStream: false)
        encoder.encodeTrailers(HTTPHeaders([("grpc-status", "0")]))
        p.pump()
        #expect(response.head?.status == 200)
        #expect(response.head?.first(name: "server")?.string == "remora")
        #expect(response.bodyString == "response body")
        #expect(response.trailers?.first(name: "grpc-status")?.string == "0")
        #expect(response.reset == nil && s.reset == nil)
        #expect(p.server.activeStreams == 0 && p.client.activeStreams == 0)
        #expect(p.serverStats[.trailers] == 1 && p.clientStats[.trailers] == 1)
        #expect(p.serverStats[.streamsActive] == 0)
    }

    @Test func headersOnlyExchangeAndInformationalHeads() {
        let p = CodecPair()
        let (response, _) = p.request(get("/", [("expect", "100-continue")]), endStream: true)
        p.pump()
        let s = try! #require(p.serverEvents.streams.first)
        #expect(s.ended && s.body.isEmpty && s.dataCalls == 0)
        p.serverEvents.encoders[0].encode1xxHeaders(status(100))
        p.serverEvents.encoders[0].encodeHeaders(status(204), endStream: true)
        p.pump()
        #expect(response.informational.map(\.status) == [100])
        #expect(response.head?.status == 204 && response.ended)
    }

    @Test func hundredConcurrentStreams() {
        let p = CodecPair()
        var responses: [RecordingStream] = []
        for i in 0..<100 {
            let (r, e) = p.request(post("/\(i)"), endStream: false)
            e.encodeData(slice("request \(i)"), endStream: true)
            responses.append(r)
        }
        p.pump()
        #expect(p.serverEvents.streams.count == 100)
        #expect(p.server.activeStreams == 100)
        // Answer in reverse order: each response finds its own stream.
        for (s, e) in zip(p.serverEvents.streams, p.serverEvents.encoders).reversed() {
            let path = s.head!.path!.string
            #expect(s.bodyString == "request \(path.dropFirst())")
            e.encodeHeaders(status(200), endStream: false)
            e.encodeData(slice("response to \(path)"), endStream: true)
        }
        p.pump()
        for (i, r) in responses.enumerated() {
            #expect(r.bodyString == "response to /\(i)" && r.ended)
        }
        #expect(p.server.activeStreams == 0 && p.client.activeStreams == 0)
    }

    @Test func clientResetReachesTheServerStream() {
        let p = CodecPair()
        let (response, request) = p.request(post("/"), endStream: false)
        p.pump()
        request.resetStream(.localReset)
        #expect(response.reset == .localReset)
        p.pump()
        #expect(p.serverEvents.streams[0].reset == .remoteReset)
        #expect(p.serverStats[.rxReset] == 1 && p.clientStats[.txReset] == 1)
        #expect(p.server.streamsResetByPeer == 1)
        #expect(p.server.activeStreams == 0 && p.client.activeStreams == 0)
    }

    @Test func serverRefusalReachesTheClientAsRetriable() {
        let p = CodecPair()
        let (response, _) = p.request(get("/"), endStream: true)
        p.pump()
        p.serverEvents.encoders[0].resetStream(.localRefusedStreamReset)
        p.pump()
        #expect(p.serverEvents.streams[0].reset == .localRefusedStreamReset)
        #expect(response.reset == .remoteRefusedStreamReset)
    }

    @Test func gracefulGoAwayLetsStreamsInFlightFinish() {
        let p = CodecPair()
        let (first, _) = p.request(get("/1"), endStream: true)
        let (second, _) = p.request(get("/2"), endStream: true)
        p.pump()
        p.server.shutdownNotice()
        p.pump()
        #expect(p.clientEvents.goAways.count == 1)
        #expect(p.clientEvents.goAways.first?.1 == Int32.max)
        #expect(!p.client.canOpenStream)
        // A stream opened after GOAWAY is refused locally, never sent.
        let (late, _) = p.request(get("/late"), endStream: true)
        #expect(late.reset == .localRefusedStreamReset)
        p.server.goAway()
        p.pump()
        #expect(p.clientEvents.goAways.last?.1 == 3)
        #expect(p.serverStats[.goawaySent] == 1)
        for e in p.serverEvents.encoders { e.encodeHeaders(status(200), endStream: true) }
        p.pump()
        #expect(first.head?.status == 200 && second.head?.status == 200)
        #expect(first.reset == nil && second.reset == nil)
        #expect(p.serverEvents.streams.count == 2)
        #expect(p.client.goAwayReceived?.lastStreamID == 3)
    }

    @Test func streamsAboveTheFinalGoAwayAreRefused() {
        let p = CodecPair()
        let (first, _) = p.request(get("/1"), endStream: true)
        p.pump()
        p.server.goAway()
        _ = p.server.flush()
        // Sent before the client saw the GOAWAY: above its last stream id.
        let (second, _) = p.request(get("/2"), endStream: true)
        p.pump()
        #expect(second.reset == .remoteRefusedStreamReset)
        #expect(p.serverEvents.streams.count == 1)
        p.serverEvents.encoders[0].encodeHeaders(status(200), endStream: true)
        p.pump()
        #expect(first.head?.status == 200)
        #expect(p.server.wantsClose)
    }

    @Test func aStreamWhoseConsumerDoesNotConsumeStallsAlone() {
        var options = HTTP2Options()
        options.initialStreamWindowSize = 65_535
        options.initialConnectionWindowSize = 65_535
        let p = CodecPair(server: options)
        p.serverEvents.onNew = { s, _ in if p.serverEvents.streams.count == 1 { s.autoConsume = false } }
        let big = [UInt8](repeating: 0x61, count: 200_000)
        let (_, slow) = p.request(post("/slow"), endStream: false)
        slow.encodeData(slice(big), endStream: true)
        let (_, fast) = p.request(post("/fast"), endStream: false)
        fast.encodeData(slice(big), endStream: true)
        p.pump()
        let stalled = p.serverEvents.streams[0], done = p.serverEvents.streams[1]
        // The other stream completes although the connection window is one
        // stream window: the connection window reopens on receipt.
        #expect(done.body.count == 200_000 && done.ended)
        #expect(stalled.body.count == 65_535 && !stalled.ended)
        #expect(slow.bufferedBytes == 200_000 - 65_535)
        // Read-disabled: consuming opens nothing yet.
        let encoder = p.serverEvents.encoders[0]
        encoder.readDisable(true)
        encoder.consumed(stalled.body.count)
        p.pump()
        #expect(stalled.body.count == 65_535)
        stalled.autoConsume = true
        encoder.readDisable(false)
        p.pump()
        #expect(stalled.body.count == 200_000 && stalled.ended)
        #expect(stalled.body == big)
    }

    @Test func queuedBodyCrossesTheWatermarksAndIsNotCopied() {
        var options = HTTP2Options()
        options.streamBufferHighWatermark = 1000
        let p = CodecPair(client: options)
        let (response, request) = p.request(post("/"), endStream: false)
        let body = slice([UInt8](repeating: 7, count: 5000))
        request.encodeData(body, endStream: true)
        #expect(response.aboveHigh == 1 && response.belowLow == 0)
        #expect(p.clientStats[.pendingSendBytes] == 5000)
        // Framed DATA references the queued bytes: the body's buffer appears
        // in the output as is.
        _ = p.client.flush()
        var out: [ByteSlice] = []
        p.client.takeOutput(into: &out)
        #expect(out.contains { $0.storage === body.storage })
        #expect(response.belowLow == 1)
        #expect(p.clientStats[.pendingSendBytes] == 0)
        p.client.outputWritten()
        for s in out { _ = p.server.dispatch(s) }
        p.pump()
        #expect(p.serverEvents.streams[0].body.count == 5000)
    }

    @Test func receivedDataReferencesTheReadBuffer() {
        let p = CodecPair()
        let (_, request) = p.request(post("/"), endStream: false)
        request.encodeData(slice("abcdef"), endStream: true)
        _ = p.client.flush()
        var out: [ByteSlice] = []
        p.client.takeOutput(into: &out)
        // Deliver everything as one read buffer.
        let read = ByteSlice(copying: out.flatMap(\.bytes))
        _ = p.server.dispatch(read)
        #expect(p.serverEvents.streams[0].bodyString == "abcdef")
        #expect(p.serverEvents.streams[0].chunkStorages == [ObjectIdentifier(read.storage)])
    }

    @Test func pingIsAcknowledged() {
        let p = CodecPair()
        p.pump()
        p.client.sendPing(0x0102_0304_0506_0708)
        p.pump()
        #expect(p.clientEvents.pingAcks == [0x0102_0304_0506_0708])
    }

    @Test func peerSettingsLimitNewStreams() {
        var options = HTTP2Options()
        options.maxConcurrentStreams = 3
        let p = CodecPair(server: options)
        p.pump()
        #expect(p.clientEvents.settings == [3])
        #expect(p.client.peerMaxConcurrentStreams == 3)
        for i in 0..<3 {
            #expect(p.client.canOpenStream)
            _ = p.request(get("/\(i)"), endStream: true)
        }
        #expect(!p.client.canOpenStream)
        p.pump()
        p.serverEvents.encoders[0].encodeHeaders(status(200), endStream: true)
        p.pump()
        #expect(p.client.canOpenStream)
    }

    @Test func headersAreLowercasedAndConnectionSpecificOnesDropped() {
        let p = CodecPair()
        _ = p.request(get("/", [("Connection", "keep-alive"), ("Keep-Alive", "5"), ("Transfer-Encoding", "chunked"),
                                ("Upgrade", "h2c"), ("TE", "trailers"), ("X-Mixed-Case", "Value")]), endStream: true)
        p.pump()
        #expect(p.serverStatus == .ok)
        let head = try! #require(p.serverEvents.streams.first?.head)
        #expect(head.map(\.nameString) == [":method", ":scheme", ":authority", ":path", "te", "x-mixed-case"])
        #expect(head.first(name: "x-mixed-case")?.string == "Value")
    }

    @Test func cookieCrumbsAreJoined() {
        let p = CodecPair()
        _ = p.request(get("/", [("cookie", "a=1"), ("x-other", "v"), ("cookie", "b=2"), ("cookie", "c=3")]), endStream: true)
        p.pump()
        let head = try! #require(p.serverEvents.streams.first?.head)
        #expect(head.values(name: "cookie").map(\.string) == ["a=1; b=2; c=3"])
        #expect(head.first(name: "x-other")?.string == "v")
    }

    @Test func serverSendsEnvoysSettings() {
        let raw = RawClient()
        let frames = raw.received()
        let settings = try! #require(frames.first { $0.type == 4 && $0.flags == 0 })
        var values: [UInt16: UInt32] = [:]
        var i = 0
        while i + 6 <= settings.payload.count {
            let b = settings.payload
            values[UInt16(b[i]) << 8 | UInt16(b[i + 1])] = b[i + 2..<i + 6].reduce(0) { $0 << 8 | UInt32($1) }
            i += 6
        }
        #expect(values[1] == 4096)                 // HEADER_TABLE_SIZE
        #expect(values[3] == 2_147_483_647)        // MAX_CONCURRENT_STREAMS
        #expect(values[4] == 268_435_456)          // INITIAL_WINDOW_SIZE
        #expect(values[8] == 0)                    // ENABLE_CONNECT_PROTOCOL off
        let windowUpdate = try! #require(frames.first { $0.type == 8 && $0.stream == 0 })
        #expect(windowUpdate.payload.reduce(0) { $0 << 8 | UInt32($1) } == 268_435_456 - 65_535)
        #expect(frames.contains { $0.type == 4 && $0.flags == 1 })  // our SETTINGS acknowledged
    }

    @Test func connectionWatermarksReachEveryStream() {
        let p = CodecPair()
        _ = p.request(get("/1"), endStream: true)
        _ = p.request(get("/2"), endStream: true)
        p.pump()
        p.server.onUnderlyingConnectionAboveWriteBufferHighWatermark()
        p.server.onUnderlyingConnectionAboveWriteBufferHighWatermark()  // once only
        #expect(p.serverEvents.streams.map(\.aboveHigh) == [1, 1])
        _ = p.request(get("/3"), endStream: true)
        p.pump()
        #expect(p.serverEvents.streams.map(\.aboveHigh) == [1, 1, 1])
        p.server.onUnderlyingConnectionBelowWriteBufferLowWatermark()
        #expect(p.serverEvents.streams.map(\.belowLow) == [1, 1, 1])

        p.client.onUnderlyingConnectionAboveWriteBufferHighWatermark()
        let (opened, _) = p.request(get("/4"), endStream: true)
        #expect(opened.aboveHigh == 1)
    }

    @Test func aClientStreamCountsFromNewStreamUntilItEnds() {
        let p = CodecPair()
        p.pump()
        let r = RecordingStream()
        let e = p.client.newStream(r)
        #expect(p.client.activeStreams == 1)
        e.resetStream(.localReset)
        #expect(r.reset == .localReset)
        #expect(p.client.activeStreams == 0)
        p.pump()
        #expect(p.serverEvents.streams.isEmpty)
    }

    @Test func gaugesReturnToZeroWhenTheCodecGoes() {
        let stats = CodecStats()
        let events = RecordingConnection()
        do {
            let client = HTTP2ClientConnection(pool: BufferPool(blockSize: 4096), stats: stats.stats, callbacks: events)
            let r = RecordingStream()
            let e = client.newStream(r)
            e.encodeHeaders(post("/"), endStream: false)
            // Over the 64 KiB window a peer has before its SETTINGS: some stays queued.
            e.encodeData(slice([UInt8](repeating: 1, count: 100_000)), endStream: false)
            _ = client.flush()
            #expect(stats[.streamsActive] == 1 && stats[.outboundFramesActive] > 0)
            #expect(stats[.pendingSendBytes] == 100_000 - 65_535)
        }
        #expect(stats[.streamsActive] == 0)
        #expect(stats[.pendingSendBytes] == 0)
        #expect(stats[.outboundFramesActive] == 0 && stats[.outboundControlFramesActive] == 0)
    }
}
