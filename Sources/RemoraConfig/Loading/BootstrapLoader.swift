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
        try decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: readText(path: path))
    }

    /// Loads any API message from a YAML or JSON file (a `path_config_source`'s
    /// `DiscoveryResponse`), checked against the schema as a bootstrap is.
    ///
    /// A `.json` file is first decoded directly as proto3 JSON, which is
    /// several times faster than the YAML reader and the schema walk (a
    /// mesh's EDS and RDS files are large and frequent); only if that fails
    /// does it go the checked way, for the error's field path.
    public static func load<M: SwiftProtobuf.Message>(_ type: M.Type, path: String) throws(ConfigError) -> M {
        let text = try readText(path: path)
        if path.hasSuffix(".json"), let message = try? decode(type, json: text) { return message }
        return try decode(type, yaml: text)
    }

    /// The file's text, or an error a user can act on (`is a directory`,
    /// `no such file or directory`) rather than Foundation's error codes.
    static func readText(path: String) throws(ConfigError) -> String {
        func failure(_ reason: String) -> ConfigError { .io("cannot read config file '\(path)': \(reason)") }
        func errnoText(_ code: Int32) -> String {
            let text = String(cString: strerror(code))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errnoText(errno)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(errnoText(errno))
            }
            bytes.append(contentsOf: chunk[0..<n])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw failure("not valid UTF-8") }
        return text
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
            // No implicit typing: the schema decides each scalar's type, and
            // Yams's default resolver runs regular expressions on every
            // plain scalar.
            node = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw .syntax("invalid YAML: \(error)")
        } catch {
            throw .syntax("invalid YAML: \(error)")
        }
        // Envoy refuses a document that is not an object ("Unable to convert
        // YAML as JSON"); an empty file is the common case.
        guard let node, !SchemaJSONWriter.isNull(node) else {
            throw .syntax("the document is empty (expected a YAML or JSON object)")
        }
        var writer = SchemaJSONWriter(schema: MessageSchema.envoy, valueBudget: SchemaJSONWriter.budget(forTextOfSize: text.utf8.count))
        try writer.writeMessage(node, typeName: typeName, path: "")
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
