import Foundation
import Testing
import RemoraAPI
@testable import RemoraConfig

/// `dynamic_listeners` entries of `/config_dump` as Envoy prints refusals:
/// a named listener's `error_state` has `last_update_attempt`; an entry for
/// one refusal of the last LDS update has neither a name nor that time.
@Suite struct ConfigDumpDynamicListenersTests {
    func object(_ listener: DynamicConfigDump.Listener) throws -> [String: Any] {
        let json = DynamicConfigDump.json(listener)
        return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func namedAndNamelessErrorStates() throws {
        var failed = Envoy_Config_Listener_V3_Listener()
        failed.name = "http"
        let named = try object(.init(name: "http", active: nil, warming: nil, draining: nil, error: .init(
            failedConfiguration: failed, lastUpdateAttempt: "2026-01-01T00:00:00.000Z", details: "bad")))
        #expect(named["name"] as? String == "http")
        let namedError = try #require(named["error_state"] as? [String: Any])
        #expect(Set(namedError.keys) == ["failed_configuration", "last_update_attempt", "details"])

        let nameless = try object(.init(name: "", active: nil, warming: nil, draining: nil, error: .init(
            failedConfiguration: failed, lastUpdateAttempt: nil, details: "bad")))
        #expect(Set(nameless.keys) == ["error_state"])
        let error = try #require(nameless["error_state"] as? [String: Any])
        #expect(Set(error.keys) == ["failed_configuration", "details"])
        #expect((error["failed_configuration"] as? [String: Any])?["name"] as? String == "http")
        #expect(error["details"] as? String == "bad")
    }
}
