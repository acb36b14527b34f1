import Foundation
import RemoraAPI

extension RouteCompiler {
    static func compileRedirect(_ config: Envoy_Config_Route_V3_RedirectAction, at path: String) throws(ConfigError) -> RedirectAction {
        try SupportedFields.require(config, only: [
            "https_redirect", "scheme_redirect", "host_redirect", "port_redirect", "path_redirect", "prefix_rewrite",
            "regex_rewrite", "response_code", "strip_query",
        ], at: path)
        var scheme: String? = nil
        switch config.schemeRewriteSpecifier {
        case .httpsRedirect(let https)?: if https { scheme = "https" }
        case .schemeRedirect(let s)?:
            try checkHeaderValue(s, at: FieldPath.join(path, "scheme_redirect"))
            if !s.isEmpty { scheme = s }
        case nil: break
        }
        try checkHeaderValue(config.hostRedirect, at: FieldPath.join(path, "host_redirect"))
        guard config.portRedirect <= 65535 else {
            throw .invalid("value must be less than or equal to 65535", at: FieldPath.join(path, "port_redirect"))
        }
        var rewrite: RedirectAction.PathRewrite? = nil
        switch config.pathRewriteSpecifier {
        case .pathRedirect(let p)?:
            try checkHeaderValue(p, at: FieldPath.join(path, "path_redirect"))
            if !p.isEmpty { rewrite = .path(p) }
        case .prefixRewrite(let p)?:
            try checkHeaderValue(p, at: FieldPath.join(path, "prefix_rewrite"))
            if !p.isEmpty { rewrite = .prefix(p) }
        case .regexRewrite(let spec)?:
            rewrite = .regex(try RegexCompiler.compileSubstitution(spec, at: FieldPath.join(path, "regex_rewrite")))
        case nil: break
        }
        let code: Int
        switch config.responseCode {
        case .movedPermanently: code = 301
        case .found: code = 302
        case .seeOther: code = 303
        case .temporaryRedirect: code = 307
        case .permanentRedirect: code = 308
        case .UNRECOGNIZED: throw .invalid("unknown response_code", at: FieldPath.join(path, "response_code"))
        }
        return RedirectAction(
            scheme: scheme, host: config.hostRedirect.isEmpty ? nil : config.hostRedirect,
            port: config.portRedirect == 0 ? nil : config.portRedirect, path: rewrite,
            responseCode: code, stripQuery: config.stripQuery)
    }

    static func compileDirectResponse(
        _ config: Envoy_Config_Route_V3_DirectResponseAction, at path: String, maxBodySize: Int
    ) throws(ConfigError) -> DirectResponse {
        try SupportedFields.require(config, only: ["status", "body"], at: path)
        guard config.status >= 200 && config.status < 600 else {
            throw .invalid("value must be inside range [200, 600)", at: FieldPath.join(path, "status"))
        }
        var body: [UInt8]? = nil
        if config.hasBody {
            let data = try DataSourceReader.read(config.body, at: FieldPath.join(path, "body"))
            guard data.count <= maxBodySize else {
                throw .invalid("response body size is \(data.count) bytes; maximum is \(maxBodySize)", at: FieldPath.join(path, "body"))
            }
            body = data
        }
        return DirectResponse(status: Int(config.status), body: body)
    }
}

/// `envoy.config.core.v3.DataSource`, read once at config time.
enum DataSourceReader {
    static func read(_ source: Envoy_Config_Core_V3_DataSource, at path: String) throws(ConfigError) -> [UInt8] {
        try SupportedFields.require(source, only: ["filename", "inline_bytes", "inline_string", "environment_variable"], at: path)
        switch source.specifier {
        case .inlineString(let s)?:
            return Array(s.utf8)
        case .inlineBytes(let d)?:
            return [UInt8](d)
        case .filename(let name)?:
            let fp = FieldPath.join(path, "filename")
            guard !name.isEmpty else { throw .invalid("value length must be at least 1 characters", at: fp) }
            guard let data = FileManager.default.contents(atPath: name) else {
                throw .invalid("file \(name) does not exist or cannot be read", at: fp)
            }
            return [UInt8](data)
        case .environmentVariable(let name)?:
            let ep = FieldPath.join(path, "environment_variable")
            guard let value = ProcessInfo.processInfo.environment[name] else {
                throw .invalid("Environment variable doesn't exist: \(name)", at: ep)
            }
            return Array(value.utf8)
        case nil:
            throw .invalid("one of filename, inline_bytes, inline_string or environment_variable is required", at: path)
        }
    }
}
