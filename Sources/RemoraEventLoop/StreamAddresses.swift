internal import CLibUV
internal import CRemoraShims
import RemoraCore
#if canImport(Glibc)
import Glibc
#endif

/// Socket-name queries on open stream handles (loop thread only).
enum StreamAddresses {
    static func local(_ stream: UnsafeMutablePointer<uv_stream_t>, kind: StreamKind) -> SocketAddress? {
        switch kind {
        case .tcp: return ip(stream, peer: false)
        case .pipe: return unix(stream, peer: false)
        }
    }

    static func remote(_ stream: UnsafeMutablePointer<uv_stream_t>, kind: StreamKind) -> SocketAddress? {
        switch kind {
        case .tcp: return ip(stream, peer: true)
        case .pipe: return unix(stream, peer: true)
        }
    }

    /// SO_ORIGINAL_DST of a TCP stream, or nil.
    static func originalDestination(_ stream: UnsafeMutablePointer<uv_stream_t>) -> SocketAddress? {
        var fd: uv_os_fd_t = -1
        guard uv_fileno(asHandle(stream), &fd) == 0 else { return nil }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        guard remora_original_dst(fd, &storage, &length) == 0 else { return nil }
        return withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(sockaddr: $0) }
        }
    }

    private static func ip(_ stream: UnsafeMutablePointer<uv_stream_t>, peer: Bool) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let tcp = asTCP(stream)
        let rc = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                peer ? uv_tcp_getpeername(tcp, address, &length) : uv_tcp_getsockname(tcp, address, &length)
            }
        }
        guard rc == 0 else { return nil }
        return withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(sockaddr: $0) }
        }
    }

    /// The Unix path (abstract names as "@name"), or nil for unnamed sockets.
    private static func unix(_ stream: UnsafeMutablePointer<uv_stream_t>, peer: Bool) -> SocketAddress? {
        var buffer = [CChar](repeating: 0, count: SocketAddress.maxUnixPathLength + 2)
        var size = buffer.count
        let pipe = asPipe(stream)
        let rc = buffer.withUnsafeMutableBufferPointer { bytes in
            peer ? uv_pipe_getpeername(pipe, bytes.baseAddress, &size) : uv_pipe_getsockname(pipe, bytes.baseAddress, &size)
        }
        guard rc == 0, size > 0 else { return nil }
        let raw = buffer.prefix(size).map { UInt8(bitPattern: $0) }
        if raw[0] == 0 {
            return .unix("@" + String(decoding: raw.dropFirst(), as: UTF8.self))
        }
        return .unix(String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self))
    }
}
