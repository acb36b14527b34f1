import RemoraConfig
import RemoraCore
import RemoraHTTP

/// Applies compiled header mutations (route, virtual host, route config) to
/// a header map, filling `%VAR%`s from the stream.
enum HeaderMutator {
    static func apply(_ mutations: [HeaderMutation], to headers: inout HTTPHeaders,
                      _ resolve: (FormatVariable) -> String?) {
        // Envoy's HeaderParser::evaluateHeaders, per level: removals, then
        // the overwrites (remove and append), then the additions, with
        // ADD_IF_ABSENT and OVERWRITE_IF_EXISTS judged before any of them.
        for mutation in mutations {
            for name in mutation.remove { _ = headers.remove(name: name) }
            var overwrites: [(String, String)] = []
            var additions: [(String, String)] = []
            for addition in mutation.add {
                let value = addition.value.render(resolve)
                if value.isEmpty && !addition.keepEmptyValue { continue }
                switch addition.action {
                case .appendIfExistsOrAdd:
                    additions.append((addition.name, value))
                case .addIfAbsent:
                    if !headers.contains(name: addition.name) { additions.append((addition.name, value)) }
                case .overwriteIfExistsOrAdd:
                    overwrites.append((addition.name, value))
                case .overwriteIfExists:
                    if headers.contains(name: addition.name) { overwrites.append((addition.name, value)) }
                }
            }
            for (name, value) in overwrites {
                _ = headers.remove(name: name)
                headers.add(name: name, value: value)
            }
            for (name, value) in additions { headers.add(name: name, value: value) }
        }
    }

    /// The value of a formatter variable for a stream.
    static func resolve(_ variable: FormatVariable, info: StreamInfo, request: HTTPRequestMessage?,
                        response: HTTPResponseMessage?, routeName: String) -> String? {
        switch variable {
        case .requestHeader(let name, let alternative, _):
            guard let request else { return nil }
            return headerValue(request, name) ?? alternative.flatMap { headerValue(request, $0) }
        case .responseHeader(let name, let alternative, _):
            guard let response else { return nil }
            return response.headers.firstString(name: name) ?? alternative.flatMap { response.headers.firstString(name: $0) }
        case .startTime:
            return nil
        case .protocol:
            return request?.version == .http1_0 ? "HTTP/1.0" : "HTTP/1.1"
        case .downstreamRemoteAddress, .downstreamDirectRemoteAddress:
            return info.downstreamRemoteAddress?.description
        case .downstreamRemoteAddressWithoutPort, .downstreamDirectRemoteAddressWithoutPort:
            return info.downstreamRemoteAddress?.host
        case .downstreamRemotePort, .downstreamDirectRemotePort:
            return info.downstreamRemoteAddress?.port.map { String($0) }
        case .downstreamLocalAddress:
            return info.downstreamLocalAddress?.description
        case .downstreamLocalAddressWithoutPort:
            return info.downstreamLocalAddress?.host
        case .downstreamLocalPort:
            return info.downstreamLocalAddress?.port.map { String($0) }
        case .upstreamRemoteAddress, .upstreamHost:
            return info.upstreamHost?.description
        case .upstreamRemoteAddressWithoutPort:
            return info.upstreamHost?.host
        case .upstreamRemotePort:
            return info.upstreamHost?.port.map { String($0) }
        case .upstreamLocalAddress, .upstreamLocalAddressWithoutPort, .upstreamLocalPort:
            return nil
        case .upstreamCluster:
            return info.upstreamCluster
        case .routeName:
            return routeName
        case .requestedServerName:
            return info.requestedServerName
        case .responseCode:
            return info.responseCode.map { String($0) }
        case .tls(let side, let fact):
            return fact.text(in: info, side)
        }
    }

    private static func headerValue(_ request: HTTPRequestMessage, _ name: String) -> String? {
        switch name {
        case ":authority", "host": return request.authority
        case ":path": return request.path
        case ":method": return request.method.description
        case ":scheme": return request.scheme
        default:
            let values = request.headers.valueStrings(name: name)
            return values.isEmpty ? nil : values.joined(separator: ",")
        }
    }
}

/// Lets route matching read an `HTTPRequestMessage` without copying it.
struct RouteRequestView: RouteRequest {
    /// Points at the stream's request for the duration of one call (see
    /// `HTTPRequestMessage.withRouteView`): matching a route copies nothing.
    private let pointer: UnsafePointer<HTTPRequestMessage>
    private var request: HTTPRequestMessage { _read { yield pointer.pointee } }

    fileprivate init(pointer: UnsafePointer<HTTPRequestMessage>) {
        self.pointer = pointer
    }

    func withPath<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        var path = request.path
        return path.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    func withAuthority<Result>(_ body: (UnsafeRawBufferPointer?) -> Result) -> Result {
        guard var authority = request.authority else { return body(nil) }
        return authority.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    func headerValue(lowercasedName name: String) -> String? {
        switch name {
        case ":authority": return request.authority
        case ":path": return request.path
        case ":method": return request.method.description
        case ":scheme": return request.scheme
        default:
            let values = request.headers.valueStrings(name: name)
            return values.isEmpty ? nil : values.joined(separator: ",")
        }
    }
}

extension HTTPRequestMessage {
    /// Calls `body` with a route-matching view of this request; the view
    /// must not outlive the call.
    mutating func withRouteView<Result>(_ body: (RouteRequestView) -> Result) -> Result {
        withUnsafeMutablePointer(to: &self) { body(RouteRequestView(pointer: UnsafePointer($0))) }
    }
}
