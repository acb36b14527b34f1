import Testing
@testable import RemoraServer

/// `last_updated` and /certs' times as protobuf's JSON prints a `Timestamp`.
@Suite struct AdminTimestampTests {
    @Test func millisecondsAndSeconds() {
        // 2026-12-07T12:29:24.5Z
        #expect(Server.rfc3339(1_796_646_564.5, milliseconds: true) == "2026-12-07T12:29:24.500Z")
        #expect(Server.rfc3339(1_796_646_564.5, milliseconds: false) == "2026-12-07T12:29:24Z")
        #expect(Server.rfc3339(0, milliseconds: true) == "1970-01-01T00:00:00.000Z")
        #expect(Server.rfc3339(951_782_400.0999, milliseconds: true) == "2000-02-29T00:00:00.100Z")
        #expect(Server.timestamp(86_399.999) == "1970-01-01T23:59:59.999Z")
    }
}
