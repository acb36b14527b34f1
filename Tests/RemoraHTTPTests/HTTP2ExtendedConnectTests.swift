import RemoraCore
import Testing
@testable import RemoraHTTP

/// Extended CONNECT (RFC 8441): the HTTP/2 codecs present it as the HTTP/1
/// upgrade it stands for, as Envoy's codecs do.
@Suite("HTTP2ExtendedConnect")
struct HTTP2ExtendedConnectTests {
    static let upgrade: [(String, String)] = [("upgrade", "websocket"), ("connection", "Upgrade"),
                                              ("sec-websocket-version", "13"), ("content-length", "0")]

    @Test func anUpgradeGoesAsExtendedConnectAndComesBackAsAnUpgrade() {
        var options = HTTP2Options()
        options.allowConnect = true
        let p = CodecPair(server: options)
        // What the client codec puts on the wire, seen by a raw recorder.
        var sent = get("/chat", Self.upgrade)
        #expect(sent.extendedConnectFromUpgrade()?.string == "websocket")
        #expect(sent.method?.string == "CONNECT" && sent.first(name: ":protocol")?.string == "websocket")
        #expect(!sent.contains(name: "upgrade") && !sent.contains(name: "connection") && !sent.contains(name: "content-length"))

        let (response, request) = p.request(get("/chat", Self.upgrade), endStream: false)
        p.pump()
        #expect(p.serverStatus == .ok && p.clientStatus == .ok)
        let s = try! #require(p.serverEvents.streams.first)
        let head = try! #require(s.head)
        #expect(head.method?.string == "GET" && head.path?.string == "/chat")
        #expect(head.pseudo(":protocol") == nil)
        #expect(head.first(name: "upgrade")?.string == "websocket")
        #expect(head.first(name: "connection")?.string == "upgrade")
        #expect(head.first(name: "sec-websocket-version")?.string == "13")
        #expect(!s.ended)
        let encoder = p.serverEvents.encoders[0]
        #expect(encoder.requestFraming.isUpgrade && encoder.requestFraming.isTunnel)

        // The connection manager answers 101 (`:status` last, as it adds
        // it); the client's consumer gets 101 back from the 200 on the wire.
        encoder.encodeHeaders(HTTPHeaders([("sec-websocket-accept", "x"), ("date", "d"), (":status", "101")]),
                              endStream: false)
        p.pump()
        let answer = try! #require(response.head)
        #expect(answer.status == 101)
        #expect(answer.first(name: "upgrade")?.string == "websocket")
        #expect(answer.first(name: "connection")?.string == "upgrade")
        #expect(answer.first(name: "sec-websocket-accept")?.string == "x")
        #expect(!response.ended)

        // Tunnel bytes both ways as DATA; each side's end is END_STREAM.
        request.encodeData(slice("ping"), endStream: false)
        encoder.encodeData(slice("pong"), endStream: false)
        p.pump()
        #expect(s.bodyString == "ping" && response.bodyString == "pong")
        request.encodeData(slice(""), endStream: true)
        encoder.encodeData(slice(""), endStream: true)
        p.pump()
        #expect(s.ended && response.ended && s.reset == nil && response.reset == nil)
        #expect(p.server.activeStreams == 0 && p.client.activeStreams == 0)
    }

    @Test func aDeclinedUpgradeKeepsItsStatus() {
        var options = HTTP2Options()
        options.allowConnect = true
        let p = CodecPair(server: options)
        let (response, _) = p.request(get("/chat", Self.upgrade), endStream: false)
        p.pump()
        p.serverEvents.encoders[0].encodeHeaders(status(403, [("content-length", "0")]), endStream: true)
        p.pump()
        #expect(response.head?.status == 403)
        #expect(response.head?.contains(name: "upgrade") == false)
        #expect(response.ended)
    }

    @Test func withoutAllowConnectTheServerRefusesProtocol() {
        // SETTINGS_ENABLE_CONNECT_PROTOCOL is 0: nghttp2 rejects `:protocol`.
        let p = CodecPair()
        let (response, _) = p.request(get("/chat", Self.upgrade), endStream: false)
        p.pump()
        #expect(p.serverEvents.streams.first?.head == nil)
        #expect(response.head == nil)
        #expect(response.reset != nil || p.serverStatus != .ok)
    }

    @Test func aPlainRequestIsLeftAlone() {
        var options = HTTP2Options()
        options.allowConnect = true
        let p = CodecPair(server: options)
        let (response, _) = p.request(get("/", [("upgrade", "h2c")]), endStream: true)
        p.pump()
        let s = try! #require(p.serverEvents.streams.first)
        #expect(s.head?.method?.string == "GET" && s.head?.contains(name: "upgrade") == false)
        #expect(!p.serverEvents.encoders[0].requestFraming.isUpgrade)
        p.serverEvents.encoders[0].encodeHeaders(status(200), endStream: true)
        p.pump()
        #expect(response.head?.status == 200 && response.head?.contains(name: "upgrade") == false)
    }

    @Test func headerTransformsFollowEnvoysUtility() {
        var request = HTTPHeaders([(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"),
                                   (":authority", "a"), (":path", "/ws"), ("x", "1")])
        #expect(request.upgradeFromExtendedConnect()?.string == "websocket")
        #expect(request.map(\.nameString) == [":method", ":scheme", ":authority", ":path", "x", "upgrade", "connection"])
        #expect(request.method?.string == "GET" && request.isUpgrade)

        var plainConnect = HTTPHeaders([(":method", "CONNECT"), (":authority", "a:443")])
        #expect(plainConnect.upgradeFromExtendedConnect() == nil)
        #expect(plainConnect.method?.string == "CONNECT")

        var accepted = HTTPHeaders([(":status", "101"), ("upgrade", "websocket"), ("connection", "upgrade"),
                                    ("content-length", "0")])
        #expect(accepted.isSwitchingProtocols)
        accepted.extendedConnectResponseFromUpgrade()
        #expect(accepted.map(\.nameString) == [":status"] && accepted.status == 200)
        #expect(HTTPHeaders([("x", "1"), (":status", "101")]).isSwitchingProtocols)
        #expect(!HTTPHeaders([(":status", "200")]).isSwitchingProtocols)

        var answered = HTTPHeaders([(":status", "200"), ("x", "1")])
        answered.upgradeResponseFromExtendedConnect(upgrade: slice("websocket"))
        #expect(answered.status == 101 && answered.first(name: "upgrade")?.string == "websocket")
        #expect(answered.first(name: "connection")?.string == "upgrade")
        var refused = HTTPHeaders([(":status", "404")])
        refused.upgradeResponseFromExtendedConnect(upgrade: slice("websocket"))
        #expect(refused.status == 404 && !refused.contains(name: "upgrade"))

        var notUpgrade = HTTPHeaders([(":method", "GET"), ("upgrade", "websocket"), ("connection", "keep-alive")])
        #expect(notUpgrade.extendedConnectFromUpgrade() == nil)
    }
}

@Suite("HTTP2DeferredReset")
struct HTTP2DeferredResetTests {
    @Test func aResetAfterTheResponseEndedFollowsItsLastFrame() {
        let p = CodecPair()
        let (response, request) = p.request(post("/upload"), endStream: false)
        request.encodeData(slice("part"), endStream: false)
        p.pump()
        let encoder = p.serverEvents.encoders[0]
        // The response ends while the request is still open, then the
        // server resets (Envoy's doEndStream): the client gets all of it first.
        encoder.encodeHeaders(status(404), endStream: false)
        encoder.encodeData(slice("not here"), endStream: true)
        encoder.resetStream(.localReset)
        p.pump()
        #expect(response.head?.status == 404)
        #expect(response.bodyString == "not here" && response.ended)
        #expect(response.reset == .remoteReset)
        #expect(p.serverStats[.txReset] == 1)
        #expect(p.server.activeStreams == 0 && p.client.activeStreams == 0)
    }

    @Test func aResetOfAStreamWhoseEndIsOutGoesAtOnce() {
        let p = CodecPair()
        let (response, _) = p.request(post("/upload"), endStream: false)
        p.pump()
        let encoder = p.serverEvents.encoders[0]
        encoder.encodeHeaders(status(204), endStream: true)
        p.pump()
        #expect(response.head?.status == 204 && response.reset == nil)
        encoder.resetStream(.localReset)
        p.pump()
        #expect(response.reset == .remoteReset && p.server.activeStreams == 0)
    }
}
