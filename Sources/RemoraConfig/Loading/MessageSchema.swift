import RemoraAPI
import Synchronization

/// The field schema of the generated Envoy API, parsed once from the table
/// that `scripts/generate-api.py` writes (`generatedSchemaText`). The config
/// loader walks YAML/JSON against it, so that every error can name the field
/// path, and so that YAML's implicit typing never turns a string into a bool.
///
/// Immutable after construction; shared freely.
public final class MessageSchema: Sendable {
    public enum FieldType: String, Sendable {
        case double, float, int64, uint64, int32, fixed64, fixed32, bool, string, group
        case message, bytes, uint32, `enum`, sfixed32, sfixed64, sint32, sint64
    }

    public struct Field: Sendable {
        public let name: String
        public let jsonName: String
        public let number: Int
        public let type: FieldType
        public let isRepeated: Bool
        /// Full name of the message or enum type, for those field types.
        public let typeName: String?
        /// Name of the (real, not synthetic) oneof this field belongs to.
        public let oneof: String?
        public let isDeprecated: Bool
    }

    public struct Message: Sendable {
        public let fullName: String
        public let isMapEntry: Bool
        public let fields: [Field]
        let index: [String: Int]

        /// Looks a field up by its proto name or its JSON (camelCase) name.
        public func field(named name: String) -> Field? {
            index[name].map { fields[$0] }
        }

        public func field(number: Int) -> Field? {
            fields.first { $0.number == number }
        }
    }

    public struct Enum: Sendable {
        public let fullName: String
        public let values: [String: Int32]
    }

    public let messages: [String: Message]
    public let enums: [String: Enum]

    /// The schema of the API Remora was generated against: parsed on first
    /// use and kept until `releaseCache()`, because only config loading
    /// needs it and a serving proxy should not carry its tables.
    public static var envoy: MessageSchema {
        cache.withLock { cached in
            if let cached { return cached }
            let schema = MessageSchema(text: generatedSchemaText)
            cached = schema
            return schema
        }
    }

    private static let cache = Mutex<MessageSchema?>(nil)

    /// Drops the parsed tables; the next config load parses them again.
    public static func releaseCache() {
        cache.withLock { $0 = nil }
    }

    init(text: String) {
        var messages: [String: Message] = [:]
        var enums: [String: Enum] = [:]
        var current: (name: String, isMap: Bool, fields: [Field])? = nil

        func finish() {
            guard let c = current else { return }
            var index: [String: Int] = [:]
            for (i, f) in c.fields.enumerated() {
                index[f.name] = i
                index[f.jsonName] = i
            }
            messages[c.name] = Message(fullName: c.name, isMapEntry: c.isMap, fields: c.fields, index: index)
            current = nil
        }

        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            switch parts.first {
            case "M":
                finish()
                current = (String(parts[1]), parts.count > 2 && parts[2] == "map", [])
            case "F":
                precondition(parts.count >= 8, "malformed schema line: \(line)")
                let field = Field(
                    name: String(parts[1]),
                    jsonName: String(parts[2]),
                    number: Int(parts[3])!,
                    type: FieldType(rawValue: String(parts[4]))!,
                    isRepeated: parts[5] == "r",
                    typeName: parts[6] == "-" ? nil : String(parts[6]),
                    oneof: parts[7] == "-" ? nil : String(parts[7]),
                    isDeprecated: parts.count > 8 && parts[8] == "deprecated"
                )
                current?.fields.append(field)
            case "E":
                finish()
                var values: [String: Int32] = [:]
                for item in parts.dropFirst(2) {
                    let kv = item.split(separator: "=")
                    values[String(kv[0])] = Int32(kv[1])!
                }
                enums[String(parts[1])] = Enum(fullName: String(parts[1]), values: values)
            default:
                continue
            }
        }
        finish()
        self.messages = messages
        self.enums = enums
    }
}
