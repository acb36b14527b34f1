internal import CLibUV
public import RemoraCore
#if canImport(Glibc)
import Glibc
#endif

/// Name resolution through `uv_getaddrinfo` (the system resolver, run on
/// libuv's thread pool). Results come back on the calling loop's thread.
public enum DNSResolver {
    public enum Family: Sendable {
        case any
        case v4Only
        case v6Only
    }

    /// Resolves `host` to stream-socket addresses with `port`, in the order
    /// the resolver gives them, without duplicates. Call on `loop`'s thread;
    /// `completion` runs there later, with `.hostNotFound` when the name has
    /// no address of the family asked.
    public static func resolve(
        loop: EventLoop,
        host: String,
        port: UInt16,
        family: Family,
        _ completion: @escaping (Result<[SocketAddress], EventLoopError>) -> Void
    ) {
        loop.assertInLoop()
        let query = DNSQuery(host: host, port: port, completion: completion)
        var hints = addrinfo()
        switch family {
        case .any: hints.ai_family = AF_UNSPEC
        case .v4Only: hints.ai_family = AF_INET
        case .v6Only: hints.ai_family = AF_INET6
        }
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        // Held until the callback; libuv copies the host name and hints.
        let context = Unmanaged.passRetained(query)
        query.request.pointee.data = context.toOpaque()
        let rc = uv_getaddrinfo(loop.loop, query.request, dnsResolved, host, nil, &hints)
        guard rc < 0 else { return }
        context.release()
        let error = EventLoopError(uvCode: rc, operation: "resolve \(host)")
        guard !loop.isStopping else {
            // No timer can start on a stopping loop; this is the one case
            // where the completion runs inside the call.
            completion(.failure(error))
            return
        }
        // Report from the loop, not from inside this call.
        let timer = Timer(loop: loop)
        timer.start(afterMilliseconds: 0) { completion(.failure(error)) }
    }
}

/// One `uv_getaddrinfo_t` request and its completion; freed after its callback.
private final class DNSQuery {
    let request: UnsafeMutablePointer<uv_getaddrinfo_t>
    let host: String
    let port: UInt16
    let completion: (Result<[SocketAddress], EventLoopError>) -> Void

    init(host: String, port: UInt16, completion: @escaping (Result<[SocketAddress], EventLoopError>) -> Void) {
        request = UVMemory.allocate(uv_getaddrinfo_t.self)
        self.host = host
        self.port = port
        self.completion = completion
    }

    deinit {
        request.deallocate()
    }

    func finish(status: Int32, results: UnsafeMutablePointer<addrinfo>?) {
        if status < 0 {
            completion(.failure(EventLoopError(uvCode: status, operation: "resolve \(host)")))
            return
        }
        var addresses: [SocketAddress] = []
        var entry = results
        while let current = entry {
            if let sockaddr = current.pointee.ai_addr, let address = SocketAddress(sockaddr: sockaddr) {
                let withPort = address.withPort(port)
                if !addresses.contains(withPort) { addresses.append(withPort) }
            }
            entry = current.pointee.ai_next
        }
        if addresses.isEmpty {
            completion(.failure(.hostNotFound.with(operation: "resolve \(host)")))
        } else {
            completion(.success(addresses))
        }
    }
}

private let dnsResolved: uv_getaddrinfo_cb = { request, status, results in
    defer { if let results { uv_freeaddrinfo(results) } }
    guard let data = request?.pointee.data else { return }
    Unmanaged<DNSQuery>.fromOpaque(data).takeRetainedValue().finish(status: status, results: results)
}
