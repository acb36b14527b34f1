public import RemoraAPI
public import SwiftProtobuf

/// A state-of-the-world resource as the mux reads it: its name (peeked from
/// field 1, see `XDSResourceName`) and body; one wrapped in
/// `envoy.service.discovery.v3.Resource` is unwrapped, and a wrapper without
/// a body is a heartbeat, skipped as Envoy skips it.
enum XDSSotWResource {
    static let wrapperTypeURL = "type.googleapis.com/envoy.service.discovery.v3.Resource"

    enum Unpacked {
        case resource(name: String, any: Google_Protobuf_Any)
        case heartbeat
    }

    struct Failure: Error {
        let message: String
    }

    /// Envoy's text for a resource it cannot decode (`DecodedResourceImpl`),
    /// up to its debug dump of the bytes.
    static func unpackFailure(_ typeURL: String) -> String {
        let typeName = typeURL.split(separator: "/").last.map(String.init) ?? typeURL
        return "Unable to unpack as \(typeName): the resource's fields do not parse"
    }

    static func unpack(_ any: Google_Protobuf_Any, type: XDSResourceType) throws(Failure) -> Unpacked {
        if any.typeURL == wrapperTypeURL {
            guard let wrapper = try? Envoy_Service_Discovery_V3_Resource(serializedBytes: any.value) else {
                throw Failure(message: unpackFailure(wrapperTypeURL))
            }
            guard wrapper.hasResource else { return .heartbeat }
            guard XDSResourceName.peek(wrapper.resource.value) != nil else {
                throw Failure(message: unpackFailure(type.typeURL))
            }
            return .resource(name: wrapper.name, any: wrapper.resource)
        }
        guard let name = XDSResourceName.peek(any, type: type) else {
            throw Failure(message: unpackFailure(type.typeURL))
        }
        return .resource(name: name, any: any)
    }
}
