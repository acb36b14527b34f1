import RemoraCore
import Testing
@testable import RemoraHTTP

/// A client stream encoder that keeps the pseudo-header heads it is given
/// (what a codec without a fast path for heads in parts receives).
private final class HeadRecordingEncoder: HTTPRequestEncoder {
    var heads: [(fields: [String], endStream: Bool)] = []

    func encodeHeaders(_ headers: HTTPHeaders, endStream: Bool) {
        heads.append((headers.map { "\($0.nameString): \($0.valueString)" }, endStream))
    }
    func encodeData(_ chunk: ByteSlice, endStream: Bool) {}
    func encodeTrailers(_ trailers: HTTPHeaders) {}
    func resetStream(_ reason: HTTPStreamResetReason) {}
    func readDisable(_ disable: Bool) {}
    func consumed(_ count: Int) {}
    var bufferedBytes: Int { 0 }
}

@Suite("HTTPRequestHead")
struct HTTPRequestHeadTests {
    @Test func codecWithoutFastPathGetsThePseudoHeaderHead() {
        let fields = HTTPHeaders([("x-a", "1"), ("transfer-encoding", "chunked")])
        let encoder = HeadRecordingEncoder()
        let stream: any HTTPRequestEncoder = encoder
        stream.encodeHeaders(HTTPRequestHead(method: .post, scheme: "https", authority: "up:8080", path: "/p?q", fields: fields,
                                             framing: .chunked), endStream: false)
        #expect(encoder.heads.count == 1)
        #expect(encoder.heads.first?.fields == [":method: POST", ":scheme: https", ":authority: up:8080", ":path: /p?q",
                                                "x-a: 1", "transfer-encoding: chunked"])
        #expect(encoder.heads.first?.endStream == false)
    }

    @Test func connectHasNoSchemeOrPath() {
        // RFC 9113 §8.5.
        let head = HTTPRequestHead(method: .connect, scheme: "http", authority: "dest:443", path: "", fields: HTTPHeaders(),
                                   framing: .tunnel)
        #expect(head.pseudoHeaderHead().map { "\($0.nameString): \($0.valueString)" } == [":method: CONNECT", ":authority: dest:443"])
    }
}
