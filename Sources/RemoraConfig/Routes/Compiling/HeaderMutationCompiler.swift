import RemoraAPI

/// `*_headers_to_add` / `*_headers_to_remove` → `HeaderMutation`, with
/// Envoy's `HeaderParser::configure` checks. Field paths are built only
/// for an error (every route of a push has these lists).
enum HeaderMutationCompiler {
    static func compile(
        add: [Envoy_Config_Core_V3_HeaderValueOption], remove: [String],
        addPath: @autoclosure () -> String, removePath: @autoclosure () -> String
    ) throws(ConfigError) -> HeaderMutation {
        if add.isEmpty && remove.isEmpty { return HeaderMutation() }
        var additions: [HeaderAddition] = []
        for (i, option) in add.enumerated() {
            additions.append(try compile(option, at: FieldPath.index(addPath(), i)))
        }
        var removals: [String] = []
        for (i, name) in remove.enumerated() {
            guard !name.isEmpty else { throw .invalid("value length must be at least 1 characters", at: FieldPath.index(removePath(), i)) }
            guard !ASCIIBytes.hasControlBreak(name) else {
                throw .invalid("header name contains a NUL, CR or LF", at: FieldPath.index(removePath(), i))
            }
            // Envoy: removing `:path` and the like would break the request; `host` is as special.
            guard isModifiable(name) else {
                throw .invalid(":-prefixed or host headers may not be removed", at: FieldPath.index(removePath(), i))
            }
            removals.append(name.lowercased())
        }
        return HeaderMutation(remove: removals, add: additions)
    }

    static func compile(
        _ option: Envoy_Config_Core_V3_HeaderValueOption, at path: @autoclosure () -> String
    ) throws(ConfigError) -> HeaderAddition {
        try SupportedFields.require(option, only: ["header", "append", "append_action", "keep_empty_value"], at: path())
        guard option.hasHeader else { throw .missing(at: FieldPath.join(path(), "header")) }
        func headerPath() -> String { FieldPath.join(path(), "header") }
        let header = option.header
        try SupportedFields.require(header, only: ["key", "value"], at: headerPath())
        func keyPath() -> String { FieldPath.join(headerPath(), "key") }
        guard !header.key.isEmpty else { throw .invalid("value length must be at least 1 characters", at: keyPath()) }
        guard !ASCIIBytes.hasControlBreak(header.key) else { throw .invalid("header name contains a NUL, CR or LF", at: keyPath()) }
        guard header.key.utf8.count <= 16384 else { throw .invalid("value length must be at most 16384 bytes", at: keyPath()) }
        // Envoy: `:path`/`:authority` have their own rewrite mechanisms, and Host behaves
        // inconsistently across HTTP/1 and HTTP/2, so neither may be set this way.
        guard isModifiable(header.key) else { throw .invalid(":-prefixed or host headers may not be modified", at: keyPath()) }
        func valuePath() -> String { FieldPath.join(headerPath(), "value") }
        guard !ASCIIBytes.hasControlBreak(header.value) else { throw .invalid("header value contains a NUL, CR or LF", at: valuePath()) }
        guard header.value.utf8.count <= 16384 else { throw .invalid("value length must be at most 16384 bytes", at: valuePath()) }

        let action: HeaderAppendAction
        if option.hasAppend {
            guard option.appendAction == .appendIfExistsOrAdd else {
                throw .invalid("Both append and append_action are set and it's not allowed", at: FieldPath.join(path(), "append"))
            }
            action = option.append.value ? .appendIfExistsOrAdd : .overwriteIfExistsOrAdd
        } else {
            switch option.appendAction {
            case .appendIfExistsOrAdd: action = .appendIfExistsOrAdd
            case .addIfAbsent: action = .addIfAbsent
            case .overwriteIfExistsOrAdd: action = .overwriteIfExistsOrAdd
            case .overwriteIfExists: action = .overwriteIfExists
            case .UNRECOGNIZED: throw .invalid("unknown append_action", at: FieldPath.join(path(), "append_action"))
            }
        }
        let template = try HeaderValueTemplate.parse(header.value, at: valuePath())
        return HeaderAddition(name: header.key.lowercased(), value: template, action: action, keepEmptyValue: option.keepEmptyValue)
    }

    /// Envoy's `HeaderUtility::isModifiableHeader` / `isRemovableHeader`.
    static func isModifiable(_ name: String) -> Bool {
        !name.hasPrefix(":") && name.lowercased() != "host"
    }
}
