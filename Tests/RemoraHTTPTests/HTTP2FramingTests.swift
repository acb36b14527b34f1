import RemoraCore
import Testing
@testable import RemoraHTTP

@Suite("HTTP2Codec framing")
struct HTTP2FramingTests {
    @Test func trailersRightAfterHeadersNeedNoDataFrame() {
        let p = CodecPair()
        let (response, _) = p.request(get("/"), endStream: true)
        p.pump()
        let encoder = p.serverEvents.encoders[0]
        encoder.encodeHeaders(status(200, [("content-type", "application/grpc")]), endStream: false)
        _ = p.server.flush()
        var out: [ByteSlice] = []
        p.server.takeOutput(into: &out)
        p.server.outputWritten()
        encoder.encodeTrailers(HTTPHeaders([("grpc-status", "0")]))
        _ = p.server.flush()
        var trailers: [ByteSlice] = []
        p.server.takeOutput(into: &trailers)
        p.server.outputWritten()
        let sent = parseFrames(trailers)
        #expect(sent.map(\.type) == [1])             // HEADERS only
        #expect((sent.first?.flags ?? 0) & 1 == 1)   // END_STREAM
        for s in out + trailers { _ = p.client.dispatch(s) }
        #expect(response.head?.status == 200)
        #expect(response.trailers?.first(name: "grpc-status")?.string == "0")
        #expect(response.dataCalls == 0 && response.ended)
    }

    @Test func largeBodiesAreFramedAtTheMaxFrameSize() {
        let p = CodecPair()
        p.pump()
        let (_, request) = p.request(post("/"), endStream: false)
        request.encodeData(slice([UInt8](repeating: 3, count: 40_000)), endStream: true)
        _ = p.client.flush()
        var out: [ByteSlice] = []
        p.client.takeOutput(into: &out)
        let data = parseFrames(out).filter { $0.type == 0 }
        #expect(data.map(\.payload.count) == [16_384, 16_384, 7_232])
        #expect(data.map { $0.flags & 1 } == [0, 0, 1])
    }
}
