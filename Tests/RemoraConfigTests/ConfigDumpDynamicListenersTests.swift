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

/// `resource=dynamic_listeners` with `mask=`: Envoy trims the
/// DynamicListener message itself, through its singular messages, and
/// refuses paths into its `Any`s; fields stay in the protos' order.
@Suite struct ConfigDumpDynamicListenerMaskTests {
    func dump(mask: String) throws -> Result<String, ConfigDump.Failure> {
        var bootstrap = Envoy_Config_Bootstrap_V3_Bootstrap()
        bootstrap.node.id = "n"
        var listener = Envoy_Config_Listener_V3_Listener()
        listener.name = "http"
        let state = DynamicConfigDump.ListenerState(versionInfo: "7", listener: listener, lastUpdated: "2026-01-01T00:00:00.000Z")
        let dynamic = DynamicConfigDump(listenersVersionInfo: "7", listeners: [
            .init(name: "http", active: state, warming: state, draining: nil)])
        return ConfigDump.json(bootstrapBytes: try bootstrap.serializedBytes(), lastUpdated: "2026-01-01T00:00:00.000Z",
                               resource: "dynamic_listeners", mask: mask, dynamic: dynamic, named: { _ in true })
    }

    @Test func nestedPathsKeepTheirFields() throws {
        let json = try dump(mask: "warming_state.last_updated,name,active_state.version_info").get()
        #expect(json == "{\"configs\":[{\"@type\":\"type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener\","
            + "\"name\":\"http\",\"active_state\":{\"version_info\":\"7\"},"
            + "\"warming_state\":{\"last_updated\":\"2026-01-01T00:00:00.000Z\"}}]}\n")
    }

    @Test func pathsIntoTheListenerOrUnknownFieldsAreRefused() throws {
        for mask in ["active_state.listener.name", "bogus", "active_state.bogus", "error_state.details.x"] {
            #expect(try dump(mask: mask) == .failure(.maskNotUsable([mask])))
        }
        #expect(try dump(mask: "error_state.last_update_attempt.seconds").get() == "{\"configs\":["
            + "{\"@type\":\"type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener\"}]}\n")
    }
}
