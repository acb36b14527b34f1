import Foundation
import RemoraCore
import RemoraFuzzSupport
import Testing
@testable import RemoraFilters

/// The TLS inspector's ClientHello parser: real ClientHellos (captured from
/// `openssl s_client`, in Tests/Fuzz/corpus/tls/), and built ones broken at
/// each rule BoringSSL applies before Envoy's SNI callback.
@Suite struct TLSClientHelloParserTests {
    typealias Parser = TLSClientHelloParser
    typealias B = ClientHelloBuilder

    static let corpusDirectory: String = {
        // Tests/RemoraFiltersTests/<this file> → Tests/Fuzz/corpus/tls
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/Fuzz/corpus/tls"
    }()

    static func corpus(_ name: String) throws -> [UInt8] {
        Array(try #require(FileManager.default.contents(atPath: corpusDirectory + "/" + name)))
    }

    /// Feeds `bytes` in pieces of `piece` bytes (all at once when nil).
    static func parse(_ bytes: [UInt8], piece: Int? = nil, max: Int = Parser.defaultMaxClientHelloSize) -> (Parser.Verdict, Int) {
        var parser = Parser(maxClientHelloSize: max)
        var verdict = Parser.Verdict.needMoreData
        let step = piece ?? Swift.max(bytes.count, 1)
        var at = 0
        while at < bytes.count {
            let chunk = Array(bytes[at..<min(bytes.count, at + step)])
            verdict = chunk.withUnsafeBytes { parser.inspect($0) }
            at += step
        }
        return (verdict, parser.processedBytes)
    }

    static func tls(_ name: String?, _ alpn: [String] = []) -> Parser.Verdict {
        .tls(.init(serverName: name, applicationProtocols: alpn))
    }

    static let notTLS = Parser.Verdict.notTLS

    @Test func opensslClientHellos() throws {
        let cases: [(String, Parser.Verdict)] = [
            ("openssl-tls13-sni-alpn.bin", Self.tls("api.example.com", ["h2", "http/1.1"])),
            ("openssl-tls12-sni.bin", Self.tls("mixed.case.example.com")),
            ("openssl-tls13-nosni.bin", Self.tls(nil)),
            ("openssl-istio-alpn.bin", Self.tls("istio.svc", ["istio-peer-exchange", "istio", "h2"])),
        ]
        for (name, expected) in cases {
            let bytes = try Self.corpus(name)
            for piece in [nil, 1, 2, 7, 100] {
                let (verdict, processed) = Self.parse(bytes, piece: piece)
                #expect(verdict == expected, "\(name) in pieces of \(String(describing: piece))")
                #expect(processed == bytes.count, "\(name)")
            }
            // Every proper prefix waits for more.
            for cut in [0, 1, 4, 5, 6, 9, bytes.count / 2, bytes.count - 1] {
                #expect(Self.parse(Array(bytes[..<cut])).0 == .needMoreData, "\(name) cut at \(cut)")
            }
        }
    }

    @Test func bytesAfterTheClientHelloAreNotRead() throws {
        let hello = try Self.corpus("openssl-tls13-sni-alpn.bin")
        let (verdict, processed) = Self.parse(hello + Array("early data that is not read".utf8))
        #expect(verdict == Self.tls("api.example.com", ["h2", "http/1.1"]))
        #expect(processed == hello.count)
    }

    @Test func clientHelloSplitAcrossRecords() {
        var b = B()
        b.extensions += [B.sni("split.example"), B.alpn(["h2"])]
        for fragment in [1, 2, 3, 50] {
            let bytes = b.records(fragment: fragment)
            for piece in [nil, 1, 3] {
                let (verdict, processed) = Self.parse(bytes, piece: piece)
                #expect(verdict == Self.tls("split.example", ["h2"]), "fragment \(fragment)")
                #expect(processed == bytes.count)
            }
        }
    }

    @Test func plaintextIsDecidedOnTheFirstFiveBytes() {
        for text in ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "POST /x HTTP/1.1\r\n", "HEAD / HTTP/1.0\r\n", "PUT / HTTP/1.1\r\n",
                     "CONNECT a:443 HTTP/1.1\r\n", "hello world\n", "SSH-2.0-OpenSSH_9.2\r\n"] {
            let (verdict, processed) = Self.parse(Array(text.utf8), piece: 1)
            #expect(verdict == Self.notTLS, "\(text)")
            #expect(processed == 5, "\(text)")
        }
        // Four bytes of anything are not enough.
        #expect(Self.parse(Array("GET ".utf8)).0 == .needMoreData)
    }

    @Test func recordLayerRules() {
        let message = B().message
        // The record version's major byte must be 3 (the minor is not checked).
        #expect(Self.parse(B.records(message, recordVersion: 0x0201)).0 == Self.notTLS)
        #expect(Self.parse(B.records(message, recordVersion: 0x03FF)).0 == Self.tls(nil))
        // A record longer than BoringSSL's ciphertext limit fails on its header.
        let (verdict, processed) = Self.parse([22, 3, 1] + B.u16(16705))
        #expect(verdict == Self.notTLS)
        #expect(processed == 5)
        // One within that limit but over the plaintext limit fails once read whole.
        #expect(Self.parse([22, 3, 1] + B.u16(16385) + Array(repeating: 0, count: 100)).0 == .needMoreData)
        // A non-handshake record is read whole, then refused.
        let appData = B.records(Array(repeating: 0x41, count: 40), type: 23)
        #expect(Self.parse(Array(appData.dropLast())).0 == .needMoreData)
        #expect(Self.parse(appData) == (Self.notTLS, appData.count))
        // Empty handshake records: up to 32 in a row.
        let empty: [UInt8] = [22, 3, 1, 0, 0]
        #expect(Self.parse(Array([[UInt8]](repeating: empty, count: 32).joined()) + B().records()).0 == Self.tls(nil))
        #expect(Self.parse(Array([[UInt8]](repeating: empty, count: 33).joined())).0 == Self.notTLS)
    }

    @Test func alerts() {
        let hello = B().records()
        let warning: [UInt8] = [21, 3, 1, 0, 2, 1, 90]
        #expect(Self.parse(warning + hello).0 == Self.tls(nil))
        #expect(Self.parse(Array([[UInt8]](repeating: warning, count: 4).joined()) + hello).0 == Self.tls(nil))
        #expect(Self.parse(Array([[UInt8]](repeating: warning, count: 5).joined()) + hello).0 == Self.notTLS)
        #expect(Self.parse([21, 3, 1, 0, 2, 2, 40] + hello).0 == Self.notTLS)
        #expect(Self.parse([21, 3, 1, 0, 3, 1, 90, 0] + hello).0 == Self.notTLS)
        #expect(Self.parse([21, 3, 1, 0, 2, 1, 0] + hello).0 == .closed)
    }

    @Test func handshakeMessageRules() {
        let message = B().message
        // Not a ClientHello.
        var serverHello = message
        serverHello[0] = 2
        #expect(Self.parse(B.records(serverHello)).0 == Self.notTLS)
        // More handshake bytes after the ClientHello in its record: not the end of the flight.
        #expect(Self.parse(B.records(message + [0])).0 == Self.notTLS)
        // In a later record they are not read.
        #expect(Self.parse(B.records(message) + B.records([0, 0])).0 == Self.tls(nil))
        // A declared length over 16384 fails once the first record is read.
        let huge: [UInt8] = [1] + B.u24(16385) + Array(repeating: 0, count: 10)
        #expect(Self.parse(B.records(huge)) == (Self.notTLS, 19))
        #expect(Self.parse(B.records([1] + B.u24(16384) + Array(repeating: 0, count: 10))).0 == .needMoreData)
    }

    @Test func clientHelloBodyRules() {
        func verdict(_ edit: (inout B) -> Void) -> Parser.Verdict {
            var b = B()
            b.extensions.append(B.sni("a.example"))
            edit(&b)
            return Self.parse(b.records()).0
        }
        let ok = Self.tls("a.example")
        #expect(verdict { _ in } == ok)
        #expect(verdict { $0.sessionID = Array(repeating: 1, count: 33) } == Self.notTLS)
        #expect(verdict { $0.ciphers = [] } == Self.notTLS)
        #expect(verdict { $0.compression = [] } == Self.notTLS)
        #expect(verdict { $0.extensions.append(B.sni("b.example")) } == Self.notTLS, "duplicate extension")
        #expect(verdict { $0.noExtensionBlock = true } == Self.tls(nil))
        // The legacy version must be TLS 1.0 to 1.3 (supported_versions is not read).
        for version: UInt16 in [0x0300, 0x02FF, 0x0305, 0x0400, 0xFEFD] {
            #expect(verdict { $0.legacyVersion = version } == .unsupportedVersion(serverName: "a.example"), "\(version)")
        }
        for version: UInt16 in [0x0301, 0x0302, 0x0304] {
            #expect(verdict { $0.legacyVersion = version } == ok, "\(version)")
        }
        #expect(verdict { $0.extensions[0] = B.supportedVersions([0x0300]) } == ok)
        // SNI: one host_name of 1...255 bytes without NUL.
        #expect(verdict { $0.extensions[1] = (0, B.u16Prefixed([0] + B.u16Prefixed([]))) } == Self.notTLS)
        #expect(verdict { $0.extensions[1] = B.sni(String(repeating: "a", count: 256)) } == Self.notTLS)
        #expect(verdict { $0.extensions[1] = B.sni(String(repeating: "a", count: 255)) } == Self.tls(String(repeating: "a", count: 255)))
        #expect(verdict { $0.extensions[1] = B.sni("a\u{0}b") } == Self.notTLS)
        // Envoy's requested server name: lowercased, other bytes made `_` behind `invalid:`.
        #expect(verdict { $0.extensions[1] = B.sni("Api.Example.COM") } == Self.tls("api.example.com"))
        #expect(verdict { $0.extensions[1] = B.sni("a b*.ä") } == Self.tls("invalid:a_b_.__"))
        #expect(verdict { $0.extensions[1] = (0, B.u16Prefixed([0] + B.u16Prefixed([0x61, 0xFF, 0x5F])))} == Self.tls("invalid:a__"))
        #expect(verdict { $0.extensions[1] = (0, B.u16Prefixed([1] + B.u16Prefixed([0x61])))} == Self.notTLS)
        #expect(verdict { $0.extensions[1] = (0, B.u16Prefixed([0] + B.u16Prefixed([0x61]) + [0] + B.u16Prefixed([0x62]))) } == Self.notTLS)
        // ECH: an outer extension must be well-formed; the others are not read here.
        #expect(verdict { $0.extensions.append((0xFE0D, [])) } == Self.notTLS, "empty ECH")
        #expect(verdict { $0.extensions.append((0xFE0D, [0, 0, 1])) } == Self.notTLS, "short outer ECH")
        #expect(verdict { $0.extensions.append((0xFE0D, [0, 0, 1, 0, 1, 7] + B.u16Prefixed([1]) + B.u16Prefixed([2]))) } == ok)
        #expect(verdict { $0.extensions.append((0xFE0D, [5, 1])) } == ok)
        // What BoringSSL checks after Envoy's callback is not checked (measured on Envoy 1.40).
        #expect(verdict { $0.extensions.append((57, [])) } == ok, "QUIC transport parameters")
        #expect(verdict { $0.extensions.append((13, [0xDF])) } == ok, "malformed signature_algorithms")
        #expect(verdict { $0.compression = [1] } == ok, "no null compression")
        #expect(verdict { $0.ciphers.append(0x5600) ; $0.extensions.removeFirst() } == ok, "fallback SCSV")
    }

    @Test func alpn() {
        func verdict(_ ext: (UInt16, [UInt8])) -> Parser.Verdict {
            var b = B()
            b.extensions.append(ext)
            return Self.parse(b.records()).0
        }
        #expect(verdict(B.alpn(["h2", "http/1.1"])) == Self.tls(nil, ["h2", "http/1.1"]))
        // Envoy ignores a malformed list (BoringSSL would fail it later, after the callback).
        #expect(verdict(B.alpn(["h2", ""])) == Self.tls(nil))
        #expect(verdict((16, B.u16Prefixed([5, 0x68]))) == Self.tls(nil))
        #expect(verdict((16, B.u16Prefixed([]))) == Self.tls(nil))
        #expect(verdict((16, B.u16Prefixed([2, 0x68, 0x32]) + [0])) == Self.tls(nil))
    }

    @Test func sslv2ClientHello() {
        // msg_type 1, version, cipher specs (one SSLv2-only, one TLS), no session ID, 16-byte challenge.
        func v2(version: UInt16, specs: [UInt8]) -> [UInt8] {
            let body: [UInt8] = [1] + B.u16(Int(version)) + B.u16(specs.count) + B.u16(0) + B.u16(16) + specs
                + Array(repeating: 9, count: 16)
            return [0x80 | UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
        }
        let both: [UInt8] = [0x07, 0x00, 0xC0, 0x00, 0x00, 0x2F]
        #expect(Self.parse(v2(version: 0x0301, specs: both), piece: 1).0 == Self.tls(nil))
        #expect(Self.parse(v2(version: 0x0301, specs: [0x07, 0x00, 0xC0])).0 == Self.notTLS, "no TLS cipher")
        #expect(Self.parse(v2(version: 0x0300, specs: both)).0 == .unsupportedVersion(serverName: nil), "SSL 3.0")
        #expect(Self.parse(v2(version: 0x0002, specs: both)).0 == Self.notTLS, "not V2 framing: major byte 0")
        #expect(Self.parse(v2(version: 0x0301, specs: [0x00, 0x2F])).0 == Self.notTLS, "specs not in threes")
    }

    @Test func maxClientHelloSize() {
        var b = B()
        b.extensions.append(B.padding(400))
        let bytes = b.records()
        #expect(Self.parse(bytes, max: bytes.count).0 == Self.tls(nil))
        let (verdict, processed) = Self.parse(bytes, piece: 1, max: 300)
        #expect(verdict == .tooLarge)
        #expect(processed == 300)
        // The default (16384): a ClientHello message near BoringSSL's own limit does not fit.
        var big = B()
        big.extensions.append(B.padding(16290))
        #expect(big.message.count <= 16388)
        #expect(Self.parse(big.records()).0 == .tooLarge)
    }

    /// Random bytes and random cuts of real ClientHellos: never a crash,
    /// and the same verdict however the bytes are split.
    @Test func randomInputsDecideTheSameInAnyPieces() throws {
        var rng = SplitMix64(state: 0x5EED)
        let seeds = try ["openssl-tls13-sni-alpn.bin", "openssl-tls12-sni.bin"].map(Self.corpus)
        for round in 0..<400 {
            var input: [UInt8]
            if round % 2 == 0 {
                input = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if round % 4 == 0 { input = [22, 3, 1] + input }
            } else {
                input = seeds[round % seeds.count]
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let at = Int.random(in: 0..<input.count, using: &rng)
                    input[at] = UInt8.random(in: 0...255, using: &rng)
                }
                input = Array(input[..<Int.random(in: 0...input.count, using: &rng)])
            }
            let whole = Self.parse(input)
            let bytewise = Self.parse(input, piece: 1)
            #expect(whole.0 == bytewise.0, "\(input)")
            #expect(whole.1 == bytewise.1)
            #expect(whole.1 <= input.count)
        }
    }
}
