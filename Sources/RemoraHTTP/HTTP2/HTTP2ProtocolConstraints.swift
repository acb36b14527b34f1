import RemoraCore

/// Envoy's HTTP/2 flood limits (`protocol_constraints.cc`), counted per
/// connection: frames queued for a peer that may not be reading, and frames
/// a peer may send that cost work but carry nothing. A pure state machine;
/// the codec feeds it frames and turns a violation into its status and stat.
struct HTTP2ProtocolConstraints {
    enum Violation: Equatable {
        case outboundFlood, outboundControlFlood
        case inboundEmptyFrames, inboundPriorityFrames, inboundWindowUpdateFrames

        var stat: HTTP2CodecStat {
            switch self {
            case .outboundFlood: .outboundFlood
            case .outboundControlFlood: .outboundControlFlood
            case .inboundEmptyFrames: .inboundEmptyFramesFlood
            case .inboundPriorityFrames: .inboundPriorityFramesFlood
            case .inboundWindowUpdateFrames: .inboundWindowUpdateFramesFlood
            }
        }

        var status: HTTPCodecStatus {
            switch self {
            case .outboundFlood: .bufferFlood("Too many frames in the outbound queue.")
            case .outboundControlFlood: .bufferFlood("Too many control frames in the outbound queue.")
            case .inboundEmptyFrames: .inboundFramesWithEmptyPayload
            case .inboundPriorityFrames: .bufferFlood("Too many PRIORITY frames")
            case .inboundWindowUpdateFrames: .bufferFlood("Too many WINDOW_UPDATE frames")
            }
        }
    }

    let maxOutboundFrames: Int
    let maxOutboundControlFrames: Int
    let maxConsecutiveEmpty: Int
    let maxPriorityPerStream: Int
    let maxWindowUpdatePerDataFrame: Int

    /// Frames framed for the peer and not yet written to the socket.
    private(set) var outboundFrames = 0
    private(set) var outboundControlFrames = 0
    /// Of those, the ones the connection has taken (and will report written).
    private var takenFrames = 0
    private var takenControlFrames = 0
    private(set) var consecutiveEmptyFrames = 0
    private(set) var inboundPriorityFrames = 0
    private(set) var inboundWindowUpdateFrames = 0
    private(set) var openedStreams = 0
    private(set) var outboundDataFrames = 0

    init(_ o: HTTP2Options) {
        maxOutboundFrames = o.maxOutboundFrames
        maxOutboundControlFrames = o.maxOutboundControlFrames
        maxConsecutiveEmpty = o.maxConsecutiveInboundFramesWithEmptyPayload
        maxPriorityPerStream = o.maxInboundPriorityFramesPerStream
        maxWindowUpdatePerDataFrame = o.maxInboundWindowUpdateFramesPerDataFrameSent
    }

    mutating func streamOpened() { openedStreams += 1 }

    /// A frame went into the output. Control frames are the ones a peer can
    /// make us send without limit: PING and SETTINGS ACKs, RST_STREAM.
    mutating func outboundFrame(isControl: Bool, isData: Bool) -> Violation? {
        outboundFrames += 1
        if isData { outboundDataFrames += 1 }
        if isControl {
            outboundControlFrames += 1
            if outboundControlFrames > maxOutboundControlFrames { return .outboundControlFlood }
        }
        return outboundFrames > maxOutboundFrames ? .outboundFlood : nil
    }

    /// The connection took everything framed so far.
    mutating func outputTaken() {
        takenFrames = outboundFrames
        takenControlFrames = outboundControlFrames
    }

    /// What the connection took reached the socket.
    mutating func outputWritten() {
        outboundFrames -= takenFrames
        outboundControlFrames -= takenControlFrames
        takenFrames = 0
        takenControlFrames = 0
    }

    /// A frame header arrived (HTTP/2 frame types: DATA 0, HEADERS 1,
    /// PRIORITY 2, WINDOW_UPDATE 8, CONTINUATION 9).
    mutating func inboundFrame(type: UInt8, length: Int, endStream: Bool) -> Violation? {
        switch type {
        case 0, 1, 9:
            if length == 0 && !endStream { consecutiveEmptyFrames += 1 } else { consecutiveEmptyFrames = 0 }
        case 2:
            inboundPriorityFrames += 1
        case 8:
            inboundWindowUpdateFrames += 1
        default:
            break
        }
        if consecutiveEmptyFrames > maxConsecutiveEmpty { return .inboundEmptyFrames }
        if inboundPriorityFrames > maxPriorityPerStream * (1 + openedStreams) { return .inboundPriorityFrames }
        // Envoy's `protocol_constraints.cc`: 5 + 2 × (streams opened + the
        // per-DATA allowance × DATA frames sent).
        if inboundWindowUpdateFrames > 5 + 2 * (openedStreams + maxWindowUpdatePerDataFrame * outboundDataFrames) {
            return .inboundWindowUpdateFrames
        }
        return nil
    }
}
