import Testing
@testable import RemoraConfig

/// The access-log format parser, with Envoy 1.40's messages (each checked
/// with `envoy --mode validate`).
@Suite struct AccessLogFormatTests {
    func parse(_ text: String) throws -> [AccessLogSegment] { try AccessLogFormat.parseText(text) }

    func message(_ text: String) -> String? {
        do {
            _ = try AccessLogFormat.parseText(text)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func literalsAndCommands() throws {
        let segments = try parse("A%%B %REQ(X-Foo?:PATH):10% %RESPONSE_CODE% %START_TIME(%s.%3f)%\n")
        #expect(segments == [
            .literal("A%B "),
            .command(AccessLogCommand(op: .requestHeader("x-foo", alternative: ":path"), maxLength: 10)),
            .literal(" "),
            .command(AccessLogCommand(op: .responseCode, maxLength: nil)),
            .literal(" "),
            .command(AccessLogCommand(op: .startTime("%s.%3f"), maxLength: nil)),
            .literal("\n"),
        ])
    }

    @Test func envoysDefaultFormatParses() throws {
        let segments = try parse(AccessLogFormat.envoyDefaultText)
        #expect(segments.count == 31)
    }

    @Test func errorsAreEnvoys() {
        #expect(message("%FOO%") == "Not supported field in StreamInfo: FOO")
        #expect(message("%REQ(x-a%") == "Incorrect configuration: %REQ(x-a%. Couldn't find valid command at position 0")
        #expect(message("a 100% b") == "Incorrect configuration: a 100% b. Couldn't find valid command at position 5")
        #expect(message("%REQ(:path):abc%") == "Incorrect configuration: %REQ(:path):abc%. Couldn't find valid command at position 0")
        #expect(message("%REQ()%") == "REQ requires parameters")
        #expect(message("%REQ(a?b?c)%") == "More than 1 alternative header specified in token: a?b?c")
        #expect(message("%RESPONSE_CODE(x)%") == "RESPONSE_CODE does not take any parameters or length")
        #expect(message("%REQ(a):0%") == nil)
        #expect(message("trailing %") != nil)
    }
}
