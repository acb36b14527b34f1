import RemoraAPI
import SwiftProtobuf

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
        if side == .upstream && config.hasMaxConnectionDuration {
            throw .unsupported("max_connection_duration is not implemented for upstream connections",
                               at: FieldPath.join(path, "max_connection_duration"))
        }
        if side == .upstream && config.hasMaxStreamDuration {
            throw .unsupported("max_stream_duration is not implemented for upstream requests",
                               at: FieldPath.join(path, "max_stream_duration"))
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
        if side == .upstream && options.headersWithUnderscoresAction != .allow {
            throw .unsupported("headers_with_underscores_action is not implemented for upstream responses",
                               at: FieldPath.join(path, "headers_with_underscores_action"))
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

extension HTTPProtocolOptionsCompiler {
    /// `Http2ProtocolOptions` with Envoy's ranges; what Remora does not do
    /// (METADATA, custom SETTINGS, the oghttp2 codec) is refused by name.
    static func compileHTTP2(_ config: Envoy_Config_Core_V3_Http2ProtocolOptions, at path: String) throws(ConfigError) -> HTTP2ProtocolOptions {
        try SupportedFields.require(config, only: [
            "hpack_table_size", "max_concurrent_streams", "initial_stream_window_size", "initial_connection_window_size",
            "allow_connect", "max_outbound_frames", "max_outbound_control_frames",
            "max_consecutive_inbound_frames_with_empty_payload", "max_inbound_priority_frames_per_stream",
            "max_inbound_window_update_frames_per_data_frame_sent", "stream_error_on_invalid_http_messaging",
            "override_stream_error_on_invalid_http_message", "connection_keepalive", "use_oghttp2_codec",
        ], at: path)
        if config.hasUseOghttp2Codec && config.useOghttp2Codec.value {
            throw .unsupported("the oghttp2 codec is not available (Remora uses nghttp2)", at: FieldPath.join(path, "use_oghttp2_codec"))
        }
        func ranged(_ value: UInt32, _ low: UInt32, _ high: UInt32, _ field: String) throws(ConfigError) -> UInt32 {
            guard value >= low && value <= high else {
                throw .invalid("value must be inside range [\(low), \(high)]", at: FieldPath.join(path, field))
            }
            return value
        }
        var options = HTTP2ProtocolOptions()
        if config.hasHpackTableSize { options.hpackTableSize = config.hpackTableSize.value }
        if config.hasMaxConcurrentStreams {
            options.maxConcurrentStreams = try ranged(config.maxConcurrentStreams.value, 1, 2_147_483_647, "max_concurrent_streams")
        }
        if config.hasInitialStreamWindowSize {
            options.initialStreamWindowSize = try ranged(config.initialStreamWindowSize.value, 65535, 2_147_483_647,
                                                         "initial_stream_window_size")
        }
        if config.hasInitialConnectionWindowSize {
            options.initialConnectionWindowSize = try ranged(config.initialConnectionWindowSize.value, 65535, 2_147_483_647,
                                                             "initial_connection_window_size")
        }
        options.allowConnect = config.allowConnect
        if config.hasMaxOutboundFrames {
            options.maxOutboundFrames = try ranged(config.maxOutboundFrames.value, 1, .max, "max_outbound_frames")
        }
        if config.hasMaxOutboundControlFrames {
            options.maxOutboundControlFrames = try ranged(config.maxOutboundControlFrames.value, 1, .max, "max_outbound_control_frames")
        }
        if config.hasMaxConsecutiveInboundFramesWithEmptyPayload {
            options.maxConsecutiveInboundFramesWithEmptyPayload = config.maxConsecutiveInboundFramesWithEmptyPayload.value
        }
        if config.hasMaxInboundPriorityFramesPerStream {
            options.maxInboundPriorityFramesPerStream = config.maxInboundPriorityFramesPerStream.value
        }
        if config.hasMaxInboundWindowUpdateFramesPerDataFrameSent {
            options.maxInboundWindowUpdateFramesPerDataFrameSent = try ranged(
                config.maxInboundWindowUpdateFramesPerDataFrameSent.value, 1, .max, "max_inbound_window_update_frames_per_data_frame_sent")
        }
        if config.hasOverrideStreamErrorOnInvalidHTTPMessage {
            options.overrideStreamErrorOnInvalidHTTPMessage = config.overrideStreamErrorOnInvalidHTTPMessage.value
        } else if config.streamErrorOnInvalidHTTPMessaging {
            options.overrideStreamErrorOnInvalidHTTPMessage = true
        }
        if config.hasConnectionKeepalive {
            options.keepalive = try compileKeepalive(config.connectionKeepalive, at: FieldPath.join(path, "connection_keepalive"))
        }
        return options
    }

    static func compileKeepalive(_ config: Envoy_Config_Core_V3_KeepaliveSettings, at path: String) throws(ConfigError)
        -> HTTP2ProtocolOptions.Keepalive {
        try SupportedFields.require(config, only: ["interval", "timeout", "interval_jitter", "connection_idle_interval"], at: path)
        guard config.hasTimeout else { throw .missing(at: FieldPath.join(path, "timeout")) }
        func positive(_ d: SwiftProtobuf.Google_Protobuf_Duration, _ field: String) throws(ConfigError) -> UInt64 {
            let ms = try ConfigCompiler.milliseconds(d, at: FieldPath.join(path, field))
            guard ms >= 1 else { throw .invalid("value must be greater than or equal to 1ms", at: FieldPath.join(path, field)) }
            return ms
        }
        let timeout = try positive(config.timeout, "timeout")
        let interval = config.hasInterval ? try positive(config.interval, "interval") : 0
        var keepalive = HTTP2ProtocolOptions.Keepalive(intervalMilliseconds: interval, timeoutMilliseconds: timeout)
        if config.hasIntervalJitter {
            let jitter = config.intervalJitter.value
            guard jitter >= 0 && jitter <= 100 else {
                throw .invalid("value must be inside range [0, 100]", at: FieldPath.join(path, "interval_jitter.value"))
            }
            keepalive.jitterPercent = jitter
        }
        if config.hasConnectionIdleInterval {
            keepalive.connectionIdleIntervalMilliseconds = try positive(config.connectionIdleInterval, "connection_idle_interval")
        }
        return keepalive
    }
}
