import RemoraAPI
import SwiftProtobuf

/// Refuses a message that sets a field Remora does not implement.
///
/// A feature that is not done must say so, never be silently ignored. The
/// check serializes the message and reads the field numbers present at its
/// top level, so it sees every set field, including ones added to the API
/// after this code was written.
enum SupportedFields {
    static func require<M: SwiftProtobuf.Message>(
        _ message: M, only supported: Set<String>, at path: String
    ) throws(ConfigError) {
        guard let schema = MessageSchema.envoy.messages[M.protoMessageName] else {
            preconditionFailure("\(M.protoMessageName) missing from the schema")
        }
        let bytes: [UInt8]
        do {
            bytes = try message.serializedBytes()
        } catch {
            throw .invalid("cannot encode \(M.protoMessageName): \(error)", at: path)
        }
        for number in topLevelFieldNumbers(bytes) {
            guard let field = schema.field(number: number) else { continue }
            if !supported.contains(field.name) {
                throw .unsupported("unsupported field (not implemented by Remora)", at: FieldPath.join(path, field.name))
            }
        }
    }

    /// Field numbers present in a serialized message, in order of appearance.
    static func topLevelFieldNumbers(_ bytes: [UInt8]) -> [Int] {
        var numbers: [Int] = []
        var reader = ProtobufWireReader(bytes[...])
        while let (number, _) = reader.next() {
            if numbers.last != Int(number) { numbers.append(Int(number)) }
        }
        return numbers
    }
}
