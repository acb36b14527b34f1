public import SwiftProtobuf

/// A resource's name without decoding it: every type Remora subscribes to
/// keeps its name in field 1 (`Listener.name`, `RouteConfiguration.name`,
/// `Cluster.name`, `ClusterLoadAssignment.cluster_name`, `Secret.name`), so
/// the name is read from the wire bytes. Decoding 1,000 clusters twice per
/// push would cost more than the push itself.
public enum XDSResourceName {
    /// The name in `resource`, or nil when its type is not `type`, field 1
    /// is not a well-formed string, or the message's top-level fields do
    /// not parse (tags, lengths; Envoy refuses a response with a resource it
    /// cannot unpack, and a skim of the top level finds truncated or foreign
    /// bytes without decoding the resource).
    public static func peek(_ resource: Google_Protobuf_Any, type: XDSResourceType) -> String? {
        guard resource.typeURL == type.typeURL else { return nil }
        return peek(resource.value)
    }

    /// The name (field 1) of the serialized message `value`, or nil when it
    /// is malformed at the top level.
    public static func peek<Bytes: Collection<UInt8>>(_ value: Bytes) -> String? {
        let bytes = [UInt8](value)
        var name = ""
        var i = 0
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while i < bytes.count, shift < 64 {
                let b = bytes[i]
                i += 1
                value |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while i < bytes.count {
            guard let key = varint() else { return nil }
            let field = key >> 3
            switch key & 7 {
            case 0: guard varint() != nil else { return nil }
            case 1: i += 8
            case 5: i += 4
            case 2:
                guard let length = varint(), length <= UInt64(bytes.count - i) else { return nil }
                if field == 1 {
                    guard let text = String(validating: bytes[i..<i + Int(length)], as: UTF8.self) else { return nil }
                    name = text
                }
                i += Int(length)
            default: return nil
            }
        }
        // Field 1 absent: the empty name (proto3 default).
        return i == bytes.count ? name : nil
    }
}
