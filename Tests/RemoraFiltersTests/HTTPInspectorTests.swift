import Testing
import RemoraCore
@testable import RemoraFilters

/// The HTTP inspector's verdicts. Every row of `envoyVerdicts` was sent to
/// the real Envoy 1.40 (a listener with http_inspector and chains for
/// http/1.0, http/1.1, h2c and the rest) and records which chain took it;
/// `needMoreData` rows are those Envoy kept waiting on until its
/// listener_filters_timeout.
@Suite struct HTTPInspectorTests {
    typealias Verdict = HTTPInspector.Verdict

    static let h10 = Verdict.detected(.http10)
    static let h11 = Verdict.detected(.http11)
    static let h2c = Verdict.detected(.http2)

    static let envoyVerdicts: [(String, [UInt8], Verdict)] = [
        ("HTTP/1.1", b("GET / HTTP/1.1\r\n"), h11),
        ("HTTP/1.0", b("GET / HTTP/1.0\r\n"), h10),
        ("h2c preface", b("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), h2c),
        ("h2c preface and a frame", b("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + [0, 0, 0, 4, 0, 0, 0, 0, 0], h2c),
        ("wrong preface tail: PRI line is HTTP/2.0", b("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"), h10),
        ("preface diverging early", b("PRI * HTTP/2.1\r\n"), h10),
        ("preface prefix", b("PRI * HTTP/2.0\r\n\r\nSM\r\n"), .needMoreData),
        ("not a target", b("hello world\r\n"), .notHTTP),
        ("custom method", b("FOO / HTTP/1.1\r\n"), h11),
        ("lowercase method", b("get / HTTP/1.1\r\n"), h11),
        ("version without minor", b("GET / HTTP/2\r\n"), .notHTTP),
        ("HTTP/0.9", b("GET /\r\n"), h10),
        ("bare LF", b("GET / HTTP/1.1\n"), h11),
        ("leading CRLF", b("\r\nGET / HTTP/1.1\r\n"), .notHTTP),
        ("TLS record", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01], .notHTTP),
        ("double space", b("GET  / HTTP/1.1\r\n"), h11),
        ("absolute form", b("GET http://x/ HTTP/1.1\r\n"), h11),
        ("trailing space", b("GET / HTTP/1.1 \r\n"), h11),
        ("XTTP", b("GET / XTTP/1.1\r\n"), .notHTTP),
        ("CONNECT authority", b("CONNECT a:80 HTTP/1.1\r\n"), h11),
        ("PRI HTTP/1.1", b("PRI * HTTP/1.1\r\n"), h11),
        ("HTTP/1.2", b("GET / HTTP/1.2\r\n"), h10),
        ("lowercase version", b("GET / http/1.1\r\n"), .notHTTP),
        ("no target", b("GET HTTP/1.1\r\n"), .notHTTP),
        ("DEL in path", b("GET /a\u{7f}b HTTP/1.1\r\n"), .notHTTP),
        ("relative target", b("GET abc HTTP/1.1\r\n"), .notHTTP),
        ("leading space", b(" GET / HTTP/1.1\r\n"), .notHTTP),
        ("tabs", b("GET\t/\tHTTP/1.1\r\n"), h11),
        ("status line", b("HTTP/1.1 200 OK\r\n"), .notHTTP),
        ("CR without LF", b("GET / HTTP/1.1\r"), .needMoreData),
        ("line of 65536 bytes", longLine(65536), h11),
        ("line of 65537 bytes", longLine(65537), .tooLarge),
        ("65535 bytes, no LF", [UInt8](repeating: UInt8(ascii: "A"), count: 65535), .needMoreData),
        ("0.9 target ending in HTTP/1.1", b("GET /HTTP/1.1\r\n"), h11),
        ("SOH between tokens", b("GET\u{01}/\u{01}HTTP/1.1\r\n"), .notHTTP),
        ("0.9 with SOH", b("GET\u{01}/\r\n"), .notHTTP),
        ("method only", b("GET\r\n"), .notHTTP),
        ("extra token", b("GET / x HTTP/1.1\r\n"), .notHTTP),
        ("lone CR inside", b("GET / HTTP/1.1\rX\r\n"), .notHTTP),
        ("CR as separator", b("GET /\r HTTP/1.1\r\n"), h11),
        ("CR CR LF", b("GET / HTTP/1.1\r\r\n"), h11),
        ("OPTIONS *", b("OPTIONS * HTTP/1.1\r\n"), h11),
        ("GET *", b("GET * HTTP/1.1\r\n"), h11),
        ("CONNECT without port", b("CONNECT abc HTTP/1.1\r\n"), h11),
        ("CONNECT path", b("CONNECT /x HTTP/1.1\r\n"), h11),
        ("scheme characters", b("GET h2-x.y+z://host/p HTTP/1.1\r\n"), h11),
        ("scheme starting with a digit", b("GET 1http://host/p HTTP/1.1\r\n"), .notHTTP),
        ("host with @@", b("GET http://a@@b/ HTTP/1.1\r\n"), .notHTTP),
        ("host with a quote", b("GET http://a\"b/ HTTP/1.1\r\n"), .notHTTP),
        ("query after host", b("GET http://host?x HTTP/1.1\r\n"), h11),
        ("method with (", b("GE(T / HTTP/1.1\r\n"), .notHTTP),
        ("UTF-8 in path", [UInt8]("GET /".utf8) + [0xC3, 0xA9] + b(" HTTP/1.1\r\n"), .notHTTP),
        ("high byte first", [0xC3] + b("GET / HTTP/1.1\r\n"), .notHTTP),
        ("HTTP/9.9", b("GET / HTTP/9.9\r\n"), h10),
        ("HTTP/1.1x", b("GET / HTTP/1.1x\r\n"), .notHTTP),
        ("HTTP/a.1", b("GET / HTTP/a.1\r\n"), .notHTTP),
        ("tab inside path", b("GET /a\tb HTTP/1.1\r\n"), .notHTTP),
        ("form feed inside path", b("GET /a\u{0c}b HTTP/1.1\r\n"), .notHTTP),
        ("0.9 with form feed", b("GET /a\u{0c}b\r\n"), .notHTTP),
        ("NUL first", [0] + b("GET / HTTP/1.1\r\n"), .notHTTP),
        ("SOH after method, partial", b("GET\u{01}"), .notHTTP),
        ("non-ASCII in method, partial", [UInt8(ascii: "G"), 0xC3], .notHTTP),
        ("trailing SOH", b("GET / HTTP/1.1\u{01}\r\n"), h11),
        ("trailing VT", b("GET / HTTP/1.1\u{0b}\r\n"), h11),
        ("FF separators", b("GET\u{0c}/\u{0c}HTTP/1.1\r\n"), h11),
        ("VT separators", b("GET\u{0b}/\u{0b}HTTP/1.1\r\n"), h11),
        ("US after method", b("GET\u{1f}/ HTTP/1.1\r\n"), .notHTTP),
        ("NUL after method", [UInt8]("GET".utf8) + [0] + b("/ HTTP/1.1\r\n"), .notHTTP),
        ("trailing NUL", b("GET / HTTP/1.1") + [0] + b("\r\n"), h11),
        ("trailing DEL", b("GET / HTTP/1.1\u{7f}\r\n"), .notHTTP),
        ("0.9 trailing FF", b("GET /\u{0c}\r\n"), .notHTTP),
        ("0.9 with bare LF", b("GET /\n"), h10),
        ("method and space", b("GET \r\n"), .notHTTP),
        ("VT then SOH", b("GET\u{0b}\u{01}/ HTTP/1.1\r\n"), h11),
        ("SOH before target", b("GET \u{01}/ HTTP/1.1\r\n"), h11),
        ("SOH before version", b("GET / \u{01}HTTP/1.1\r\n"), h11),
        ("SOH between target and version", b("GET /\u{01}HTTP/1.1\r\n"), h11),
        ("SOH after a 31-byte method", b(String(repeating: "A", count: 31) + "\u{01}/ HTTP/1.1\r\n"), .notHTTP),
        ("SOH after a 32-byte method", b(String(repeating: "A", count: 32) + "\u{01}/ HTTP/1.1\r\n"), h11),
        ("SOH after a 31-byte method, partial", b(String(repeating: "A", count: 31) + "\u{01}"), .notHTTP),
        ("SOH after a 32-byte method, partial", b(String(repeating: "A", count: 32) + "\u{01}"), .needMoreData),
        ("NUL after a 40-byte method", b(String(repeating: "A", count: 40)) + [0] + b("/a/b?c=d  HTTP/9.9\t\n"), h10),
        ("( after a 40-byte method", b(String(repeating: "A", count: 40) + "(/ HTTP/1.1\r\n"), .notHTTP),
        ("one bad byte", b("("), .notHTTP),
        ("one letter", b("A"), .needMoreData),
        ("partial target with SOH", b("GET /\u{01}"), .needMoreData),
        ("partial target with DEL", b("GET /\u{7f}"), .needMoreData),
    ]

    static func b(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// `GET /aaa… HTTP/1.1\r\n`, `total` bytes long.
    static func longLine(_ total: Int) -> [UInt8] {
        b("GET /") + [UInt8](repeating: UInt8(ascii: "a"), count: total - 16) + b(" HTTP/1.1\r\n")
    }

    static func verdict(_ bytes: [UInt8], pieces: Int = 1) -> Verdict {
        var inspector = HTTPInspector()
        var result = Verdict.needMoreData
        let size = max(1, (bytes.count + pieces - 1) / pieces)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + size)
            result = bytes[start..<end].withUnsafeBytes { inspector.inspect($0) }
            start = end
        }
        return result
    }

    @Test(arguments: 0..<envoyVerdicts.count)
    func matchesEnvoy(_ row: Int) {
        let (label, bytes, expected) = Self.envoyVerdicts[row]
        #expect(Self.verdict(bytes) == expected, "\(label)")
    }

    /// Byte by byte, the verdict is the same as all at once (a trickling client).
    @Test(arguments: 0..<envoyVerdicts.count)
    func byteAtATime(_ row: Int) {
        let (label, bytes, expected) = Self.envoyVerdicts[row]
        guard bytes.count < 1000 else { return }
        #expect(Self.verdict(bytes, pieces: bytes.count) == expected, "\(label)")
    }

    @Test func decidesOnTheFirstLineAlone() {
        var inspector = HTTPInspector()
        #expect(inspector.inspect(ByteSlice(copying: "GET / HTT")) == .needMoreData)
        #expect(inspector.inspect(ByteSlice(copying: "P/1.1\r\nHost: x\r\n")) == Self.h11)
        // Later bytes change nothing.
        #expect(inspector.inspect(ByteSlice(copying: "garbage")) == Self.h11)
        #expect(inspector.inspectedBytes == 16)
    }

    @Test func stopsAtTheLimitExactly() {
        var inspector = HTTPInspector()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 40_000)
        #expect(chunk.withUnsafeBytes { inspector.inspect($0) } == .needMoreData)
        #expect(chunk.withUnsafeBytes { inspector.inspect($0) } == .tooLarge)
        #expect(inspector.inspectedBytes == HTTPInspector.maxInspectedBytes)
    }

    @Test func protocolNames() {
        #expect(HTTPInspector.DetectedProtocol.http10.alpnList == ["http/1.0"])
        #expect(HTTPInspector.DetectedProtocol.http11.alpnList == ["http/1.1"])
        #expect(HTTPInspector.DetectedProtocol.http2.alpnList == ["h2c"])
    }
}
