import RemoraAPI
import SwiftProtobuf

/// Refuses a message that sets a field Remora does not implement.
///
/// A feature that is not done must say so, never be silently ignored. The
/// check visits the fields the message sets at its top level (without
/// entering nested messages), so it sees every set field, including ones
/// added to the API after this code was written.
enum SupportedFields {
    /// The common call, with an array literal: compiling a mesh-sized update
    /// calls this for every endpoint, route and cluster, and building a `Set`
    /// from the literal each time (hashing every name) cost more than the
    /// check; a message sets only a few fields, so a scan of the list is cheap.
    static func require<M: SwiftProtobuf.Message>(
        _ message: M, only supported: [String], at path: String
    ) throws(ConfigError) {
        try check(message, at: path) { supported.contains($0) }
    }

    static func require<M: SwiftProtobuf.Message>(
        _ message: M, only supported: Set<String>, at path: String
    ) throws(ConfigError) {
        try check(message, at: path) { supported.contains($0) }
    }

    private static func check<M: SwiftProtobuf.Message>(
        _ message: M, at path: String, _ isSupported: (String) -> Bool
    ) throws(ConfigError) {
        let numbers = SetFieldNumbers.of(message)
        if numbers.isEmpty { return }
        guard let schema = MessageSchema.envoy.messages[M.protoMessageName] else {
            preconditionFailure("\(M.protoMessageName) missing from the schema")
        }
        for number in numbers {
            guard let field = schema.field(number: number) else { continue }
            if !isSupported(field.name) {
                throw .unsupported("unsupported field (not implemented by Remora)", at: FieldPath.join(path, field.name))
            }
        }
    }
}
