import RemoraCore
@testable import RemoraHTTP
import RemoraFuzzSupport
import Testing

/// gRPC's 5-byte message prefix both ways: messages split across DATA chunks
/// at every point, several per chunk, the receive limit, bad flags.
@Suite struct GRPCMessageDeframerTests {
    func deframe(_ chunks: [[UInt8]], limit: Int = 0) -> (messages: [[UInt8]], error: GRPCDeframeError?, partial: Bool) {
        var deframer = GRPCMessageDeframer(maxMessageBytes: limit)
        var messages: [[UInt8]] = []
        for chunk in chunks {
            if let error = chunk.withUnsafeBytes({ deframer.append($0, onMessage: { messages.append($0) }) }) {
                return (messages, error, deframer.hasPartialMessage)
            }
        }
        return (messages, nil, deframer.hasPartialMessage)
    }

    @Test func framesWithBigEndianLength() {
        #expect(GRPCMessageFramer.frame([UInt8]()).bytes == [0, 0, 0, 0, 0])
        let message = [UInt8](repeating: 7, count: 0x01_02_03)
        let framed = GRPCMessageFramer.frame(message).bytes
        #expect(Array(framed.prefix(5)) == [0, 0x00, 0x01, 0x02, 0x03])
        #expect(Array(framed.dropFirst(5)) == message)
    }

    @Test func severalMessagesInOneChunkAndEmptyOnes() {
        let wire = GRPCMessageFramer.frame(Array("ab".utf8)).bytes + GRPCMessageFramer.frame([UInt8]()).bytes
            + GRPCMessageFramer.frame(Array("cde".utf8)).bytes
        let result = deframe([wire])
        #expect(result.messages == [Array("ab".utf8), [], Array("cde".utf8)])
        #expect(result.error == nil)
        #expect(!result.partial)
    }

    /// Random messages cut into random chunks (single bytes included) come
    /// back whole and in order, whatever the cut.
    @Test func randomSplitsGiveTheSameMessages() {
        var rng = SplitMix64(state: 0x6772_7063)
        for _ in 0..<300 {
            let count = Int.random(in: 0...6, using: &rng)
            var messages: [[UInt8]] = []
            var wire: [UInt8] = []
            for _ in 0..<count {
                let length = [0, 1, 4, 5, 6, 100, 20_000].randomElement(using: &rng)! + Int.random(in: 0...3, using: &rng)
                let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                messages.append(message)
                wire += GRPCMessageFramer.frame(message).bytes
            }
            var chunks: [[UInt8]] = []
            var i = 0
            while i < wire.count {
                let size = Bool.random(using: &rng) ? Int.random(in: 1...7, using: &rng) : Int.random(in: 1...30_000, using: &rng)
                chunks.append(Array(wire[i..<min(wire.count, i + size)]))
                i += size
            }
            let result = deframe(chunks)
            #expect(result.error == nil)
            #expect(result.messages == messages)
            #expect(!result.partial)
            // The same bytes short of their last byte leave a partial message.
            if !wire.isEmpty {
                let cut = deframe([Array(wire.dropLast())])
                #expect(cut.partial)
                #expect(cut.messages.count == messages.count - 1)
            }
        }
    }

    @Test func limitRefusesALongerMessageFromItsPrefix() {
        let ok = deframe([GRPCMessageFramer.frame([UInt8](repeating: 1, count: 10)).bytes], limit: 10)
        #expect(ok.messages.count == 1 && ok.error == nil)
        // Only the prefix has come: the length alone is enough to refuse.
        let over = deframe([Array(GRPCMessageFramer.frame([UInt8](repeating: 1, count: 11)).bytes.prefix(5))], limit: 10)
        #expect(over.error == .tooLarge(length: 11, limit: 10))
        #expect(over.error?.status == .resourceExhausted)
        // A huge declared length is refused too, without allocating it.
        let huge = deframe([[0, 0xFF, 0xFF, 0xFF, 0xFF]], limit: 1 << 20)
        #expect(huge.error == .tooLarge(length: 0xFFFF_FFFF, limit: 1 << 20))
    }

    @Test func compressedOrUnknownFlagsAreInternalErrors() {
        let compressed = deframe([[1, 0, 0, 0, 2, 9, 9]])
        #expect(compressed.error == .compressed)
        #expect(compressed.error?.status == .internal)
        // An empty message may carry the compressed flag.
        #expect(deframe([[1, 0, 0, 0, 0]]).messages == [[]])
        let flags = deframe([GRPCMessageFramer.frame([1]).bytes, [2, 0, 0, 0, 0]])
        #expect(flags.messages == [[1]])
        #expect(flags.error == .invalidFlags(2))
        // Nothing is read after an error.
        var deframer = GRPCMessageDeframer()
        #expect([UInt8]([0x80, 0, 0, 0, 0]).withUnsafeBytes { deframer.append($0) { _ in } } == .invalidFlags(0x80))
        var seen = 0
        #expect(GRPCMessageFramer.frame([1]).bytes.withUnsafeBytes { deframer.append($0) { _ in seen += 1 } } == .invalidFlags(0x80))
        #expect(seen == 0)
    }
}
