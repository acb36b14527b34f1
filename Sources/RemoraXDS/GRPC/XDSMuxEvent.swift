/// What a mux state machine makes of one response (state of the world or
/// Delta); the I/O side acts on it and, unless it is `.ignored` or
/// `.reply`, calls `complete` with the handler's verdict.
enum XDSResponseOutcome<Request> {
    /// A type nothing subscribes to: dropped, as Envoy drops it.
    case ignored
    /// Requests to send at once, no handler call (a response for a type
    /// whose subscription names nothing).
    case reply([Request])
    /// Hand this to the handler, then `complete` with what it said.
    case deliver(XDSUpdate)
    /// Nothing for the handler (a named type's response held none of the
    /// names asked for); `complete` ACKs it.
    case acknowledge(XDSResourceType)
    /// Refused before the handler (malformed): `complete` NACKs it.
    case reject(XDSResourceType, XDSRejection)
}

/// The types whose requests Envoy holds back while a response of `type` is
/// handled, so that the names it asks for come in one request after it
/// (`CdsApiHelper` pauses EDS, LEDS and SDS; `LdsApiImpl` pauses RDS and SDS).
func xdsDependentTypes(of type: XDSResourceType) -> [XDSResourceType] {
    switch type {
    case .cluster: [.clusterLoadAssignment, .secret]
    case .listener: [.routeConfiguration, .secret]
    default: []
    }
}

/// Envoy's `Config::Utility::truncateGrpcStatusMessage`: an error_detail
/// message is cut at 4 KiB, with a note saying so.
func xdsTruncatedStatusMessage(_ message: String) -> String {
    let limit = 4096
    let utf8 = Array(message.utf8)
    guard utf8.count > limit else { return message }
    return String(decoding: utf8.prefix(limit), as: UTF8.self) + "...(truncated)"
}
