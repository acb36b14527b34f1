/// Makes `x-request-id` values: random (version 4) UUIDs in their 36-byte
/// text form. One generator per worker: xoshiro256** seeded from the
/// system's random source, so a request costs no syscall and no lock.
public struct RequestIDGenerator {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init() {
        var system = SystemRandomNumberGenerator()
        s0 = system.next(); s1 = system.next(); s2 = system.next(); s3 = system.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    @inline(__always)
    private mutating func nextWord() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always)
    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The length of an ID's text.
    public static let length = 36

    /// A new UUID v4, e.g. `6f1c3b0e-2a4d-4c8e-9f10-1b2c3d4e5f60`.
    public mutating func next() -> String {
        String(unsafeUninitializedCapacity: Self.length) { buffer in
            next(into: UnsafeMutableRawBufferPointer(buffer))
            return Self.length
        }
    }

    /// Writes a new UUID v4 into the first 36 bytes of `buffer` (no allocation).
    public mutating func next(into buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= Self.length)
        var high = nextWord()
        var low = nextWord()
        high = (high & ~0xF000) | 0x4000                      // version 4
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // RFC 4122 variant
        let hex: StaticString = "0123456789abcdef"
        var i = 0
        func put(_ value: UInt64, nibbles: Int) {
            for n in stride(from: nibbles - 1, through: 0, by: -1) {
                buffer[i] = hex.utf8Start[Int((value >> (UInt64(n) * 4)) & 0xF)]
                i += 1
            }
        }
        func dash() { buffer[i] = UInt8(ascii: "-"); i += 1 }
        put(high >> 32, nibbles: 8); dash()
        put((high >> 16) & 0xFFFF, nibbles: 4); dash()
        put(high & 0xFFFF, nibbles: 4); dash()
        put(low >> 48, nibbles: 4); dash()
        put(low & 0xFFFF_FFFF_FFFF, nibbles: 12)
    }
}
