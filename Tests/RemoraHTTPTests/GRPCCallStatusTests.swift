@testable import RemoraHTTP
import Testing

/// How a gRPC client ends a call from the response (Envoy 1.40's
/// `Grpc::AsyncStreamImpl`).
@Suite struct GRPCCallStatusTests {
    @Test func okHeadProceedsOrIsTrailersOnly() {
        let fields = HTTPHeaders([("content-type", "application/grpc")])
        #expect(GRPCCallStatus.head(httpStatus: 200, headers: fields, endStream: false) == .proceed)
        #expect(GRPCCallStatus.head(httpStatus: 200, headers: fields, endStream: true) == .trailersOnly)
    }

    /// grpc-status wins over the HTTP status only in a head that ends the stream.
    @Test func nonOKHeadMapsTheHTTPStatusUnlessItCarriesGrpcStatus() {
        let withStatus = HTTPHeaders([("grpc-status", "7"), ("grpc-message", "no")])
        #expect(GRPCCallStatus.head(httpStatus: 403, headers: withStatus, endStream: true) == .trailersOnly)
        #expect(GRPCCallStatus.head(httpStatus: 403, headers: withStatus, endStream: false) == .failed(.permissionDenied))
        let plain = HTTPHeaders()
        #expect(GRPCCallStatus.head(httpStatus: 503, headers: plain, endStream: true) == .failed(.unavailable))
        #expect(GRPCCallStatus.head(httpStatus: 404, headers: plain, endStream: false) == .failed(.unimplemented))
        #expect(GRPCCallStatus.head(httpStatus: 400, headers: plain, endStream: true) == .failed(.internal))
        #expect(GRPCCallStatus.head(httpStatus: 401, headers: plain, endStream: true) == .failed(.unauthenticated))
        #expect(GRPCCallStatus.head(httpStatus: 429, headers: plain, endStream: true) == .failed(.unavailable))
        #expect(GRPCCallStatus.head(httpStatus: 500, headers: plain, endStream: true) == .failed(.unknown))
        #expect(GRPCCallStatus.head(httpStatus: nil, headers: plain, endStream: true) == .failed(.unknown))
    }

    @Test func trailersGiveStatusAndMessageAsSent() {
        let t = GRPCCallStatus.trailers(HTTPHeaders([("grpc-status", "9"), ("grpc-message", "asked%20to fail")]))
        #expect(t.status == .failedPrecondition)
        #expect(t.message == "asked%20to fail")
        let missing = GRPCCallStatus.trailers(HTTPHeaders([("x-trailer", "1")]))
        #expect(missing.status == .unknown)
        #expect(missing.message == "")
        #expect(GRPCCallStatus.trailers(HTTPHeaders([("grpc-status", "17")])).status == .invalidCode)
        #expect(GRPCCallStatus.trailers(HTTPHeaders([("grpc-status", "0")])).status == .ok)
    }

    @Test func resetMessagesUseEnvoysWords() {
        #expect(GRPCCallStatus.resetBeforeHeadersMessage(GRPCCallStatus.resetReasonText(.connectionTermination))
            == "upstream connect error or disconnect/reset before headers. reset reason: connection termination")
        #expect(GRPCCallStatus.resetReasonText(.remoteRefusedStreamReset) == "remote refused stream reset")
    }
}
