import Foundation
import SwiftProtobuf

/// A `Visitor` that records the numbers of the fields a message sets, at its
/// top level only: nested messages (and the payload of a `typed_config`
/// `Any`) are not entered. `SupportedFields` used to serialize each message
/// to find them, which cost the size of the subtree at every level of the
/// config and, for an `Any` read from JSON, a JSON decode each time.
///
/// Config loading (main thread) only.
struct SetFieldNumbers: Visitor {
    private(set) var numbers: [Int] = []

    static func of<M: SwiftProtobuf.Message>(_ message: M) -> [Int] {
        var visitor = SetFieldNumbers()
        // Recording never throws; a message whose traversal does is not one
        // the decoders produce.
        try? message.traverse(visitor: &visitor)
        return visitor.numbers
    }

    private mutating func record(_ number: Int) {
        if numbers.last != number { numbers.append(number) }
    }

    mutating func visitSingularDoubleField(value: Double, fieldNumber: Int) throws { record(fieldNumber) }
    mutating func visitSingularInt64Field(value: Int64, fieldNumber: Int) throws { record(fieldNumber) }
    mutating func visitSingularUInt64Field(value: UInt64, fieldNumber: Int) throws { record(fieldNumber) }
    mutating func visitSingularBoolField(value: Bool, fieldNumber: Int) throws { record(fieldNumber) }
    mutating func visitSingularStringField(value: String, fieldNumber: Int) throws { record(fieldNumber) }
    mutating func visitSingularBytesField(value: Data, fieldNumber: Int) throws { record(fieldNumber) }
    mutating func visitSingularEnumField<E: SwiftProtobuf.Enum>(value: E, fieldNumber: Int) throws { record(fieldNumber) }
    mutating func visitSingularMessageField<M: SwiftProtobuf.Message>(value: M, fieldNumber: Int) throws { record(fieldNumber) }
    mutating func visitRepeatedMessageField<M: SwiftProtobuf.Message>(value: [M], fieldNumber: Int) throws { record(fieldNumber) }
    mutating func visitRepeatedStringField(value: [String], fieldNumber: Int) throws { record(fieldNumber) }

    mutating func visitMapField<KeyType, ValueType: MapValueType>(
        fieldType: _ProtobufMap<KeyType, ValueType>.Type, value: _ProtobufMap<KeyType, ValueType>.BaseType, fieldNumber: Int
    ) throws { record(fieldNumber) }

    mutating func visitMapField<KeyType, ValueType>(
        fieldType: _ProtobufEnumMap<KeyType, ValueType>.Type, value: _ProtobufEnumMap<KeyType, ValueType>.BaseType, fieldNumber: Int
    ) throws where ValueType.RawValue == Int { record(fieldNumber) }

    mutating func visitMapField<KeyType, ValueType>(
        fieldType: _ProtobufMessageMap<KeyType, ValueType>.Type, value: _ProtobufMessageMap<KeyType, ValueType>.BaseType, fieldNumber: Int
    ) throws { record(fieldNumber) }

    /// Fields this build of the API does not know: not Remora's to refuse by name.
    mutating func visitUnknown(bytes: Data) throws {}
}
