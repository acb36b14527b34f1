import RemoraAPI

/// `HttpProtocolOptions` and `Http1ProtocolOptions`, shared by the
/// connection manager (downstream) and clusters (upstream).
enum HTTPProtocolOptionsCompiler {
    enum Side { case downstream, upstream }

    static func compileCommon(
        _ config: Envoy_Config_Core_V3_HttpProtocolOptions, side: Side, at path: String
    ) throws(ConfigError) -> HTTPProtocolOptions {
        var supported: Set<String> = [
            "idle_timeout", "max_connection_duration", "max_headers_count", "max_stream_duration",
            "headers_with_underscores_action", "max_requests_per_connection",
        ]
        if side == .upstream { supported.insert("max_response_headers_kb") }
        if side == .downstream, config.hasMaxResponseHeadersKb {
            throw .invalid("Error: max_response_headers_kb cannot be set on http_connection_manager.",
                           at: FieldPath.join(path, "max_response_headers_kb"))
        }
        try SupportedFields.require(config, only: supported, at: path)
        var options = HTTPProtocolOptions()
        if config.hasIdleTimeout {
            let ms = try ConfigCompiler.milliseconds(config.idleTimeout, at: FieldPath.join(path, "idle_timeout"))
            options.idleTimeoutMilliseconds = ms == 0 ? nil : ms
        }
        if config.hasMaxConnectionDuration {
            let ms = try ConfigCompiler.milliseconds(config.maxConnectionDuration, at: FieldPath.join(path, "max_connection_duration"))
            options.maxConnectionDurationMilliseconds = ms == 0 ? nil : ms
        }
        if config.hasMaxHeadersCount {
            guard config.maxHeadersCount.value >= 1 else {
                throw .invalid("value must be greater than or equal to 1", at: FieldPath.join(path, "max_headers_count"))
            }
            options.maxHeadersCount = config.maxHeadersCount.value
        }
        if config.hasMaxStreamDuration {
            let ms = try ConfigCompiler.milliseconds(config.maxStreamDuration, at: FieldPath.join(path, "max_stream_duration"))
            options.maxStreamDurationMilliseconds = ms == 0 ? nil : ms
        }
        switch config.headersWithUnderscoresAction {
        case .allow: options.headersWithUnderscoresAction = .allow
        case .rejectRequest: options.headersWithUnderscoresAction = .rejectRequest
        case .dropHeader: options.headersWithUnderscoresAction = .dropHeader
        case .UNRECOGNIZED:
            throw .invalid("unknown headers_with_underscores_action", at: FieldPath.join(path, "headers_with_underscores_action"))
        }
        if config.hasMaxRequestsPerConnection {
            options.maxRequestsPerConnection = config.maxRequestsPerConnection.value
        }
        if config.hasMaxResponseHeadersKb {
            let kb = config.maxResponseHeadersKb.value
            guard kb > 0 && kb <= 8192 else {
                throw .invalid("value must be inside range (0, 8192]", at: FieldPath.join(path, "max_response_headers_kb"))
            }
            options.maxResponseHeadersKB = kb
        }
        return options
    }

    static func compileHTTP1(
        _ config: Envoy_Config_Core_V3_Http1ProtocolOptions, side: Side, at path: String
    ) throws(ConfigError) -> HTTP1ProtocolOptions {
        var supported: Set<String> = [
            "allow_absolute_url", "accept_http_10", "default_host_for_http_10", "enable_trailers",
            "allow_chunked_length", "override_stream_error_on_invalid_http_message", "allow_custom_methods",
        ]
        if side == .upstream { supported.insert("send_fully_qualified_url") }
        try SupportedFields.require(config, only: supported, at: path)
        if !config.defaultHostForHTTP10.isEmpty {
            try RouteCompiler.checkHeaderValue(config.defaultHostForHTTP10, at: FieldPath.join(path, "default_host_for_http_10"))
        }
        return HTTP1ProtocolOptions(
            allowAbsoluteURL: config.hasAllowAbsoluteURL ? config.allowAbsoluteURL.value : true,
            acceptHTTP10: config.acceptHTTP10,
            defaultHostForHTTP10: config.defaultHostForHTTP10.isEmpty ? nil : config.defaultHostForHTTP10,
            enableTrailers: config.enableTrailers,
            allowChunkedLength: config.allowChunkedLength,
            overrideStreamErrorOnInvalidHTTPMessage: config.hasOverrideStreamErrorOnInvalidHTTPMessage
                ? config.overrideStreamErrorOnInvalidHTTPMessage.value : nil,
            allowCustomMethods: config.allowCustomMethods,
            sendFullyQualifiedURL: config.sendFullyQualifiedURL)
    }
}
