public import SwiftProtobuf

/// One resource of an update, still packed: the handler decodes it, so
/// that a bad one is refused with its name and field path.
public struct XDSResource: Sendable {
    public var name: String
    /// The resource's own version (Delta), or the response's `version_info`
    /// (state of the world, and files).
    public var version: String
    public var resource: Google_Protobuf_Any

    public init(name: String, version: String, resource: Google_Protobuf_Any) {
        self.name = name
        self.version = version
        self.resource = resource
    }
}

/// What one response (or one read of a watched file) changes for one type.
public struct XDSUpdate: Sendable {
    public var type: XDSResourceType
    /// `version_info` (state of the world) or `system_version_info` (Delta).
    public var versionInfo: String
    /// Added or changed resources (for the state of the world, every one the
    /// response holds that the subscription asked for).
    public var updated: [XDSResource]
    /// Names removed: Delta's `removed_resources`, or for a wildcard type's
    /// state of the world, the names known before and missing now.
    public var removed: [String]
    /// True when `updated` is the whole set of the type (state of the world).
    public var isStateOfTheWorld: Bool

    public init(type: XDSResourceType, versionInfo: String, updated: [XDSResource], removed: [String], isStateOfTheWorld: Bool) {
        self.type = type
        self.versionInfo = versionInfo
        self.updated = updated
        self.removed = removed
        self.isStateOfTheWorld = isStateOfTheWorld
    }
}

/// Why an update is refused: the NACK's `error_detail.message` (Envoy's
/// form, naming the resource and the field path).
public struct XDSRejection: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What a subscription delivers to; implemented by the server (listener
/// manager for LDS and RDS, cluster manager for CDS and EDS, the secret
/// manager for SDS). Everything runs on the main loop.
///
/// The server keeps one subscription per type and config source and sets
/// on it the union of the names it needs; the handler sorts an update out
/// by resource name.
public protocol XDSUpdateHandler: AnyObject {
    /// Applies an update. Throwing NACKs it with the message; as in Envoy,
    /// the resources that were valid may have been applied all the same.
    /// Returning ACKs it.
    func apply(_ update: XDSUpdate) throws(XDSRejection)
    /// No first update came within `initial_fetch_timeout` (or the source
    /// could not be read at all): warming goes on without it. Called at
    /// most once per subscription, and never after a first update.
    func initialFetchFailed(_ type: XDSResourceType)
}

/// One watch of one type on one config source (main loop).
public protocol XDSSubscription: AnyObject {
    /// The names wanted, for RDS, EDS and SDS (ignored for LDS and CDS,
    /// which are wildcard). A change is sent to the source at once.
    func setResourceNames(_ names: Set<String>)
    /// Stops delivering; no handler call follows.
    func cancel()
}
