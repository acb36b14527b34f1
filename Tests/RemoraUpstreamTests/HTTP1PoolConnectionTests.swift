import Testing
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
@testable import RemoraUpstream

/// An HTTP/1 pool connection's stream lifecycle with no socket: bytes are
/// fed as if read, what it reports goes to a recording owner.
@Suite struct HTTP1PoolConnectionTests {
    final class Owner: HTTP1PoolConnectionOwner {
        var reusableEnds = 0
        var closes: [(remote: Bool, withActiveRequest: Bool)] = []
        func streamEnded(on connection: HTTP1PoolConnection) { reusableEnds += 1 }
        func connectionClosed(_ connection: HTTP1PoolConnection, remote: Bool, withActiveRequest: Bool) {
            closes.append((remote, withActiveRequest))
        }
    }

    /// Holds one stream as the router's request does: gives it back when
    /// the response ends or the stream is reset.
    final class Holder: HTTPResponseDecoder {
        let connection: HTTP1PoolConnection
        var stream: (any HTTPRequestEncoder)?
        var status: String?
        var body = ""
        var ended = false
        var reset: HTTPStreamResetReason?

        init(_ connection: HTTP1PoolConnection) {
            self.connection = connection
            stream = connection.open(self)
        }

        func send(_ method: String = "GET", endStream: Bool = true) {
            stream?.encodeHeaders(HTTPHeaders([(":method", method), (":authority", "up"), (":path", "/")]),
                                  endStream: endStream)
        }

        func decode1xxHeaders(_ headers: HTTPHeaders) {}
        func decodeHeaders(_ headers: consuming HTTPHeaders, endStream: Bool) {
            status = headers.status.map(String.init)
            if endStream { end() }
        }
        func decodeData(_ chunk: ByteSlice, endStream: Bool) {
            body += String(decoding: chunk.withUnsafeBytes { Array($0) }, as: UTF8.self)
            if endStream { end() }
        }
        func decodeTrailers(_ trailers: HTTPHeaders) { end() }
        func onResetStream(_ reason: HTTPStreamResetReason) {
            reset = reason
            connection.streamEnded()
        }
        func onAboveWriteBufferHighWatermark() {}
        func onBelowWriteBufferLowWatermark() {}

        private func end() {
            ended = true
            connection.streamEnded()
        }
    }

    struct Fixture {
        let owner = Owner()
        let scope: StatScope
        let connection: HTTP1PoolConnection

        init() {
            scope = ClusterStat.makeScope(cluster: "c", in: StatsStore(workerCount: 1))
            connection = HTTP1PoolConnection(owner: owner, id: 1, connection: nil, parser: .response,
                                             encoder: HTTP1SharedEncoder(HTTP1Encoder()),
                                             stats: scope.stats(ClusterStat.self, thread: 0), now: 0)
        }

        func read(_ text: String) { connection.received(ByteSlice(copying: Array(text.utf8))) }
        func stat(_ name: String) -> Int64 { scope.value(named: name) ?? -1 }

        /// Never handed back for reuse; closed once, reported as said.
        func closedOnce(remote: Bool, withActiveRequest: Bool) -> Bool {
            owner.reusableEnds == 0 && owner.closes.count == 1 && connection.closed
                && owner.closes[0].remote == remote && owner.closes[0].withActiveRequest == withActiveRequest
        }
    }

    @Test func wholeResponseLeavesTheConnectionReusable() {
        let f = Fixture()
        let first = Holder(f.connection)
        first.send()
        f.read("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        #expect(first.ended && first.status == "200" && first.body == "ok")
        #expect(f.owner.reusableEnds == 1 && f.owner.closes.isEmpty && !f.connection.busy)
        // The next stream is the same codec, on the same connection.
        let second = Holder(f.connection)
        #expect(second.stream === first.stream)
        second.send()
        f.read("HTTP/1.1 204 No Content\r\n\r\n")
        #expect(second.ended && f.owner.reusableEnds == 2 && f.owner.closes.isEmpty)
        #expect(f.stat("upstream_cx_rx_bytes_total") == 67 && f.stat("upstream_cx_tx_bytes_total") > 0)
    }

    @Test func connectionCloseResponseIsNotReused() {
        let f = Fixture()
        let holder = Holder(f.connection)
        holder.send()
        f.read("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
        // Whole exchange: not a close with an active request.
        #expect(holder.ended && holder.reset == nil && f.closedOnce(remote: false, withActiveRequest: false))
    }

    @Test func bytesAfterTheResponseAreNotReused() {
        let f = Fixture()
        let holder = Holder(f.connection)
        holder.send()
        f.read("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\nextra")
        #expect(holder.ended && f.closedOnce(remote: false, withActiveRequest: false))
    }

    @Test func responseBeforeTheRequestEndedIsNotReused() {
        let f = Fixture()
        let holder = Holder(f.connection)
        holder.send("POST", endStream: false)
        f.read("HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n")
        #expect(holder.ended && f.closedOnce(remote: false, withActiveRequest: false))
    }

    /// The upstream's EOF ends a body until close; a response cut short by
    /// it is a connection termination (an exchange still active).
    @Test(arguments: [("HTTP/1.1 200 OK\r\n\r\nall of it", true), ("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc", false)])
    func upstreamClosing(response: String, endsTheResponse: Bool) {
        let f = Fixture()
        let holder = Holder(f.connection)
        holder.send()
        f.read(response)
        f.connection.inputEnded()
        #expect(holder.ended == endsTheResponse && holder.reset == (endsTheResponse ? nil : .connectionTermination))
        #expect(f.closedOnce(remote: true, withActiveRequest: !endsTheResponse))
    }

    @Test func holderResettingMidResponseClosesTheConnection() {
        let f = Fixture()
        let holder = Holder(f.connection)
        holder.send()
        f.read("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
        holder.stream?.resetStream(.localReset)
        #expect(holder.reset == .localReset && f.closedOnce(remote: false, withActiveRequest: true))
    }

    @Test func holderGivingUpWithItsStreamOpenClosesTheConnection() {
        let f = Fixture()
        let holder = Holder(f.connection)
        holder.send()
        f.connection.streamEnded()
        #expect(holder.reset == .localReset && f.closedOnce(remote: false, withActiveRequest: true))
    }

    @Test func malformedResponseIsAProtocolError() {
        let f = Fixture()
        let holder = Holder(f.connection)
        holder.send()
        f.read("HTTP/1.1 2x0 OK\r\n\r\n")
        #expect(holder.reset == .protocolError && f.closedOnce(remote: false, withActiveRequest: true))
        #expect(f.stat("upstream_cx_protocol_error") == 1)
    }

    @Test func bytesOnAnIdleConnectionCloseIt() {
        let f = Fixture()
        f.read("HTTP/1.1 200 OK\r\n\r\n")
        #expect(f.closedOnce(remote: false, withActiveRequest: false) && f.stat("upstream_cx_protocol_error") == 0)
    }

    @Test func tunnelEndsWithItsConnection() {
        let f = Fixture()
        let holder = Holder(f.connection)
        holder.stream?.encodeHeaders(HTTPHeaders([(":method", "GET"), (":authority", "up"), (":path", "/ws"),
                                                  ("connection", "upgrade"), ("upgrade", "websocket")]),
                                     endStream: false)
        f.read("HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\nframe")
        #expect(holder.status == "101" && holder.body == "frame" && !holder.ended)
        f.connection.inputEnded()
        #expect(holder.reset == .connectionTermination && f.closedOnce(remote: true, withActiveRequest: true))
    }
}
