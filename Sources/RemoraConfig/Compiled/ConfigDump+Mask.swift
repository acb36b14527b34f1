import Foundation
import RemoraAPI
import SwiftProtobuf

/// `/config_dump?mask=` as Envoy 1.40 applies it: a `FieldMask` (paths of
/// field names, comma-separated). Without `resource`, each top-level dump
/// message whose type the mask is valid for is trimmed to it and the others
/// are left out (none valid: an error); a path may not go through a
/// repeated field. With `resource`, the mask applies to every element, and
/// paths into the element's `Any` resource (`cluster.name`) apply to the
/// resource inside it.
extension ConfigDump {
    /// A field mask as a tree: a leaf keeps its whole field.
    final class MaskTree {
        var children: [String: MaskTree] = [:]
        var isLeaf = false

        init() {}

        init(paths: [[String]]) {
            for path in paths { add(path[...]) }
        }

        private func add(_ path: ArraySlice<String>) {
            guard !isLeaf, let first = path.first else { return }
            let child = children[first] ?? MaskTree()
            children[first] = child
            if path.count == 1 {
                child.isLeaf = true
                child.children = [:]
            } else {
                child.add(path.dropFirst())
            }
        }

        /// `object` with only the masked fields (`@type` always kept); a
        /// value the path goes on into that is not an object (a well-known
        /// type's JSON form) is kept whole.
        func trim(_ object: [String: Any]) -> [String: Any] {
            var out: [String: Any] = [:]
            if let type = object["@type"] { out["@type"] = type }
            for (name, child) in children {
                guard let value = object[name] else { continue }
                if !child.isLeaf, let nested = value as? [String: Any] {
                    out[name] = child.trim(nested)
                } else {
                    out[name] = value
                }
            }
            return out
        }
    }

    /// The mask's paths, or nil for an empty mask.
    static func maskPaths(_ mask: String) -> [[String]]? {
        let paths = mask.split(separator: ",").map { $0.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }
        return paths.isEmpty ? nil : paths
    }

    /// Protobuf's `FieldMaskUtil::IsValidPath` for `messageName` of the API:
    /// every field exists, and every one but the last is a singular message.
    static func isValid(_ path: ArraySlice<String>, in messageName: String) -> Bool {
        guard let first = path.first, let message = MessageSchema.envoy.messages[messageName],
              let field = message.field(named: first) else { return false }
        if path.count == 1 { return true }
        guard !field.isRepeated, field.type == .message, let type = field.typeName else { return false }
        return isValid(path.dropFirst(), in: type)
    }

    /// The top-level dump messages' fields: name → the API message a path
    /// may go on into (nil: a repeated field or a scalar, where it stops).
    static let dumpFields: [String: [String: String?]] = [
        "BootstrapConfigDump": ["bootstrap": Envoy_Config_Bootstrap_V3_Bootstrap.protoMessageName,
                                "last_updated": "google.protobuf.Timestamp"],
        "ClustersConfigDump": ["version_info": nil, "static_clusters": nil, "dynamic_active_clusters": nil,
                               "dynamic_warming_clusters": nil],
        "EndpointsConfigDump": ["static_endpoint_configs": nil, "dynamic_endpoint_configs": nil],
        "ListenersConfigDump": ["version_info": nil, "static_listeners": nil, "dynamic_listeners": nil],
        "ScopedRoutesConfigDump": ["inline_scoped_route_configs": nil, "dynamic_scoped_route_configs": nil],
        "RoutesConfigDump": ["static_route_configs": nil, "dynamic_route_configs": nil],
        "SecretsConfigDump": ["static_secrets": nil, "dynamic_active_secrets": nil, "dynamic_warming_secrets": nil],
    ]

    /// Whether every path is valid in dump message `type` (whose fields are
    /// `fields`), a field with an API message type checked down its schema.
    static func isValid(_ paths: [[String]], fields: [String: String?]) -> Bool {
        paths.allSatisfy { path in
            guard let first = path.first, let entry = fields[first] else { return false }
            if path.count == 1 { return true }
            guard let type = entry else { return false }
            return isValid(path.dropFirst(), in: type)
        }
    }

    /// `json` (a message's JSON) trimmed to `tree`, printed again as `M`
    /// (fields in proto order).
    static func trimmed<M: SwiftProtobuf.Message>(_ json: String, to tree: MaskTree, as type: M.Type) -> String {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any],
              let data = try? JSONSerialization.data(withJSONObject: tree.trim(object)) else { return "{}" }
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        guard let message = try? M(jsonUTF8Data: data, options: options) else {
            return String(decoding: data, as: UTF8.self)
        }
        return Self.json(message)
    }
}
