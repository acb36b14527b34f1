import Testing
import RemoraCore
@testable import RemoraEventLoop
#if canImport(Glibc)
import Glibc
#endif

/// Runs `loop` on the calling thread until something calls `stop()`, or
/// stops it after `timeoutMilliseconds` and records a failure.
func runLoop(_ loop: EventLoop, timeoutMilliseconds: UInt64 = 5_000, sourceLocation: SourceLocation = #_sourceLocation) {
    let watchdog = Timer(loop: loop)
    var timedOut = false
    watchdog.start(afterMilliseconds: timeoutMilliseconds) {
        timedOut = true
        loop.stop()
    }
    loop.run()
    #expect(!timedOut, "event loop test timed out", sourceLocation: sourceLocation)
}

/// Runs `body` on the loop after `milliseconds`.
func after(_ milliseconds: UInt64, on loop: EventLoop, _ body: @escaping () -> Void) {
    Timer(loop: loop).start(afterMilliseconds: milliseconds, body)
}

/// A delegate that records everything and forwards to optional hooks.
final class RecordingDelegate: ConnectionDelegate {
    var received: [UInt8] = []
    var receivedCount = 0
    var keepBytes = true
    var eofCount = 0
    var errors: [EventLoopError] = []
    var aboveHighCount = 0
    var belowLowCount = 0
    var closeCount = 0

    var onRead: ((Connection, ByteSlice) -> Void)?
    var onEOF: ((Connection) -> Void)?
    var onError: ((Connection, EventLoopError) -> Void)?
    var onAboveHigh: ((Connection) -> Void)?
    var onBelowLow: ((Connection) -> Void)?
    var onClose: ((Connection) -> Void)?

    func connection(_ connection: Connection, didRead data: ByteSlice) {
        receivedCount += data.count
        if keepBytes { received += data.bytes }
        onRead?(connection, data)
    }

    func connectionDidReadEOF(_ connection: Connection) {
        eofCount += 1
        onEOF?(connection)
    }

    func connection(_ connection: Connection, didFailWith error: EventLoopError) {
        errors.append(error)
        onError?(connection, error)
    }

    func connectionWriteBufferAboveHighWatermark(_ connection: Connection) {
        aboveHighCount += 1
        onAboveHigh?(connection)
    }

    func connectionWriteBufferBelowLowWatermark(_ connection: Connection) {
        belowLowCount += 1
        onBelowLow?(connection)
    }

    func connectionDidClose(_ connection: Connection) {
        closeCount += 1
        onClose?(connection)
    }
}

/// A unique Unix socket path under /tmp.
func temporarySocketPath(_ tag: String) -> String {
    "/tmp/remora-evl-\(getpid())-\(tag)-\(UInt32.random(in: 0...UInt32.max)).sock"
}

/// Deterministic test bytes.
func pattern(count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31 &+ seed) % 251) }
}

let loopbackV4 = SocketAddress.v4(0x7f00_0001, port: 0)
let loopbackV6 = SocketAddress.v6(high: 0, low: 1, port: 0)

/// Whether this host can bind ::1 (some sandboxes have no IPv6).
let ipv6Available: Bool = {
    let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in6()
    address.sin6_family = sa_family_t(AF_INET6)
    address.sin6_addr.__in6_u.__u6_addr8.15 = 1
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
        }
    }
}()

/// Connects to `address`; `body` gets the connection, or the failure is
/// recorded and the loop stopped.
func connectOrStop(_ loop: EventLoop, to address: SocketAddress, _ body: @escaping (Connection) -> Void) {
    Connection.connect(loop: loop, to: address, timeoutMilliseconds: 2_000) { result in
        guard case .success(let connection) = result else {
            Issue.record("connect failed")
            loop.stop()
            return
        }
        body(connection)
    }
}
