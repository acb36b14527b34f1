import RemoraAPI
import SwiftProtobuf

/// Refuses a message that sets a field Remora does not implement.
///
/// A feature that is not done must say so, never be silently ignored. The
/// check visits the fields the message sets at its top level (without
/// entering nested messages), so it sees every set field, including ones
/// added to the API after this code was written.
enum SupportedFields {
    static func require<M: SwiftProtobuf.Message>(
        _ message: M, only supported: Set<String>, at path: String
    ) throws(ConfigError) {
        guard let schema = MessageSchema.envoy.messages[M.protoMessageName] else {
            preconditionFailure("\(M.protoMessageName) missing from the schema")
        }
        for number in SetFieldNumbers.of(message) {
            guard let field = schema.field(number: number) else { continue }
            if !supported.contains(field.name) {
                throw .unsupported("unsupported field (not implemented by Remora)", at: FieldPath.join(path, field.name))
            }
        }
    }
}
