import SwiftProtobuf
import Yams

/// Turns a YAML (or JSON) document into proto3 JSON for one message type,
/// checking every field against `MessageSchema` on the way.
///
/// Why not hand YAML to a generic YAML→JSON converter: YAML 1.1 reads
/// `yes`, `on`, `off` as booleans, and Envoy's loader keeps them as strings
/// where the field is a string; and the protobuf JSON decoder's errors do not
/// say where in the document the fault is. Here the schema decides each
/// scalar's type, and every error names its field path.
struct SchemaJSONWriter {
    let schema: MessageSchema
    private(set) var out = ""

    /// How many more values may be written. YAML aliases share nodes, so a
    /// few hundred bytes can stand for billions of values ("billion
    /// laughs"); the walk expands them, and would run for hours. Callers
    /// size it from the text (`budget(forTextOfSize:)`).
    private(set) var valueBudget: Int

    init(schema: MessageSchema, valueBudget: Int = .max) {
        self.schema = schema
        self.valueBudget = valueBudget
        out.reserveCapacity(4096)
    }

    /// Without aliases a document cannot hold more values than it has bytes;
    /// merge keys (`<<: *base`) legitimately repeat some, hence the factor.
    static func budget(forTextOfSize bytes: Int) -> Int {
        100_000 + 16 * bytes
    }

    private mutating func spend(at path: String) throws(ConfigError) {
        valueBudget -= 1
        guard valueBudget >= 0 else {
            throw .invalid("the document is too large once its YAML aliases are expanded", at: path)
        }
    }

    /// Writes `node` as the JSON form of message `typeName`.
    mutating func writeMessage(_ node: Node, typeName: String, path: String) throws(ConfigError) {
        if let special = WellKnown(rawValue: typeName) {
            try writeWellKnown(node, special, path: path)
            return
        }
        guard let message = schema.messages[typeName] else {
            throw .unsupported("unsupported type \(typeName)", at: path)
        }
        guard case .mapping(let mapping) = node else {
            if Self.isNull(node) { out += "{}"; return }
            throw .invalid("expected an object for \(typeName), got \(describe(node))", at: path)
        }
        out += "{"
        var first = true
        var seen: Set<Int> = []
        var oneofs: [String: String] = [:]
        for (keyNode, value) in try mergedPairs(mapping, path: path) {
            guard let key = keyNode.scalar?.string else {
                // Named by what it is under its parent; at the top it is about the document.
                throw .invalid("object keys must be strings", at: Self.nonStringKeyPath(path, describe(keyNode)))
            }
            // An empty key still gets a path a reader can see (`[""]`).
            let fieldPath = key.isEmpty ? FieldPath.key(path, key) : FieldPath.join(path, key)
            guard let field = message.field(named: key) else {
                throw .unknownField(at: fieldPath)
            }
            guard !seen.contains(field.number) else {
                throw .invalid("field given twice", at: fieldPath)
            }
            seen.insert(field.number)
            if Self.isNull(value) { continue }  // proto3 JSON: null means "not set"
            if let oneof = field.oneof {
                if let other = oneofs[oneof] {
                    throw .invalid("only one of '\(other)' and '\(field.name)' (oneof \(oneof)) may be set", at: fieldPath)
                }
                oneofs[oneof] = field.name
            }
            if !first { out += "," }
            first = false
            writeString(field.name)
            out += ":"
            try writeFieldValue(value, field: field, path: fieldPath)
        }
        out += "}"
    }

    private mutating func writeFieldValue(_ node: Node, field: MessageSchema.Field, path: String) throws(ConfigError) {
        if field.isRepeated, field.type == .message, let typeName = field.typeName,
           let entry = schema.messages[typeName], entry.isMapEntry {
            try writeMap(node, entry: entry, path: path)
            return
        }
        if field.isRepeated {
            guard case .sequence(let sequence) = node else {
                throw .invalid("expected a list, got \(describe(node))", at: path)
            }
            out += "["
            for (i, element) in sequence.enumerated() {
                if i > 0 { out += "," }
                try writeSingular(element, field: field, path: FieldPath.index(path, i))
            }
            out += "]"
            return
        }
        try writeSingular(node, field: field, path: path)
    }

    private mutating func writeMap(_ node: Node, entry: MessageSchema.Message, path: String) throws(ConfigError) {
        guard case .mapping(let mapping) = node else {
            throw .invalid("expected an object, got \(describe(node))", at: path)
        }
        guard let keyField = entry.field(named: "key"), let valueField = entry.field(named: "value") else {
            preconditionFailure("map entry \(entry.fullName) without key/value")
        }
        out += "{"
        for (i, (keyNode, value)) in mapping.enumerated() {
            guard let key = keyNode.scalar?.string else {
                throw .invalid("map keys must be scalars", at: path)
            }
            let entryPath = FieldPath.key(path, key)
            let keyText = keyField.type == .string ? key : try integerText(key, type: keyField.type, path: entryPath)
            if i > 0 { out += "," }
            writeString(keyText)
            out += ":"
            try writeSingular(value, field: valueField, path: entryPath)
        }
        out += "}"
    }

    private mutating func writeSingular(_ node: Node, field: MessageSchema.Field, path: String) throws(ConfigError) {
        try spend(at: path)
        switch field.type {
        case .message, .group:
            try writeMessage(node, typeName: field.typeName ?? "", path: path)
        case .enum:
            try writeEnum(node, typeName: field.typeName ?? "", path: path)
        default:
            try writeScalar(node, type: field.type, path: path)
        }
    }

    private mutating func writeEnum(_ node: Node, typeName: String, path: String) throws(ConfigError) {
        guard let schemaEnum = schema.enums[typeName] else {
            preconditionFailure("enum \(typeName) missing from schema")
        }
        let text = try scalarText(node, path: path)
        if schemaEnum.values[text] != nil {
            writeString(text)
        } else if let number = Int32(text), schemaEnum.values.values.contains(number) {
            out += String(number)
        } else {
            throw .invalid("invalid value '\(text)' for enum \(typeName)", at: path)
        }
    }

    private mutating func writeScalar(_ node: Node, type: MessageSchema.FieldType, path: String) throws(ConfigError) {
        let text = try scalarText(node, path: path)
        switch type {
        case .string:
            writeString(text)
        case .bytes:
            guard text.utf8.allSatisfy({ isBase64Byte($0) }) else {
                throw .invalid("expected base64 bytes", at: path)
            }
            writeString(text)
        case .bool:
            switch text {
            case "true", "True", "TRUE": out += "true"
            case "false", "False", "FALSE": out += "false"
            default: throw .invalid("expected true or false, got '\(text)'", at: path)
            }
        case .double, .float:
            if text == "NaN" || text == "Infinity" || text == "-Infinity" {
                writeString(text)
            } else if let value = Double(text), value.isFinite {
                if type == .float, abs(value) > Double(Float.greatestFiniteMagnitude) {
                    throw .invalid("value \(text) out of range for float", at: path)
                }
                // Canonical form: Swift also reads `0x10`, `+1` and `-.5`, which JSON does not.
                out += "\(value)"
            } else {
                throw .invalid("expected a number, got '\(text)'", at: path)
            }
        case .int64, .sint64, .sfixed64, .uint64, .fixed64:
            writeString(try integerText(text, type: type, path: path))  // proto3 JSON quotes 64-bit ints
        default:
            out += try integerText(text, type: type, path: path)
        }
    }

    /// The integer in canonical decimal: Swift's parsers take `-0`, `+5`
    /// and `007`, which proto3 JSON refuses, so the value is written anew.
    private func integerText(_ text: String, type: MessageSchema.FieldType, path: String) throws(ConfigError) -> String {
        let canonical: String?
        switch type {
        case .int32, .sint32, .sfixed32: canonical = Int32(text).map { String($0) }
        case .uint32, .fixed32: canonical = UInt32(text).map { String($0) }
        case .int64, .sint64, .sfixed64: canonical = Int64(text).map { String($0) }
        case .uint64, .fixed64: canonical = UInt64(text).map { String($0) }
        default: canonical = nil
        }
        guard let canonical else { throw .invalid("expected \(type.rawValue), got '\(text)'", at: path) }
        return canonical
    }

    // MARK: - Well-known types

    private enum WellKnown: String {
        case any = "google.protobuf.Any"
        case duration = "google.protobuf.Duration"
        case timestamp = "google.protobuf.Timestamp"
        case fieldMask = "google.protobuf.FieldMask"
        case structValue = "google.protobuf.Struct"
        case value = "google.protobuf.Value"
        case listValue = "google.protobuf.ListValue"
        case empty = "google.protobuf.Empty"
        case doubleValue = "google.protobuf.DoubleValue"
        case floatValue = "google.protobuf.FloatValue"
        case int64Value = "google.protobuf.Int64Value"
        case uint64Value = "google.protobuf.UInt64Value"
        case int32Value = "google.protobuf.Int32Value"
        case uint32Value = "google.protobuf.UInt32Value"
        case boolValue = "google.protobuf.BoolValue"
        case stringValue = "google.protobuf.StringValue"
        case bytesValue = "google.protobuf.BytesValue"

        var wrapped: MessageSchema.FieldType? {
            switch self {
            case .doubleValue: .double
            case .floatValue: .float
            case .int64Value: .int64
            case .uint64Value: .uint64
            case .int32Value: .int32
            case .uint32Value: .uint32
            case .boolValue: .bool
            case .stringValue: .string
            case .bytesValue: .bytes
            default: nil
            }
        }
    }

    private mutating func writeWellKnown(_ node: Node, _ kind: WellKnown, path: String) throws(ConfigError) {
        if let scalarType = kind.wrapped {
            try writeScalar(node, type: scalarType, path: path)
            return
        }
        switch kind {
        case .any:
            try writeAny(node, path: path)
        case .duration:
            let text = try scalarText(node, path: path)
            guard Self.parseDuration(text) != nil else {
                throw .invalid("invalid duration '\(text)' (expected e.g. \"1.5s\")", at: path)
            }
            writeString(text)
        case .timestamp, .fieldMask:
            writeString(try scalarText(node, path: path))
        case .structValue:
            guard case .mapping = node else { throw .invalid("expected an object", at: path) }
            try writeFreeJSON(node, path: path)
        case .listValue:
            guard case .sequence = node else { throw .invalid("expected a list", at: path) }
            try writeFreeJSON(node, path: path)
        case .value:
            try writeFreeJSON(node, path: path)
        case .empty:
            guard case .mapping(let m) = node, m.isEmpty else {
                if Self.isNull(node) { out += "{}"; return }
                throw .invalid("expected an empty object", at: path)
            }
            out += "{}"
        default:
            preconditionFailure("unhandled well-known type \(kind)")
        }
    }

    /// `{"@type": "type.googleapis.com/x.y.Z", ...fields of Z}`; well-known
    /// types carry their JSON form under `value`.
    private mutating func writeAny(_ node: Node, path: String) throws(ConfigError) {
        guard case .mapping(let mapping) = node else {
            throw .invalid("expected an object with '@type'", at: path)
        }
        var typeURL: String? = nil
        var rest: [(Node, Node)] = []
        for (k, v) in try mergedPairs(mapping, path: path) {
            if k.scalar?.string == "@type" { typeURL = v.scalar?.string } else { rest.append((k, v)) }
        }
        guard let typeURL, let slash = typeURL.lastIndex(of: "/") else {
            throw .invalid("missing or malformed '@type'", at: path)
        }
        let typeName = String(typeURL[typeURL.index(after: slash)...])
        out += "{\"@type\":"
        writeString(typeURL)
        if let special = WellKnown(rawValue: typeName) {
            guard rest.count <= 1, rest.allSatisfy({ $0.0.scalar?.string == "value" }) else {
                throw .invalid("a packed \(typeName) holds only 'value'", at: path)
            }
            if let value = rest.first?.1 {
                out += ",\"value\":"
                try writeWellKnown(value, special, path: FieldPath.join(path, "value"))
            }
            out += "}"
            return
        }
        guard schema.messages[typeName] != nil else {
            throw .unsupported("unsupported type \(typeName)", at: path)
        }
        // Write the inner message's fields into this same object.
        var inner = SchemaJSONWriter(schema: schema, valueBudget: valueBudget)
        try inner.writeMessage(.mapping(Node.Mapping(rest)), typeName: typeName, path: path)
        valueBudget = inner.valueBudget
        let body = inner.out.dropFirst().dropLast()  // strip the braces
        if !body.isEmpty { out += "," + body }
        out += "}"
    }

    /// Struct/Value content: YAML's own implicit typing applies here, as in
    /// Envoy (there is no schema to say otherwise).
    private mutating func writeFreeJSON(_ node: Node, path: String) throws(ConfigError) {
        try spend(at: path)
        switch node {
        case .scalar(let s):
            if s.style == .plain {
                if s.string == "null" || s.string == "~" || s.string.isEmpty { out += "null"; return }
                if s.string == "true" || s.string == "false" { out += s.string; return }
                if let d = Double(s.string), d.isFinite, s.string.first != "." { out += s.string; return }
            }
            writeString(s.string)
        case .mapping(let m):
            out += "{"
            for (i, (k, v)) in try mergedPairs(m, path: path).enumerated() {
                guard let key = k.scalar?.string else {
                    throw .invalid("object keys must be strings", at: Self.nonStringKeyPath(path, describe(k)))
                }
                if i > 0 { out += "," }
                writeString(key)
                out += ":"
                try writeFreeJSON(v, path: FieldPath.join(path, key))
            }
            out += "}"
        case .sequence(let seq):
            out += "["
            for (i, v) in seq.enumerated() {
                if i > 0 { out += "," }
                try writeFreeJSON(v, path: FieldPath.index(path, i))
            }
            out += "]"
        case .alias:
            throw .invalid("unresolved YAML alias", at: path)
        }
    }

    // MARK: - Helpers

    /// Mapping pairs with YAML merge keys (`<<: *anchor`) expanded; keys given
    /// explicitly win over merged ones.
    private func mergedPairs(_ mapping: Node.Mapping, path: String) throws(ConfigError) -> [(Node, Node)] {
        var pairs: [(Node, Node)] = []
        var merged: [(Node, Node)] = []
        for (k, v) in mapping {
            if k.scalar?.string == "<<", k.scalar?.style == .plain {
                let sources: [Node]
                switch v {
                case .mapping: sources = [v]
                case .sequence(let s): sources = Array(s)
                default: throw .invalid("merge key '<<' needs an object", at: path)
                }
                for source in sources {
                    guard case .mapping(let m) = source else { throw .invalid("merge key '<<' needs an object", at: path) }
                    merged.append(contentsOf: m.map { ($0.key, $0.value) })
                }
            } else {
                pairs.append((k, v))
            }
        }
        if merged.isEmpty { return pairs }
        let explicit = Set(pairs.compactMap { $0.0.scalar?.string })
        var taken = explicit
        for (k, v) in merged {
            guard let key = k.scalar?.string, !taken.contains(key) else { continue }
            taken.insert(key)
            pairs.append((k, v))
        }
        return pairs
    }

    private func scalarText(_ node: Node, path: String) throws(ConfigError) -> String {
        guard case .scalar(let s) = node else {
            throw .invalid("expected a single value, got \(describe(node))", at: path)
        }
        return s.string
    }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain else { return false }
        return s.string == "null" || s.string == "~" || s.string.isEmpty
    }

    /// `parent["<an object>"]` for a key that is not a string; the document
    /// itself (no path) at the top.
    static func nonStringKeyPath(_ parent: String, _ described: String) -> String {
        parent.isEmpty ? "" : FieldPath.key(parent, "<\(described)>")
    }

    private func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return "'\(s.string)'"
        case .mapping: return "an object"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    private func isBase64Byte(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == UInt8(ascii: "+") || b == UInt8(ascii: "/") || b == UInt8(ascii: "=")
            || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
    }

    private mutating func writeString(_ s: String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    /// Parses proto3 JSON durations ("1s", "0.25s", "-3.000000001s") within
    /// protobuf's range (±315,576,000,000 s). Seconds and nanos are kept
    /// apart: the extremes do not fit an `Int64` count of nanoseconds.
    static func parseDuration(_ text: String) -> Google_Protobuf_Duration? {
        guard text.hasSuffix("s") else { return nil }
        var body = Substring(text.dropLast())
        var negative = false
        if body.hasPrefix("-") { negative = true; body = body.dropFirst() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { return nil }
        guard !parts[0].isEmpty, parts[0].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let seconds = Int64(parts[0]), seconds <= 315_576_000_000 else {
            return nil
        }
        var nanos: Int32 = 0
        if parts.count == 2 {
            let frac = parts[1]
            guard !frac.isEmpty, frac.count <= 9, frac.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            nanos = Int32(frac + String(repeating: "0", count: 9 - frac.count)) ?? 0
        }
        return negative ? Google_Protobuf_Duration(seconds: -seconds, nanos: -nanos) : Google_Protobuf_Duration(seconds: seconds, nanos: nanos)
    }
}
