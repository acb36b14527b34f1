import Foundation
@testable import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
@testable import RemoraUpstream
import Testing

/// The gRPC client against a real grpcio server (Tests/Interop/grpc_echo_server.py,
/// run with the interop venv's python) on 127.0.0.1, driven on an event loop
/// of this thread: unary, server/client streaming, bidi, error statuses with
/// trailing metadata, deadlines, the receive limit; and failures without a
/// server (unreachable host, no host, a cluster without HTTP/2).
@Suite struct GRPCAsyncClientTests {
    static let service = "remora.test.Echo"

    // MARK: - Without a server

    @Test func clusterWithoutHTTP2IsRefused() throws {
        let loop = try EventLoop()
        let cluster = Self.cluster(name: "plain", hosts: [SocketAddress.ip("127.0.0.1", port: 1)!], http2: false)
        #expect(throws: GRPCClientError.notHTTP2(cluster: "plain")) { try GRPCAsyncClient(cluster: cluster, loop: loop) }
    }

    @Test func unreachableHostIsUnavailable() throws {
        let loop = try EventLoop()
        let port = try Self.closedPort()
        let client = try GRPCAsyncClient(cluster: Self.cluster(name: "gone", hosts: [SocketAddress.ip("127.0.0.1", port: port)!]), loop: loop)
        let noHost = try GRPCAsyncClient(cluster: Self.cluster(name: "empty", hosts: []), loop: loop)
        var results: [Result<[UInt8], GRPCCallFailure>] = []
        let done = { (r: Result<[UInt8], GRPCCallFailure>) in
            results.append(r)
            if results.count == 2 { loop.stop() }
        }
        client.send(service: Self.service, method: "Unary", request: Array("x".utf8), completion: done)
        noHost.send(service: Self.service, method: "Unary", request: Array("x".utf8), completion: done)
        // Callbacks never run inside the call that started the stream.
        #expect(results.isEmpty)
        Self.run(loop, guardMilliseconds: 5000)
        let failures = results.compactMap { if case .failure(let f) = $0 { f } else { nil } }
        #expect(failures.count == 2)
        #expect(failures.allSatisfy { $0.status == .unavailable })
        #expect(failures.map(\.message).sorted() == [
            "no healthy upstream",
            "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure",
        ])
        #expect(client.activeStreams == 0 && noHost.activeStreams == 0)
    }

    // MARK: - Against grpcio

    static let python: String? = {
        if let explicit = ProcessInfo.processInfo.environment["REMORA_TEST_PYTHON"] { return explicit }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let venv = root.appendingPathComponent(".venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }()

    @Test(.enabled(if: python != nil, "needs the interop venv (.venv/bin/python with grpcio, made by scripts/setup.sh --with-python) or REMORA_TEST_PYTHON"))
    func callsAgainstGrpcio() throws {
        let server = try EchoServer(python: Self.python!)
        defer { server.stop() }
        let loop = try EventLoop()
        let backend = SocketAddress.ip("127.0.0.1", port: server.port)!
        let client = try GRPCAsyncClient(cluster: Self.cluster(name: "grpc_backend", hosts: [backend]), loop: loop,
                                         options: .init(forwardedFor: "127.0.0.9"))
        let limited = try GRPCAsyncClient(cluster: Self.cluster(name: "limited", hosts: [backend]), loop: loop,
                                          options: .init(maxReceiveMessageBytes: 1000))
        let silent = try GRPCAsyncClient(
            cluster: Self.cluster(name: "silent", hosts: [SocketAddress.ip("127.0.0.1", port: server.silentPort)!]), loop: loop)

        var pending = 0
        func finished() {
            pending -= 1
            if pending == 0 { loop.stop() }
        }
        func call(_ c: GRPCAsyncClient, _ method: String, service: String = Self.service, metadata: [(name: String, value: String)] = [],
                  timeout: UInt64? = nil, configure: (Recorder) -> Void = { _ in }) -> (GRPCStream, Recorder) {
            pending += 1
            let recorder = Recorder(loop: loop, onClose: finished)
            configure(recorder)
            let stream = c.startStream(service: service, method: method, metadata: metadata,
                                       timeoutMilliseconds: timeout, callbacks: recorder)
            return (stream, recorder)
        }

        // Unary, as a stream: initial metadata from ours, trailers.
        let (unaryStream, unary) = call(client, "Unary", metadata: [("x-client", "abc")])
        unaryStream.sendMessage(Array("hi".utf8), endStream: true)
        // Unary through `send`.
        var sendResult: Result<[UInt8], GRPCCallFailure>?
        pending += 1
        client.send(service: Self.service, method: "Unary", request: Array("again".utf8), timeoutMilliseconds: 5000) {
            sendResult = $0
            finished()
        }
        // What the server saw of the head.
        let (metaStream, meta) = call(client, "Metadata", metadata: [("x-client", "abc")], timeout: 4000)
        metaStream.sendMessage([UInt8](), endStream: true)
        // An error with a message and trailing metadata.
        let (failStream, fail) = call(client, "Unary")
        failStream.sendMessage(Array("fail".utf8), endStream: true)
        // Server streaming: messages of up to 28 KB (several DATA frames each), then OK.
        let (fiveStream, five) = call(client, "ServerStream")
        fiveStream.sendMessage(Array("5".utf8), endStream: true)
        // Server streaming that ends in an error after messages.
        let (threeStream, three) = call(client, "ServerStream")
        threeStream.sendMessage(Array("3".utf8), endStream: true)
        // Client streaming: four messages, then a half-close.
        let (upStream, up) = call(client, "ClientStream")
        for part in ["a", "bb", "", "dddd"] { upStream.sendMessage(Array(part.utf8)) }
        upStream.closeStream()
        // Bidi ping-pong: the second message goes only after the first reply.
        var bidiStream: GRPCStream?
        let (bidiHandle, bidi) = call(client, "Bidi") { recorder in
            recorder.onMessage = { message in
                if message == Array("cba".utf8) { bidiStream?.sendMessage(Array("xyz".utf8), endStream: true) }
            }
        }
        bidiStream = bidiHandle
        bidiHandle.sendMessage(Array("abc".utf8))
        // An unknown method.
        let (unknownStream, unknown) = call(client, "Nope")
        unknownStream.sendMessage([UInt8](), endStream: true)
        // A deadline the server does not meet (it sleeps 1.5 s).
        let started = loop.nowMilliseconds
        let (slowStream, slow) = call(client, "Slow", timeout: 300)
        slowStream.sendMessage([UInt8](), endStream: true)
        // A server that never answers: the client's own timer ends the call.
        let (silentStream, quiet) = call(silent, "Unary", timeout: 300)
        silentStream.sendMessage(Array("x".utf8), endStream: true)
        // The receive limit: the second message (7006 bytes) is over 1000.
        let (limitedStream, limit) = call(limited, "ServerStream")
        limitedStream.sendMessage(Array("5".utf8), endStream: true)
        // Answers no gRPC server gives (h2_support.H2Upstream): a bare 503
        // or 404 head, RST_STREAM before the head, a body that is no gRPC frame.
        let raw = try GRPCAsyncClient(
            cluster: Self.cluster(name: "raw", hosts: [SocketAddress.ip("127.0.0.1", port: server.h2Port)!]), loop: loop)
        var rawCalls: [String: Recorder] = [:]
        for (service, method) in [("status", "503"), ("status", "404"), ("reset", "2"), ("plain", "text")] {
            let (stream, recorder) = call(raw, method, service: service)
            stream.sendMessage(Array("x".utf8), endStream: true)
            rawCalls["\(service)/\(method)"] = recorder
        }
        // A call reset by its owner hears nothing more.
        let reset = Recorder(loop: loop, onClose: { Issue.record("a reset call was closed") })
        let resetStream = client.startStream(service: Self.service, method: "Slow", callbacks: reset)
        resetStream.sendMessage([UInt8](), endStream: true)
        let resetTimer = Timer(loop: loop)
        resetTimer.start(afterMilliseconds: 50) { resetStream.resetStream() }

        Self.run(loop, guardMilliseconds: 15_000)
        #expect(pending == 0)

        #expect(unary.status == .ok)
        #expect(unary.messages == [Array("echo:hi".utf8)])
        #expect(unary.initial.contains { $0 == ("x-initial", "abc") })
        #expect(unary.trailing.contains { $0 == ("x-trailer", "t2") })
        #expect(unary.trailing.contains { $0 == ("grpc-status", "0") })

        #expect(sendResult.flatMap { try? $0.get() } == Array("echo:again".utf8))

        let seen = meta.messages.first.map { String(decoding: $0, as: UTF8.self).split(separator: "\n").map(String.init) } ?? []
        #expect(seen.contains("x-client: abc"))
        #expect(seen.contains("x-envoy-internal: true"))
        #expect(seen.contains("x-forwarded-for: 127.0.0.9"))
        #expect(seen.contains("x-envoy-expected-rq-timeout-ms: 4000"))
        // Envoy's envoy_grpc client sends no user-agent; grpcio would show one.
        #expect(!seen.contains { $0.hasPrefix("user-agent:") })

        #expect(fail.status == .failedPrecondition)
        #expect(fail.message == "asked to fail")
        #expect(fail.messages.isEmpty)
        #expect(fail.trailing.contains { $0 == ("x-trailer", "t1") })

        #expect(five.status == .ok)
        #expect(five.messages == (0..<5).map { Array("msg-\($0):".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: $0 * 7000) })

        #expect(three.status == .resourceExhausted)
        #expect(three.message == "stopped after three")
        #expect(three.messages.count == 3)

        #expect(up.status == .ok)
        #expect(up.messages == [Array("4:7".utf8)])

        #expect(bidi.status == .ok)
        #expect(bidi.messages == [Array("cba".utf8), Array("zyx".utf8)])

        #expect(unknown.status == .unimplemented)

        // grpcio enforces the grpc-timeout it was sent (DEADLINE_EXCEEDED)
        // about when the client's own timer fires (UNAVAILABLE): either may win.
        #expect(slow.status == .deadlineExceeded || slow.status == .unavailable)
        #expect(slow.closedAt - started >= 250 && slow.closedAt - started < 1200)
        #expect(quiet.status == .unavailable)
        #expect(quiet.message == "upstream request timeout")

        #expect(limit.status == .resourceExhausted)
        #expect(limit.messages == [Array("msg-0:".utf8)])

        #expect(rawCalls["status/503"]?.status == .unavailable)
        #expect(rawCalls["status/503"]?.message == "")
        #expect(rawCalls["status/404"]?.status == .unimplemented)
        #expect(rawCalls["reset/2"]?.status == .unavailable)
        #expect(rawCalls["reset/2"]?.message == "upstream connect error or disconnect/reset before headers. reset reason: remote reset")
        #expect(rawCalls["plain/text"]?.status == .internal)
        #expect(rawCalls["plain/text"]?.message == "invalid gRPC frame flags 104")
        #expect(raw.activeStreams == 0)

        #expect(reset.status == nil)
        #expect(resetStream.isFinished)
        #expect(client.activeStreams == 0 && limited.activeStreams == 0 && silent.activeStreams == 0)
    }

    // MARK: - Support

    static func cluster(name: String, hosts: [SocketAddress], http2: Bool = true) -> WorkerCluster {
        var config = ClusterConfig(name: name, discovery: .staticHosts(hosts), connectTimeoutMilliseconds: 1000,
                                   loadBalancing: .roundRobin, bufferLimitBytes: 1 << 20)
        if http2 { config.http = UpstreamHTTPConfig(protocolSelection: .http2, http2: HTTP2ProtocolOptions()) }
        let scope = ClusterStat.makeScope(cluster: name, in: StatsStore(workerCount: 1))
        return WorkerCluster(config: config, hostSet: HostSet(hosts: hosts), stats: scope.stats(ClusterStat.self, thread: 0),
                             resources: ClusterResources(limits: .envoyDefaults), seed: 1)
    }

    /// Runs the loop until something stops it, or fails the test after `guardMilliseconds`.
    static func run(_ loop: EventLoop, guardMilliseconds: UInt64) {
        let guardTimer = Timer(loop: loop)
        guardTimer.start(afterMilliseconds: guardMilliseconds) {
            Issue.record("the loop was still running after \(guardMilliseconds) ms")
            loop.stop()
        }
        loop.run()
        guardTimer.close()
    }

    /// A loopback port nothing listens on (bound, then closed).
    static func closedPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound)
        return UInt16(bigEndian: address.sin_port)
    }
}

/// Records one call's events, on the loop.
final class Recorder: GRPCStreamCallbacks {
    let loop: EventLoop
    let onClose: () -> Void
    var onMessage: ([UInt8]) -> Void = { _ in }
    var initial: [(String, String)] = []
    var messages: [[UInt8]] = []
    var trailing: [(String, String)] = []
    var status: GRPCStatus?
    var message = ""
    var closedAt: UInt64 = 0

    init(loop: EventLoop, onClose: @escaping () -> Void) {
        self.loop = loop
        self.onClose = onClose
    }

    static func pairs(_ headers: HTTPHeaders) -> [(String, String)] {
        (0..<headers.count).map { (headers.name(at: $0).string, headers.value(at: $0).string) }
    }

    func onReceiveInitialMetadata(_ metadata: HTTPHeaders) { initial = Self.pairs(metadata) }
    func onReceiveMessage(_ message: [UInt8]) {
        messages.append(message)
        onMessage(message)
    }
    func onReceiveTrailingMetadata(_ metadata: HTTPHeaders) { trailing = Self.pairs(metadata) }
    func onRemoteClose(status: GRPCStatus, message: String) {
        #expect(self.status == nil, "closed twice")
        self.status = status
        self.message = message
        closedAt = loop.nowMilliseconds
        onClose()
    }
}

/// Tests/Interop/grpc_echo_server.py in a child process: its gRPC port, a
/// port that accepts and never answers, and a plain HTTP/2 server's. It exits when its stdin closes.
final class EchoServer {
    let process = Process()
    let stdin = Pipe()
    let port: UInt16
    let silentPort: UInt16
    /// h2_support.H2Upstream: `/status/<n>`, `/reset/<code>`, else 200 "h2 upstream" without trailers.
    let h2Port: UInt16

    init(python: String) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/grpc_echo_server.py")
        let stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path]
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let more = stdout.fileHandleForReading.availableData
            if more.isEmpty { break }
            line.append(more)
        }
        let words = String(decoding: line, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard words.count == 4, words[0] == "PORTS", let port = UInt16(words[1]), let silent = UInt16(words[2]),
              let h2 = UInt16(words[3]) else {
            process.terminate()
            throw EchoServerError(output: String(decoding: line, as: UTF8.self))
        }
        self.port = port
        self.silentPort = silent
        self.h2Port = h2
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

struct EchoServerError: Error, CustomStringConvertible {
    let output: String
    var description: String { "grpc_echo_server.py did not start (is grpcio installed?): \(output)" }
}
