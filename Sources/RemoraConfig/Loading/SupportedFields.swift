import RemoraAPI
import SwiftProtobuf
import Synchronization

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
    ///
    /// `path` is built only for the error: a mesh-sized push checks tens of
    /// thousands of messages, and building each one's path string cost more
    /// than the check.
    static func require<M: SwiftProtobuf.Message>(
        _ message: M, only supported: [String], at path: @autoclosure () -> String
    ) throws(ConfigError) {
        try check(message, at: path) { supported.contains($0) }
    }

    static func require<M: SwiftProtobuf.Message>(
        _ message: M, only supported: Set<String>, at path: @autoclosure () -> String
    ) throws(ConfigError) {
        try check(message, at: path) { supported.contains($0) }
    }

    private static func check<M: SwiftProtobuf.Message>(
        _ message: M, at path: () -> String, _ isSupported: (String) -> Bool
    ) throws(ConfigError) {
        let numbers = SetFieldNumbers.of(message)
        if numbers.isEmpty { return }
        if let name = firstUnsupported(M.self, numbers, isSupported) {
            throw .unsupported("unsupported field (not implemented by Remora)", at: FieldPath.join(path(), name))
        }
    }

    /// Field names by message type and number ("" for a number the schema
    /// does not have), of the fields checked so far. `MessageSchema.envoy`
    /// is parsed (tens of ms) only for a name not seen before, and this
    /// outlives `MessageSchema.releaseCache()`: a mesh-sized push 1 s after
    /// the last one no longer parses the whole schema again to name the
    /// same few fields of clusters, endpoints and routes. It holds only
    /// fields that configs set: a few hundred entries.
    private static let names = Mutex<[ObjectIdentifier: [Int: String]]>([:])

    /// The name of the first field in `numbers` that is named in the schema
    /// and not supported (no array of names is made for a message that passes).
    private static func firstUnsupported<M: SwiftProtobuf.Message>(
        _: M.Type, _ numbers: [Int], _ isSupported: (String) -> Bool
    ) -> String? {
        names.withLock { names in
            let key = ObjectIdentifier(M.self)
            var unsupported: String?
            var added: [Int: String] = [:]
            for number in numbers {
                let name: String
                if let known = names[key]?[number] {
                    name = known
                } else {
                    guard let schema = MessageSchema.envoy.messages[M.protoMessageName] else {
                        preconditionFailure("\(M.protoMessageName) missing from the schema")
                    }
                    name = schema.field(number: number)?.name ?? ""
                    added[number] = name
                }
                if unsupported == nil, !name.isEmpty, !isSupported(name) { unsupported = name }
            }
            if !added.isEmpty { names[key, default: [:]].merge(added) { old, _ in old } }
            return unsupported
        }
    }
}
