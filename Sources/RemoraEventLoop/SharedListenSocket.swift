public import RemoraCore
#if canImport(Glibc)
import Glibc
#endif

/// A duplicate of a listening socket's descriptor, made by
/// `Listener.makeShare()` on the binding loop and handed to other loops
/// (e.g. inside `execute`) so that each can `Listener.adopt` it. Belongs to
/// no loop: it is immutable, and closes its descriptor when the last
/// reference goes.
public final class SharedListenSocket: Sendable {
    public let boundAddress: SocketAddress
    let fileDescriptor: Int32
    let kind: StreamKind
    let backlog: Int32

    init(fileDescriptor: Int32, kind: StreamKind, boundAddress: SocketAddress, backlog: Int32) {
        self.fileDescriptor = fileDescriptor
        self.kind = kind
        self.boundAddress = boundAddress
        self.backlog = backlog
    }

    deinit {
        _ = Glibc.close(fileDescriptor)
    }
}
