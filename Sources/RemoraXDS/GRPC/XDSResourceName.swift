public import RemoraAPI
public import SwiftProtobuf

/// A state-of-the-world resource's name, read without decoding the
/// resource: Listener, RouteConfiguration, Cluster and Secret keep `name`,
/// and ClusterLoadAssignment `cluster_name`, in field 1. A resource wrapped
/// in `envoy.service.discovery.v3.Resource` is unwrapped (and one without a
/// body is a heartbeat, skipped as Envoy skips it).
enum XDSResourceName {
    static let wrapperTypeURL = "type.googleapis.com/envoy.service.discovery.v3.Resource"

    enum Unpacked {
        case resource(name: String, any: Google_Protobuf_Any)
        case heartbeat
    }

    struct Failure: Error {
        let message: String
    }

    static func unpack(_ any: Google_Protobuf_Any) throws(Failure) -> Unpacked {
        if any.typeURL == wrapperTypeURL {
            guard let wrapper = try? Envoy_Service_Discovery_V3_Resource(serializedBytes: any.value) else {
                throw Failure(message: "cannot decode an envoy.service.discovery.v3.Resource")
            }
            guard wrapper.hasResource else { return .heartbeat }
            return .resource(name: wrapper.name, any: wrapper.resource)
        }
        guard let name = field1String(any.value) else {
            throw Failure(message: "cannot read the name of a \(any.typeURL) resource")
        }
        return .resource(name: name, any: any)
    }

    /// The first length-delimited field 1 of a serialized message ("" if
    /// absent, as proto3 leaves an empty string out); nil if the bytes are
    /// not a message.
    static func field1String(_ bytes: some Collection<UInt8>) -> String? {
        var it = Array(bytes)[...]
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = it.popFirst() {
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
                if shift > 63 { return nil }
            }
            return nil
        }
        while !it.isEmpty {
            guard let tag = varint() else { return nil }
            switch tag & 7 {
            case 0: guard varint() != nil else { return nil }
            case 1: guard it.count >= 8 else { return nil }; it = it.dropFirst(8)
            case 5: guard it.count >= 4 else { return nil }; it = it.dropFirst(4)
            case 2:
                guard let length = varint(), length <= UInt64(it.count) else { return nil }
                let body = it.prefix(Int(length))
                if tag >> 3 == 1 { return String(decoding: body, as: UTF8.self) }
                it = it.dropFirst(Int(length))
            default: return nil
            }
        }
        return ""
    }
}
