import Testing
@testable import RemoraFilters
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
import RemoraUpstream

/// The queue an upstream attempt keeps before its connection or stream is
/// ready: bounded like a write buffer, crossing its limit once.
@Suite struct PendingRequestBodyTests {
    func slice(_ n: Int) -> ByteSlice { ByteSlice(copying: [UInt8](repeating: 7, count: n)) }

    @Test func crossesTheLimitOnceAndReportsItOnDrain() {
        var body = PendingRequestBody(limit: 10)
        let first = body.append(slice(6), endStream: false)
        let second = body.append(slice(6), endStream: false)  // 12 > 10: once
        let third = body.append(slice(6), endStream: false)
        #expect(!first && second && !third)
        #expect(body.slices.count == 3 && !body.ended)
        let wasAbove = body.drain()
        #expect(wasAbove)
        #expect(body.slices.isEmpty && !body.aboveHigh)
        let again = body.drain()
        #expect(!again)
    }

    @Test func endAndTrailers() {
        var body = PendingRequestBody(limit: 0)  // 0: no limit
        let crossed = body.append(slice(100), endStream: true)
        #expect(!crossed)
        #expect(body.ended && body.trailers == nil)
        body.end(with: HTTPHeaders([("grpc-status", "0")]))
        #expect(body.trailers?.firstString(name: "grpc-status") == "0")
        // An empty end carries no slice.
        var empty = PendingRequestBody(limit: 10)
        let emptyCrossed = empty.append(slice(0), endStream: true)
        #expect(!emptyCrossed)
        #expect(empty.slices.isEmpty && empty.ended)
    }

    @Test func poolFailuresMapToEnvoysResetReasons() {
        #expect(UpstreamPoolFailure.overflow.attemptOutcome.reason == .overflow)
        let refused = UpstreamPoolFailure.connectFailure(.connectionRefused).attemptOutcome
        #expect(refused.reason == .connectionFailure && refused.transportFailure != nil)
        #expect(UpstreamPoolFailure.connectFailure(.timedOut).attemptOutcome.reason == .connectionTimeout)
    }
}
