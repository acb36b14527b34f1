public import RemoraAPI

/// The incremental (Delta) xDS protocol of one gRPC stream, per type URL,
/// as Envoy's `NewGrpcMuxImpl` and `DeltaSubscriptionState` speak it. A
/// plain value: it takes events and returns the `DeltaDiscoveryRequest`s to
/// send; `DeltaMuxStateTests` drive it without sockets.
///
/// - Interest changes go as `resource_names_subscribe`/`_unsubscribe`; LDS
///   and CDS use the legacy wildcard (a first request naming nothing).
/// - An ACK is the response's nonce; a NACK adds `error_detail` {13, message}.
///   ACKs go before plain subscription updates, which go in the order the
///   types were first subscribed.
/// - A new stream resends the whole interest, with `initial_resource_versions`
///   for every resource held (not those still awaited).
/// - The node goes on every request, or with `set_node_on_first_message_only`
///   on the first request of each stream only (as Envoy 1.40 does).
/// - While a CDS or LDS response is handled, the types it leads to are
///   paused; what they asked for meanwhile goes before its ACK (Envoy 1.40
///   sends the EDS subscription, then the CDS ACK).
struct DeltaMuxState {
    typealias Request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest
    typealias Response = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse
    static let wildcard = "*"

    /// One type's `DeltaSubscriptionState`.
    struct TypeState {
        /// Names asked for, with the version held (nil: waiting for the server).
        var requested: [String: String?] = [:]
        /// Resources that came from the wildcard subscription, with versions.
        var wildcardResources: [String: String] = [:]
        /// Dropped from `requested` while wildcard: maybe still wildcard's.
        var ambiguous: [String: String] = [:]
        var namesAdded: Set<String> = []
        var namesRemoved: Set<String> = []
        var inInitialLegacyWildcard: Bool
        var anyRequestSentInStream = false
        var sendInitialResourceVersions = true
        /// A handler listens (false after `unsubscribe`).
        var subscribed = true

        init(wildcard: Bool) { inInitialLegacyWildcard = wildcard }

        mutating func updateInterest(added: Set<String>, removed: Set<String>) {
            for name in added {
                if inInitialLegacyWildcard && name != DeltaMuxState.wildcard { inInitialLegacyWildcard = false }
                if let version = wildcardResources.removeValue(forKey: name) {
                    requested[name] = .some(version)
                } else if let version = ambiguous.removeValue(forKey: name) {
                    requested[name] = .some(version)
                } else {
                    requested[name] = .some(nil)
                }
                namesRemoved.remove(name)
                namesAdded.insert(name)
            }
            for name in removed {
                var erased = false
                if requested[DeltaMuxState.wildcard] != nil {
                    if let held = requested.removeValue(forKey: name) {
                        if let version = held { ambiguous[name] = version }
                        erased = true
                    }
                } else {
                    erased = requested.removeValue(forKey: name) != nil
                }
                namesAdded.remove(name)
                if erased {
                    namesRemoved.insert(name)
                    inInitialLegacyWildcard = false
                }
            }
            if removed.contains(DeltaMuxState.wildcard) {
                wildcardResources = [:]
                ambiguous = [:]
            }
        }

        var updatePending: Bool {
            if !namesAdded.isEmpty || !namesRemoved.isEmpty { return true }
            if !anyRequestSentInStream { return !requested.isEmpty || inInitialLegacyWildcard }
            return false
        }

        func isHeartbeat(_ resource: Envoy_Service_Discovery_V3_Resource) -> Bool {
            guard !resource.hasResource else { return false }
            if let held = requested[resource.name] { return held != nil && held == resource.version }
            if let version = wildcardResources[resource.name] { return version == resource.version }
            if let version = ambiguous[resource.name] { return version == resource.version }
            return false
        }

        /// Whether an update of `name` is this type's to deliver (Envoy's
        /// watch map: the wildcard watch takes every name).
        func interested(in name: String, wildcardType: Bool) -> Bool {
            wildcardType || requested[name] != nil
        }

        mutating func accept(_ response: Response) {
            let wildcardSubscribed = requested[DeltaMuxState.wildcard] != nil
            for resource in response.resources where wildcardSubscribed || requested[resource.name] != nil {
                if requested[resource.name] != nil {
                    requested[resource.name] = .some(resource.version)
                } else {
                    wildcardResources[resource.name] = resource.version
                    ambiguous.removeValue(forKey: resource.name)
                }
            }
            // A removed resource we still want stays asked for, without a
            // version (left out of initial_resource_versions).
            for name in response.removedResources {
                if requested[name] != nil {
                    requested[name] = .some(nil)
                } else if ambiguous.removeValue(forKey: name) == nil {
                    wildcardResources.removeValue(forKey: name)
                }
            }
        }

        mutating func nextRequest(type: XDSResourceType, node: Envoy_Config_Core_V3_Node?) -> Request {
            var request = Request()
            if !anyRequestSentInStream {
                anyRequestSentInStream = true
                let legacyWildcard = isInitialRequestForLegacyWildcard()
                for (name, held) in requested {
                    if sendInitialResourceVersions, let version = held { request.initialResourceVersions[name] = version }
                    namesAdded.insert(name)
                }
                if sendInitialResourceVersions {
                    for (name, version) in wildcardResources { request.initialResourceVersions[name] = version }
                    for (name, version) in ambiguous { request.initialResourceVersions[name] = version }
                }
                if legacyWildcard { namesAdded = [] }
                namesRemoved = []
            }
            request.resourceNamesSubscribe = namesAdded.sorted()
            request.resourceNamesUnsubscribe = namesRemoved.sorted()
            namesAdded = []
            namesRemoved = []
            request.typeURL = type.typeURL
            if let node { request.node = node }
            return request
        }

        private mutating func isInitialRequestForLegacyWildcard() -> Bool {
            if inInitialLegacyWildcard {
                requested[DeltaMuxState.wildcard] = .some(nil)
                return true
            }
            if !namesAdded.isEmpty || !namesRemoved.isEmpty { return false }
            return requested.count == 1 && requested[DeltaMuxState.wildcard] != nil
        }
    }

    private struct Ack {
        let type: XDSResourceType
        let nonce: String
        let errorDetail: Google_Rpc_Status?
    }

    private struct InFlight {
        let type: XDSResourceType
        let response: Response
        let paused: [XDSResourceType]
    }

    let node: Envoy_Config_Core_V3_Node
    let setNodeOnFirstMessageOnly: Bool
    private var firstStreamRequest = true
    private(set) var types: [XDSResourceType: TypeState] = [:]
    private(set) var order: [XDSResourceType] = []
    private(set) var streamOpen = false
    private var acks: [Ack] = []
    private var pauses: [XDSResourceType: Int] = [:]
    private var inFlight: InFlight?

    init(node: Envoy_Config_Core_V3_Node, setNodeOnFirstMessageOnly: Bool) {
        self.node = node
        self.setNodeOnFirstMessageOnly = setNodeOnFirstMessageOnly
    }

    /// The node, if the next request carries it.
    private mutating func nodeForNextRequest() -> Envoy_Config_Core_V3_Node? {
        defer { firstStreamRequest = false }
        return !setNodeOnFirstMessageOnly || firstStreamRequest ? node : nil
    }

    // MARK: - Subscriptions

    mutating func subscribe(_ type: XDSResourceType, names: Set<String>) -> [Request] {
        if types[type] == nil {
            types[type] = TypeState(wildcard: type.isWildcard)
            order.append(type)
        }
        types[type]?.subscribed = true
        if !type.isWildcard { return setNames(type, names) }
        if let state = types[type], !state.inInitialLegacyWildcard, state.requested[Self.wildcard] == nil {
            // Wildcard again after an unsubscribe: ask for "*" explicitly.
            types[type]?.updateInterest(added: [Self.wildcard], removed: [])
        }
        return trySend()
    }

    mutating func setNames(_ type: XDSResourceType, _ names: Set<String>) -> [Request] {
        guard !type.isWildcard, var state = types[type] else { return [] }
        let current = Set(state.requested.keys)
        state.updateInterest(added: names.subtracting(current), removed: current.subtracting(names))
        types[type] = state
        return trySend()
    }

    mutating func unsubscribe(_ type: XDSResourceType) -> [Request] {
        guard var state = types[type], state.subscribed else { return [] }
        state.subscribed = false
        state.updateInterest(added: [], removed: Set(state.requested.keys))
        if type.isWildcard { state.inInitialLegacyWildcard = false }
        types[type] = state
        return trySend()
    }

    // MARK: - Stream

    mutating func streamEstablished() -> [Request] {
        streamOpen = true
        firstStreamRequest = true
        for type in order {
            types[type]?.anyRequestSentInStream = false
            types[type]?.sendInitialResourceVersions = true
        }
        acks = []
        return trySend()
    }

    mutating func streamClosed() {
        streamOpen = false
    }

    // MARK: - Pausing

    mutating func pause(_ paused: [XDSResourceType]) {
        for type in paused { pauses[type, default: 0] += 1 }
    }

    mutating func resume(_ resumed: [XDSResourceType]) -> [Request] {
        for type in resumed where pauses[type, default: 0] > 0 { pauses[type]! -= 1 }
        return trySend()
    }

    private func paused(_ type: XDSResourceType) -> Bool { pauses[type, default: 0] > 0 }

    // MARK: - Responses

    mutating func receive(_ response: Response) -> XDSResponseOutcome<Request> {
        precondition(inFlight == nil, "a response arrived before the previous one was completed")
        guard let type = XDSResourceType(typeURL: response.typeURL), let state = types[type] else { return .ignored }
        let paused = xdsDependentTypes(of: type)
        pause(paused)
        inFlight = InFlight(type: type, response: response, paused: paused)
        var seen: Set<String> = []
        var updated: [XDSResource] = []
        for resource in response.resources {
            guard seen.insert(resource.name).inserted else {
                return .reject(type, XDSRejection("duplicate name \(resource.name) found among added/updated resources"))
            }
            if state.isHeartbeat(resource) { continue }
            if !resource.hasResource && !resource.aliases.isEmpty { continue }
            if resource.resource.typeURL != response.typeURL {
                return .reject(type, XDSRejection("type URL \(resource.resource.typeURL) embedded in an individual Any does not "
                    + "match the message-wide type URL \(response.typeURL) in DeltaDiscoveryResponse"))
            }
            // Envoy decodes every resource before any handler runs; a skim of
            // the top-level fields finds what it could not unpack.
            if XDSResourceName.peek(resource.resource.value) == nil {
                return .reject(type, XDSRejection(XDSSotWResource.unpackFailure(response.typeURL)))
            }
            if state.subscribed && state.interested(in: resource.name, wildcardType: type.isWildcard) {
                updated.append(XDSResource(name: resource.name, version: resource.version, resource: resource.resource))
            }
        }
        var removed: [String] = []
        for name in response.removedResources {
            guard seen.insert(name).inserted else {
                return .reject(type, XDSRejection("duplicate name \(name) found in the union of added+removed resources"))
            }
            if state.subscribed && state.interested(in: name, wildcardType: type.isWildcard) { removed.append(name) }
        }
        guard state.subscribed, type.isWildcard || !updated.isEmpty || !removed.isEmpty else { return .acknowledge(type) }
        return .deliver(XDSUpdate(type: type, versionInfo: response.systemVersionInfo, updated: updated, removed: removed,
                                  isStateOfTheWorld: false))
    }

    /// The handler's verdict: the resource versions are kept if it accepted;
    /// the ACK (or NACK) is queued; held-back requests and the ACK go out.
    mutating func complete(rejection: XDSRejection?) -> [Request] {
        guard let done = inFlight else { preconditionFailure("complete without a response in flight") }
        inFlight = nil
        var detail: Google_Rpc_Status?
        if let rejection {
            var status = Google_Rpc_Status()
            status.code = 13 // Grpc::Status::WellKnownGrpcStatus::Internal
            status.message = xdsTruncatedStatusMessage(rejection.message)
            detail = status
        } else {
            types[done.type]?.accept(done.response)
        }
        // The paused types' requests go first, as in Envoy, where the
        // handler's resume sends them before the ACK is queued.
        let held = resume(done.paused)
        acks.append(Ack(type: done.type, nonce: done.response.nonce, errorDetail: detail))
        return held + trySend()
    }

    // MARK: - Requests

    /// Sends what can go: ACKs of types not paused first, then subscription
    /// updates in subscription order.
    private mutating func trySend() -> [Request] {
        var out: [Request] = []
        while streamOpen {
            if let index = acks.firstIndex(where: { !paused($0.type) }) {
                let ack = acks.remove(at: index)
                guard var state = types[ack.type] else { continue }
                var request = state.nextRequest(type: ack.type, node: nodeForNextRequest())
                types[ack.type] = state
                request.responseNonce = ack.nonce
                if let detail = ack.errorDetail { request.errorDetail = detail }
                out.append(request)
            } else if let type = order.first(where: { types[$0]!.updatePending && !paused($0) }) {
                let node = nodeForNextRequest()
                out.append(types[type]!.nextRequest(type: type, node: node))
            } else {
                break
            }
        }
        return out
    }
}
