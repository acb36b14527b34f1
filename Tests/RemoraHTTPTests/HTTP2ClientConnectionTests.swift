import RemoraCore
import Testing
@testable import RemoraHTTP

@Suite("HTTP2Codec client side")
struct HTTP2ClientCodecTests {
    @Test func invalidResponseHeadersEndTheConnection() {
        let raw = RawServer()
        let stream = raw.request(get("/"))
        let status = raw.send(Frame.headers(stream: 1, [(":status", "200"), ("X-Upper", "v")]))
        guard case .protocolError = status else {
            Issue.record("status \(status)")
            return
        }
        #expect(raw.stats[.rxMessagingError] == 1)
        #expect(stream.head == nil && stream.reset == nil)
        // The owner closes the connection: every stream on it ends.
        raw.client.resetAllStreams()
        #expect(stream.reset == .connectionTermination)
        #expect(raw.client.activeStreams == 0 && !raw.client.canOpenStream)
    }

    @Test func informationalHeadsThenFinalThenTrailers() {
        let raw = RawServer()
        let stream = raw.request(get("/"))
        #expect(raw.send(Frame.headers(stream: 1, [(":status", "100")], endStream: false)) == .ok)
        #expect(raw.send(Frame.headers(stream: 1, [(":status", "103"), ("link", "</a>")], endStream: false)) == .ok)
        #expect(raw.send(Frame.headers(stream: 1, [(":status", "200")], endStream: false)) == .ok)
        #expect(raw.send(Frame.data(stream: 1, Array("ok".utf8))) == .ok)
        #expect(raw.send(Frame.headers(stream: 1, [("grpc-status", "0")], endStream: true)) == .ok)
        #expect(stream.informational.map(\.status) == [100, 103])
        #expect(stream.head?.status == 200)
        #expect(stream.bodyString == "ok")
        #expect(stream.trailers?.first(name: "grpc-status")?.string == "0")
        #expect(stream.ended && stream.reset == nil)
    }

    @Test func aResetDropsTheQueuedBody() {
        var options = HTTP2Options()
        options.initialStreamWindowSize = 65_535
        let p = CodecPair(server: options)
        p.pump()
        let (response, request) = p.request(post("/"), endStream: false)
        // More than the 64 KiB stream window: some stays queued.
        request.encodeData(slice([UInt8](repeating: 1, count: 300_000)), endStream: false)
        p.serverEvents.autoConsume = false
        p.pump()
        #expect(request.bufferedBytes > 0)
        p.serverEvents.encoders[0].resetStream(.localReset)
        p.pump()
        #expect(response.reset == .remoteReset)
        #expect(request.bufferedBytes == 0)
        #expect(p.clientStats[.pendingSendBytes] == 0)
        // Calls after the end are ignored.
        request.encodeData(slice("late"), endStream: true)
        #expect(request.bufferedBytes == 0)
    }

    /// nghttp2 (as in Envoy): a stream over a limit the peer has not yet
    /// acknowledged is refused (REFUSED_STREAM, `stream_refused_errors`);
    /// over an acknowledged one it is a protocol error (the connection ends).
    @Test func streamsOverTheAdvertisedLimit() {
        var options = HTTP2Options()
        options.maxConcurrentStreams = 1
        let raw = RawClient(options)
        _ = raw.received()
        #expect(raw.send(Frame.headers(stream: 1, Frame.requestFields, endStream: false)) == .ok)
        #expect(raw.send(Frame.headers(stream: 3, Frame.requestFields, endStream: false)) == .ok)
        #expect(raw.received().contains { $0.type == 3 && $0.stream == 3 && $0.errorCode == 7 })  // REFUSED_STREAM
        #expect(raw.events.streams.count == 1)
        #expect(raw.stats[.streamRefusedErrors] == 1)

        #expect(raw.send(Frame.settingsAck) == .ok)
        let status = raw.send(Frame.headers(stream: 5, Frame.requestFields, endStream: false))
        guard case .protocolError = status else {
            Issue.record("status \(status)")
            return
        }
        #expect(raw.server.wantsClose)
        #expect(raw.events.streams.count == 1)
    }
}
