import Foundation
import RemoraAPI
import SwiftProtobuf
import Yams

/// Reads an Envoy v3 bootstrap (YAML or JSON) into the generated messages.
///
/// Runs on the main thread at start-up (Foundation is fine here). Every
/// field is checked against the API schema on the way in, so that unknown
/// fields, wrong types and unknown `@type`s inside `typed_config` fail with
/// the field path instead of deep in the protobuf decoder.
public enum BootstrapLoader {
    /// Loads a bootstrap file. `.yaml`/`.yml`/`.json` all go through the same
    /// YAML reader (JSON is YAML's flow style).
    public static func load(path: String) throws(ConfigError) -> Envoy_Config_Bootstrap_V3_Bootstrap {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .io("cannot read config file \(path): \(error.localizedDescription)")
        }
        return try decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: text)
    }

    /// Decodes any API message from YAML or JSON text.
    public static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, yaml text: String) throws(ConfigError) -> M {
        let json = try jsonText(for: M.protoMessageName, yaml: text)
        return try decode(type, json: json)
    }

    /// Proto3 JSON for `typeName`, checked against the schema.
    static func jsonText(for typeName: String, yaml text: String) throws(ConfigError) -> String {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw .syntax("invalid YAML: \(error)")
        } catch {
            throw .syntax("invalid YAML: \(error)")
        }
        var writer = SchemaJSONWriter(schema: MessageSchema.envoy)
        try writer.writeMessage(node ?? .mapping(Node.Mapping([])), typeName: typeName, path: "")
        return writer.out
    }

    static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, json: String) throws(ConfigError) -> M {
        AnyRegistry.registerAll()
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = false
        do {
            return try M(jsonString: json, options: options)
        } catch {
            // The schema walk catches what users get wrong; this is a value
            // the protobuf decoder rejects for its own reasons (e.g. ranges).
            throw .invalid("cannot decode \(M.protoMessageName): \(error)", at: "")
        }
    }
}

/// swift-protobuf's `Any` registry is process-global; every generated type
/// is registered once, before the first decode or unpack.
public enum AnyRegistry {
    private static let registered: Bool = {
        for type in generatedMessageTypes {
            Google_Protobuf_Any.register(messageType: type)
        }
        return true
    }()

    public static func registerAll() {
        _ = registered
    }

    /// The generated type for a type URL's message name, if Remora has it.
    public static func messageType(named name: String) -> (any SwiftProtobuf.Message.Type)? {
        typesByName[name]
    }

    private static let typesByName: [String: any SwiftProtobuf.Message.Type] = {
        var map: [String: any SwiftProtobuf.Message.Type] = [:]
        for type in generatedMessageTypes { map[type.protoMessageName] = type }
        return map
    }()
}
