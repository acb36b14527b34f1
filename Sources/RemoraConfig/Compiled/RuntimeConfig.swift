import RemoraAPI
import SwiftProtobuf

/// One layer of `layered_runtime`: a static layer's values (nested keys
/// joined with dots, every value as the string Envoy shows), or the admin
/// layer that `/runtime_modify` writes. Remora reads none of the keys: its
/// behaviour is Envoy's defaults; the layers are kept for `/runtime` and
/// `/runtime_modify` (and described in `runtime.*`), and start-up says so.
public struct RuntimeLayerConfig: Sendable, Equatable {
    public var name: String
    public var isAdmin: Bool
    public var values: [String: String]
}

enum RuntimeCompiler {
    /// `layered_runtime.layers`; disk and RTDS layers are refused.
    static func compile(_ runtime: Envoy_Config_Bootstrap_V3_LayeredRuntime,
                        at path: String) throws(ConfigError) -> [RuntimeLayerConfig] {
        try SupportedFields.require(runtime, only: ["layers"], at: path)
        var layers: [RuntimeLayerConfig] = []
        var names: Set<String> = []
        for (i, layer) in runtime.layers.enumerated() {
            let lp = FieldPath.index(FieldPath.join(path, "layers"), i)
            guard names.insert(layer.name).inserted else {
                throw .invalid("Duplicate layer name: \(layer.name)", at: FieldPath.join(lp, "name"))
            }
            switch layer.layerSpecifier {
            case .staticLayer(let values)?:
                var flat: [String: String] = [:]
                try flatten(values, prefix: "", into: &flat, at: FieldPath.join(lp, "static_layer"))
                layers.append(RuntimeLayerConfig(name: layer.name, isAdmin: false, values: flat))
            case .adminLayer?:
                guard !layers.contains(where: \.isAdmin) else {
                    throw .invalid("Too many admin layers specified in LayeredRuntime, at most one may be specified",
                                   at: FieldPath.join(lp, "admin_layer"))
                }
                layers.append(RuntimeLayerConfig(name: layer.name, isAdmin: true, values: [:]))
            case .diskLayer?:
                throw .unsupported("disk runtime layers are not implemented", at: FieldPath.join(lp, "disk_layer"))
            case .rtdsLayer?:
                throw .unsupported("RTDS runtime layers are not implemented", at: FieldPath.join(lp, "rtds_layer"))
            case nil:
                throw .missing(at: FieldPath.join(lp, "static_layer"))
            }
        }
        return layers
    }

    /// `{a: {b: 1}}` → `a.b: "1"`, as Envoy's static layer reads a Struct.
    private static func flatten(_ values: Google_Protobuf_Struct, prefix: String, into flat: inout [String: String],
                                at path: String) throws(ConfigError) {
        for (key, value) in values.fields {
            let name = prefix + key
            switch value.kind {
            case .structValue(let nested)?:
                try flatten(nested, prefix: name + ".", into: &flat, at: path)
            case .stringValue(let text)?:
                flat[name] = text
            case .boolValue(let flag)?:
                flat[name] = flag ? "true" : "false"
            case .numberValue(let number)?:
                flat[name] = number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
            case .listValue?:
                throw .invalid("runtime values cannot be lists", at: FieldPath.join(path, name))
            case .nullValue?, nil:
                flat[name] = ""
            }
        }
    }
}
