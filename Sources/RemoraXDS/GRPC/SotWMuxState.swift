public import RemoraAPI

/// The state-of-the-world xDS protocol of one gRPC stream (ADS, or one
/// `api_config_source`), per type URL, as Envoy's `GrpcMuxImpl` speaks it.
/// A plain value: it takes events and returns the `DiscoveryRequest`s to
/// send; `SotWMuxStateTests` drive it without sockets.
///
/// - Each request carries the type's last accepted `version_info` and the
///   nonce of the last response of that type (cleared on a new stream).
/// - A NACK is the previous version with the response's nonce and an
///   `error_detail` {code 13 INTERNAL, the handler's message}.
/// - The node goes on every request, or with `set_node_on_first_message_only`
///   on the first request of each stream only.
/// - LDS and CDS ask with no names (wildcard); RDS, EDS and SDS name what
///   they want, and a response delivers only those.
/// - On a new stream, every subscribed type asks again, in the order the
///   types were first subscribed (Envoy's dependency order: CDS, EDS, LDS,
///   RDS as the server starts them).
/// - While a response is handled its type is paused (and the types it
///   leads to, see `xdsDependentTypes`): requests wait and go once after.
struct SotWMuxState {
    typealias Request = Envoy_Service_Discovery_V3_DiscoveryRequest
    typealias Response = Envoy_Service_Discovery_V3_DiscoveryResponse

    struct TypeState {
        var subscribed = false
        var names: Set<String> = []
        var versionInfo = ""
        var nonce = ""
        var errorDetail: Google_Rpc_Status?
        var pauses = 0
        /// A request was wanted while paused.
        var pending = false
        /// Names of the last update (wildcard types: what a missing name removes).
        var known: Set<String> = []
    }

    /// What the handler is working on (`deliver`/`acknowledge`/`reject` until `complete`).
    private struct InFlight {
        let type: XDSResourceType
        let versionInfo: String
        let nonce: String
        /// The names the response held (nil: malformed, the handler saw nothing).
        let names: Set<String>?
        let paused: [XDSResourceType]
    }

    let node: Envoy_Config_Core_V3_Node
    let setNodeOnFirstMessageOnly: Bool
    private(set) var types: [XDSResourceType: TypeState] = [:]
    /// Types in the order of their first subscription.
    private(set) var order: [XDSResourceType] = []
    private(set) var streamOpen = false
    private var firstStreamRequest = true
    private var inFlight: InFlight?

    init(node: Envoy_Config_Core_V3_Node, setNodeOnFirstMessageOnly: Bool) {
        self.node = node
        self.setNodeOnFirstMessageOnly = setNodeOnFirstMessageOnly
    }

    // MARK: - Subscriptions

    /// Starts watching `type` (names are ignored for wildcard types).
    mutating func subscribe(_ type: XDSResourceType, names: Set<String>) -> [Request] {
        var state = types[type] ?? TypeState()
        if !state.subscribed {
            state.subscribed = true
            if !order.contains(type) { order.append(type) }
        }
        state.names = type.isWildcard ? [] : names
        types[type] = state
        return request(type)
    }

    /// New names for a named type: a request with them goes at once.
    mutating func setNames(_ type: XDSResourceType, _ names: Set<String>) -> [Request] {
        guard !type.isWildcard, var state = types[type], state.subscribed, state.names != names else { return [] }
        state.names = names
        types[type] = state
        return request(type)
    }

    /// Stops watching: a named type asks for nothing more; responses for it
    /// are then only acknowledged.
    mutating func unsubscribe(_ type: XDSResourceType) -> [Request] {
        guard var state = types[type], state.subscribed else { return [] }
        state.subscribed = false
        state.names = []
        types[type] = state
        return type.isWildcard ? [] : request(type)
    }

    // MARK: - Stream

    /// A new stream: nonces are forgotten, every subscribed type asks again
    /// with its last accepted version, the first request carries the node.
    mutating func streamEstablished() -> [Request] {
        streamOpen = true
        firstStreamRequest = true
        for type in order { types[type]?.nonce = "" }
        return order.flatMap { request($0) }
    }

    mutating func streamClosed() {
        streamOpen = false
    }

    // MARK: - Pausing

    mutating func pause(_ paused: [XDSResourceType]) {
        for type in paused { types[type, default: TypeState()].pauses += 1 }
    }

    /// Resumes; a type whose request was held back asks now.
    mutating func resume(_ resumed: [XDSResourceType]) -> [Request] {
        var out: [Request] = []
        for type in resumed {
            guard var state = types[type], state.pauses > 0 else { continue }
            state.pauses -= 1
            // Envoy's GrpcMuxImpl never forgets a type once subscribed.
            let send = state.pauses == 0 && state.pending && order.contains(type)
            if state.pauses == 0 { state.pending = false }
            types[type] = state
            if send { out += request(type) }
        }
        return out
    }

    // MARK: - Responses

    mutating func receive(_ response: Response) -> XDSResponseOutcome<Request> {
        precondition(inFlight == nil, "a response arrived before the previous one was completed")
        guard let type = XDSResourceType(typeURL: response.typeURL), order.contains(type), var state = types[type] else {
            return .ignored
        }
        let watching = state.subscribed && (type.isWildcard || !state.names.isEmpty)
        if !watching {
            // GrpcMuxImpl with no watch: an empty response is accepted and
            // needs no request (there is nothing to ask for); one with
            // resources is answered with the old version (no error).
            state.nonce = response.nonce
            if response.resources.isEmpty { state.versionInfo = response.versionInfo }
            types[type] = state
            return .reply(response.resources.isEmpty ? [] : request(type))
        }
        let paused = [type] + xdsDependentTypes(of: type)
        pause(paused)
        var resources: [XDSResource] = []
        var names: Set<String> = []
        for any in response.resources {
            if any.typeURL != response.typeURL && any.typeURL != XDSSotWResource.wrapperTypeURL {
                inFlight = InFlight(type: type, versionInfo: response.versionInfo, nonce: response.nonce, names: nil, paused: paused)
                return .reject(type, XDSRejection(
                    "\(any.typeURL) does not match the message-wide type URL \(response.typeURL) in DiscoveryResponse"))
            }
            do throws(XDSSotWResource.Failure) {
                switch try XDSSotWResource.unpack(any, type: type) {
                case .heartbeat: continue
                case .resource(let name, let body):
                    if !type.isWildcard && !state.names.contains(name) { continue }
                    names.insert(name)
                    resources.append(XDSResource(name: name, version: response.versionInfo, resource: body))
                }
            } catch {
                inFlight = InFlight(type: type, versionInfo: response.versionInfo, nonce: response.nonce, names: nil, paused: paused)
                return .reject(type, XDSRejection(error.message))
            }
        }
        inFlight = InFlight(type: type, versionInfo: response.versionInfo, nonce: response.nonce, names: names, paused: paused)
        if !type.isWildcard && resources.isEmpty {
            return .acknowledge(type)
        }
        let removed = type.isWildcard ? state.known.subtracting(names).sorted() : []
        return .deliver(XDSUpdate(type: type, versionInfo: response.versionInfo, updated: resources, removed: removed,
                                  isStateOfTheWorld: true))
    }

    /// The handler's verdict on the response `receive` returned: ACK (the
    /// new version) or NACK (the old one, with `error_detail`). Requests the
    /// handler caused for the paused types go first, then the ACK/NACK.
    mutating func complete(rejection: XDSRejection?) -> [Request] {
        guard let done = inFlight else { preconditionFailure("complete without a response in flight") }
        inFlight = nil
        if var state = types[done.type] {
            state.nonce = done.nonce
            if let rejection {
                var detail = Google_Rpc_Status()
                detail.code = 13 // Grpc::Status::WellKnownGrpcStatus::Internal
                detail.message = xdsTruncatedStatusMessage(rejection.message)
                state.errorDetail = detail
            } else {
                state.versionInfo = done.versionInfo
            }
            // As Envoy's handlers do, a rejected update has removed what it
            // left out all the same.
            if done.type.isWildcard, let names = done.names { state.known = names }
            state.pending = true
            types[done.type] = state
        }
        let dependents = Array(done.paused.dropFirst())
        return resume(dependents) + resume([done.type])
    }

    // MARK: - Requests

    /// The request for `type` now, or nothing when the stream is down (the
    /// next stream asks again) or the type is paused (it asks on resume).
    private mutating func request(_ type: XDSResourceType) -> [Request] {
        guard streamOpen, order.contains(type), var state = types[type] else { return [] }
        if state.pauses > 0 {
            state.pending = true
            types[type] = state
            return []
        }
        var request = Request()
        request.typeURL = type.typeURL
        request.versionInfo = state.versionInfo
        request.responseNonce = state.nonce
        request.resourceNames = state.names.sorted()
        if !setNodeOnFirstMessageOnly || firstStreamRequest {
            request.node = node
        }
        if let detail = state.errorDetail {
            request.errorDetail = detail
            state.errorDetail = nil
            types[type] = state
        }
        firstStreamRequest = false
        return [request]
    }
}
