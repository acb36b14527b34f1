internal import CRE2

/// A Google RE2 program, compiled once on the main thread and shared
/// read-only by every worker.
///
/// Owns its `remora_re2` handle and frees it in `deinit`. `Sendable` because
/// RE2 matching is thread-safe: after construction an `RE2` object is only
/// read (`FullMatch`, `PartialMatch` and `GlobalReplace` are const and keep
/// their scratch state per call), which RE2's documentation states may be
/// done from many threads at once. Nothing here mutates the handle after
/// `init`, so sharing it across loops needs no lock.
///
/// Matching takes bytes (a slice of a request buffer, no copy) or a `String`
/// (its UTF-8 view, no copy for native strings).
public final class CompiledRegex: @unchecked Sendable {
    private let handle: OpaquePointer
    /// The pattern as configured.
    public let pattern: String
    /// RE2's cost measure of the compiled program (Envoy bounds it; see `RegexCompiler`).
    public let programSize: Int

    /// Compiles `pattern` (RE2 syntax). Throws RE2's own message on a syntax error.
    public init(_ pattern: String) throws(RegexSyntaxError) {
        let errorCapacity = 512
        var error = [CChar](repeating: 0, count: errorCapacity)
        let compiled: OpaquePointer? = Self.withBytes(pattern) { bytes in
            error.withUnsafeMutableBufferPointer { errorBuffer in
                remora_re2_compile(
                    bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count,
                    errorBuffer.baseAddress, errorCapacity
                )
            }
        }
        guard let compiled else {
            let message = error.withUnsafeBufferPointer { buffer -> String in
                let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
                return String(decoding: bytes, as: UTF8.self)
            }
            throw RegexSyntaxError(message: message.isEmpty ? "invalid regex" : message)
        }
        self.handle = compiled
        self.pattern = pattern
        self.programSize = Int(remora_re2_program_size(compiled))
    }

    deinit {
        remora_re2_free(handle)
    }

    // MARK: - Matching

    /// True if the whole of `bytes` matches (Envoy's `safe_regex` semantics).
    public func fullMatch(_ bytes: UnsafeRawBufferPointer) -> Bool {
        remora_re2_full_match(handle, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count) != 0
    }

    /// True if some part of `bytes` matches.
    public func partialMatch(_ bytes: UnsafeRawBufferPointer) -> Bool {
        remora_re2_partial_match(handle, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count) != 0
    }

    public func fullMatch(_ text: String) -> Bool {
        Self.withBytes(text) { fullMatch($0) }
    }

    public func partialMatch(_ text: String) -> Bool {
        Self.withBytes(text) { partialMatch($0) }
    }

    /// Searches `text` (unanchored) and returns the UTF-8 byte ranges of
    /// capture groups 1 and 2 (nil for a group that did not take part), or
    /// nil when nothing matches. The stats tag extractor uses it.
    public func firstTwoGroups(_ text: String) -> (Range<Int>?, Range<Int>?)? {
        Self.withBytes(text) { bytes in
            var groups = [Int](repeating: -1, count: 4)
            let found = groups.withUnsafeMutableBufferPointer { g in
                remora_re2_partial_match_groups(
                    handle, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count, g.baseAddress, 2)
            }
            guard found != 0 else { return nil }
            func range(_ i: Int) -> Range<Int>? { groups[2 * i] < 0 ? nil : groups[2 * i]..<groups[2 * i + 1] }
            return (range(0), range(1))
        }
    }

    // MARK: - Substitution

    /// Replaces every non-overlapping match in `text` with `rewrite`, where
    /// `\1`…`\9` name capture groups and `\0` the whole match (RE2's
    /// `GlobalReplace`, which Envoy's `regex_rewrite` uses).
    ///
    /// `rewrite` must have been accepted by `isValidRewrite`; the config
    /// compiler checks it once, so this never fails for configured rewrites.
    /// An invalid rewrite returns `text` unchanged.
    public func replaceAll(in text: String, with rewrite: String) -> String {
        Self.withBytes(text) { input in
            Self.withBytes(rewrite) { rw in
                var outLength = 0
                guard let out = remora_re2_global_replace(
                    handle,
                    input.baseAddress?.assumingMemoryBound(to: CChar.self), input.count,
                    rw.baseAddress?.assumingMemoryBound(to: CChar.self), rw.count,
                    &outLength
                ) else { return text }
                defer { remora_re2_free_string(out) }
                return out.withMemoryRebound(to: UInt8.self, capacity: outLength) {
                    String(decoding: UnsafeBufferPointer(start: $0, count: outLength), as: UTF8.self)
                }
            }
        }
    }

    /// Whether `rewrite` only names capture groups this regex has (`\N`
    /// with N ≤ the group count) and uses `\` correctly.
    public func isValidRewrite(_ rewrite: String) -> Bool {
        Self.withBytes(rewrite) { rw in
            var outLength = 0
            // An empty subject: RE2 checks the rewrite string before replacing anything.
            let empty: [CChar] = [0]
            let out = empty.withUnsafeBufferPointer { subject in
                remora_re2_global_replace(
                    handle, subject.baseAddress, 0,
                    rw.baseAddress?.assumingMemoryBound(to: CChar.self), rw.count, &outLength
                )
            }
            guard let out else { return false }
            remora_re2_free_string(out)
            return true
        }
    }

    /// The UTF-8 bytes of `text`, never with a nil base address (RE2's
    /// `std::string` construction wants a real pointer even for length 0).
    private static func withBytes<R>(_ text: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if text.isEmpty {
            let one: [UInt8] = [0]
            return one.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<0])) }
        }
        if let result = text.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        let copy = Array(text.utf8)
        return copy.withUnsafeBytes(body)
    }
}

/// RE2 refused a pattern; `message` is RE2's text (as Envoy reports it).
public struct RegexSyntaxError: Error, Sendable, Equatable {
    public let message: String
}
