internal import COpenSSL

/// The engine's end of the wire: a custom BIO whose input is the bytes the
/// loop read and whose output is drained into the loop's pooled blocks.
/// Unlike OpenSSL's memory BIO, which keeps its largest buffer for the
/// connection's life, both sides here hold memory only while bytes wait:
/// an idle session holds none (with `SSL_MODE_RELEASE_BUFFERS`, neither
/// does OpenSSL). A value inside its `TLSEngine`, whose pointer is the
/// BIO's data: the BIO callbacks, and OpenSSL's callbacks that need the
/// engine (`TLSEngine.owning`), find it there, so a session costs no
/// object of its own for the wire and no ex-data slot. On the engine's loop.
struct EngineBIO {
    private var input: [UInt8] = []
    private var inputIndex = 0
    private var output: [UInt8] = []
    private var outputIndex = 0
    /// A copy of what OpenSSL writes from a point on (the records under the
    /// server's application key, see `TLSEngine.detachRecordLayer`), up to
    /// `recordingLimit` bytes; nil when not recording or past the limit.
    private(set) var recorded: [UInt8]?
    private var recording = false
    static let recordingLimit = 4096

    /// A new BIO bound to `engine` (not retained: the engine frees the
    /// `SSL`, and with it the BIO, in its deinit); the `SSL` that takes it frees it.
    static func makeBIO(for engine: TLSEngine) -> OpaquePointer {
        let bio = BIO_new(EngineBIO.method)!
        BIO_set_data(bio, Unmanaged.passUnretained(engine).toOpaque())
        BIO_set_init(bio, 1)
        return bio
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        if inputIndex == input.count {
            input.removeAll(keepingCapacity: false)
            inputIndex = 0
        } else if inputIndex > 0 {
            // What is left is part of one record (at most ~16 KB): moved to
            // the front, so a stream that never ends on a record boundary
            // does not grow the input.
            input.removeSubrange(0..<inputIndex)
            inputIndex = 0
        }
        input.append(contentsOf: bytes)
    }

    var pendingOutput: Int { output.count - outputIndex }

    mutating func takeOutput(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, pendingOutput)
        guard count > 0 else { return 0 }
        output.withUnsafeBytes { bytes in
            buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + outputIndex, byteCount: count)
        }
        outputIndex += count
        if outputIndex == output.count {
            output = []
            outputIndex = 0
        }
        return count
    }

    fileprivate mutating func read(into buffer: UnsafeMutablePointer<CChar>, count: Int) -> Int {
        let available = min(count, input.count - inputIndex)
        guard available > 0 else { return 0 }
        input.withUnsafeBytes { bytes in
            UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + inputIndex, byteCount: available)
        }
        inputIndex += available
        if inputIndex == input.count {
            input = []
            inputIndex = 0
        }
        return available
    }

    fileprivate mutating func write(_ bytes: UnsafePointer<CChar>, count: Int) {
        output.append(contentsOf: UnsafeRawBufferPointer(start: bytes, count: count))
        if recording, recorded != nil {
            if recorded!.count + count <= Self.recordingLimit {
                recorded!.append(contentsOf: UnsafeRawBufferPointer(start: bytes, count: count))
            } else {
                recorded = nil
            }
        }
    }

    /// Starts (again) copying what OpenSSL writes.
    mutating func startRecording() {
        recording = true
        recorded = []
    }

    /// Stops copying; what was copied (nil past the limit).
    mutating func stopRecording() -> [UInt8]? {
        defer {
            recording = false
            recorded = nil
        }
        return recording ? recorded : nil
    }

    // MARK: For the TLS 1.3 record layer (after OpenSSL has gone)

    var inputCount: Int { input.count - inputIndex }
    /// The input's bytes held, read ones included.
    var inputHeld: Int { input.count }

    /// The unread input, in place (a record is opened where it lies).
    mutating func withInput<R>(_ body: (UnsafeMutableRawBufferPointer) -> R) -> R {
        let index = inputIndex
        return input.withUnsafeMutableBytes { body(UnsafeMutableRawBufferPointer(rebasing: $0[index...])) }
    }

    mutating func consumeInput(_ count: Int) {
        inputIndex += count
        if inputIndex == input.count {
            input = []
            inputIndex = 0
        }
    }

    /// Appends `count` bytes to the output, written by `fill`.
    mutating func appendOutput(count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: count))
        output.withUnsafeMutableBytes { fill(UnsafeMutableRawBufferPointer(rebasing: $0[start...])) }
    }

    /// One method table for every engine (OpenSSL never frees it).
    nonisolated(unsafe) static let method: OpaquePointer = {
        let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "remora")!
        _ = BIO_meth_set_write_ex(method, engineBIOWrite)
        _ = BIO_meth_set_read_ex(method, engineBIORead)
        _ = BIO_meth_set_ctrl(method, engineBIOControl)
        return method
    }()
}

private func engine(_ bio: OpaquePointer?) -> TLSEngine? {
    guard let bio, let data = BIO_get_data(bio) else { return nil }
    return Unmanaged<TLSEngine>.fromOpaque(data).takeUnretainedValue()
}

private let engineBIORead: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int, UnsafeMutablePointer<Int>?) -> Int32 = {
    bio, buffer, count, done in
    guard let bio, let buffer, let done, let state = engine(bio) else { return 0 }
    remora_bio_clear_retry_flags(bio)
    let read = state.wire.read(into: buffer, count: count)
    done.pointee = read
    guard read > 0 else {
        // Nothing yet: "try again", not end of file.
        remora_bio_set_retry_read(bio)
        return 0
    }
    return 1
}

private let engineBIOWrite: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int, UnsafeMutablePointer<Int>?) -> Int32 = {
    bio, bytes, count, done in
    guard let bio, let bytes, let done, let state = engine(bio) else { return 0 }
    remora_bio_clear_retry_flags(bio)
    state.wire.write(bytes, count: count)
    done.pointee = count
    return 1
}

private let engineBIOControl: @convention(c) (OpaquePointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int = { bio, command, _, _ in
    switch command {
    case BIO_CTRL_FLUSH: return 1
    case BIO_CTRL_WPENDING: return engine(bio)?.wire.pendingOutput ?? 0
    default: return 0
    }
}
