import Testing
@testable import RemoraEventLoop
#if canImport(Glibc)
import Glibc
#endif

@Suite("EventLoopError")
struct EventLoopErrorTests {
    @Test func uvCheckPassesResultsAndThrowsNamedErrors() throws {
        #expect(try uvCheck(0, "noop") == 0)
        #expect(try uvCheck(42, "noop") == 42)
        var evaluated = false
        _ = try uvCheck(1, { evaluated = true; return "op" }())
        #expect(!evaluated, "the operation text is built only on failure")

        #expect(throws: EventLoopError.connectionRefused) { try uvCheck(-ECONNREFUSED, "connect 127.0.0.1:9") }
        do {
            try uvCheck(-ECONNREFUSED, "connect 127.0.0.1:9")
        } catch {
            #expect(error.description == "connect 127.0.0.1:9: connection refused (ECONNREFUSED)")
            #expect(error.errno == ECONNREFUSED)
            #expect(error.name == "ECONNREFUSED")
            #expect(error.operation == "connect 127.0.0.1:9")
        }
    }

    @Test func codesMapToTheirConstants() {
        let cases: [(Int32, EventLoopError)] = [
            (-EAGAIN, .wouldBlock),
            (-ECONNREFUSED, .connectionRefused),
            (-ECONNRESET, .connectionReset),
            (-ETIMEDOUT, .timedOut),
            (-EADDRINUSE, .addressInUse),
            (-EADDRNOTAVAIL, .addressNotAvailable),
            (-EPIPE, .brokenPipe),
            (-ECANCELED, .cancelled),
            (-EINVAL, .invalidArgument),
        ]
        for (code, expected) in cases {
            let error = EventLoopError(uvCode: code, operation: "op")
            #expect(error == expected, "\(code)")
            #expect(error.errno == -code)
        }
        let eof = EventLoopError(uvCode: EventLoopError.endOfFile.uvCode)
        #expect(eof == .endOfFile)
        #expect(eof.errno == nil)
        #expect(EventLoopError.hostNotFound.errno == nil)
        #expect(EventLoopError.hostNotFound.name == "EAI_NONAME")
        // Unclassified codes compare by code.
        #expect(EventLoopError(errno: EMFILE) == EventLoopError(errno: EMFILE, operation: "accept"))
        #expect(EventLoopError(errno: EMFILE) != EventLoopError(errno: ENFILE))
        #expect(EventLoopError(errno: EMFILE) != .connectionReset)
        #expect(EventLoopError.timedOut.description == "connection timed out (ETIMEDOUT)")
    }

    @Test func syscallRetriesEINTRAndMapsEAGAIN() throws {
        var calls = 0
        let rc = try syscall("read") {
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 7
        }
        #expect(rc == 7 && calls == 3)

        #expect(throws: EventLoopError.wouldBlock) {
            try syscall("read") {
                errno = EAGAIN
                return -1
            }
        }
        do {
            try syscall("open /nonexistent") {
                errno = ENOENT
                return -1
            }
            Issue.record("expected a throw")
        } catch {
            #expect(error.errno == ENOENT)
            #expect(error.description == "open /nonexistent: no such file or directory (ENOENT)")
        }
    }
}
