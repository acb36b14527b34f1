import RemoraCore
import Testing
@testable import RemoraHTTP

/// The wire-independent gRPC rules, each case checked against Envoy 1.40
/// (Tests/Interop/test_grpc_http1.py runs the same inputs through it).
@Suite("gRPC status")
struct GRPCStatusTests {
    @Test(arguments: [
        (400, 13), (401, 16), (403, 7), (404, 12), (429, 14), (502, 14), (503, 14), (504, 14),
        (200, 2), (204, 2), (301, 2), (408, 2), (418, 2), (500, 2), (501, 2),
    ])
    func httpToGRPC(http: Int, grpc: UInt64) {
        #expect(GRPCStatus(httpStatus: http).rawValue == grpc)
    }

    @Test func grpcToHTTP() {
        let expected: [UInt64: Int] = [0: 200, 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400,
                                       10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401]
        for (grpc, http) in expected { #expect(GRPCStatus(rawValue: grpc).httpStatus == http) }
        #expect(GRPCStatus.invalidCode.httpStatus == 500)
    }

    func status(_ value: String?) -> GRPCStatus? {
        var h = HTTPHeaders([("content-type", "application/grpc")])
        if let value { h.add(name: "grpc-status", value: value) }
        return GRPCStatus(headers: h)
    }

    @Test func readsTheHeaderAsEnvoyDoes() {
        #expect(status(nil) == nil)
        #expect(status("") == nil)
        #expect(status("0") == .ok)
        #expect(status("14") == .unavailable)
        #expect(status("16") == .unauthenticated)
        #expect(status("+14") == .unavailable)
        #expect(status(" 4 ") == .deadlineExceeded)
        #expect(status("17") == .invalidCode)
        #expect(status("-0") == .invalidCode)
        #expect(status("abc") == .invalidCode)
        #expect(status("1 4") == .invalidCode)
        #expect(status("99999999999999999999999") == .invalidCode)
        #expect(GRPCStatus.invalidCode.description == "-1")
    }
}

@Suite("grpc-timeout")
struct GRPCTimeoutTests {
    @Test func parsesEachUnit() {
        #expect(GRPCTimeout.parse("2H") == 7_200_000)
        #expect(GRPCTimeout.parse("3M") == 180_000)
        #expect(GRPCTimeout.parse("5S") == 5_000)
        #expect(GRPCTimeout.parse("50m") == 50)
        #expect(GRPCTimeout.parse("1500u") == 2)
        #expect(GRPCTimeout.parse("1000u") == 1)
        #expect(GRPCTimeout.parse("1500n") == 1)
        #expect(GRPCTimeout.parse("0n") == 0)
        #expect(GRPCTimeout.parse("99999999H") == 359_999_996_400_000)
        #expect(GRPCTimeout.parse("99999999m") == 99_999_999)
    }

    /// `absl::SimpleAtoi` before the unit: a sign and surrounding spaces pass.
    @Test func acceptsWhatSimpleAtoiAccepts() {
        #expect(GRPCTimeout.parse("+7S") == 7_000)
        #expect(GRPCTimeout.parse(" 7 S") == 7_000)
        #expect(GRPCTimeout.parse("-0S") == 0)
        #expect(GRPCTimeout.parse("0007S") == 7_000)
    }

    @Test func refusesMalformedValues() {
        for bad in ["", "S", "7", "7s", "7h", "bogus", "100000000m", "-5S", "7.5S", "0x10m", "1e3m", "99999999999999999999m", "+S"] {
            #expect(GRPCTimeout.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func readsTheFirstField() {
        let h = HTTPHeaders([("grpc-timeout", "20m"), ("grpc-timeout", "1S")])
        #expect(GRPCTimeout.milliseconds(in: h) == 20)
        #expect(GRPCTimeout.milliseconds(in: HTTPHeaders()) == nil)
    }

    @Test func encodesAsEnvoy() {
        #expect(GRPCTimeout.encode(milliseconds: 0) == "0m")
        #expect(GRPCTimeout.encode(milliseconds: 4_900) == "4900m")
        #expect(GRPCTimeout.encode(milliseconds: 99_999_999) == "99999999m")
        #expect(GRPCTimeout.encode(milliseconds: 100_000_000) == "100000S")
        #expect(GRPCTimeout.encode(milliseconds: 100_000_999) == "100000S")
        #expect(GRPCTimeout.encode(milliseconds: 100_000_000_000) == "1666666M")
        #expect(GRPCTimeout.encode(milliseconds: 359_999_996_400_000) == "99999999H")
        #expect(GRPCTimeout.encode(milliseconds: .max) == "99999999H")
    }
}

@Suite("gRPC requests")
struct GRPCRequestTests {
    func isGRPC(_ types: [String]) -> Bool {
        GRPCRequest.isGRPC(HTTPHeaders(types.map { ("content-type", $0) }))
    }

    @Test func contentTypes() {
        #expect(isGRPC(["application/grpc"]))
        #expect(isGRPC(["application/grpc+proto"]))
        #expect(isGRPC(["application/grpc+json"]))
        #expect(!isGRPC([]))
        #expect(!isGRPC(["application/grpc-web"]))
        #expect(!isGRPC(["application/grpc;charset=utf-8"]))
        #expect(!isGRPC(["Application/grpc"]))
        #expect(!isGRPC(["application/grp"]))
        #expect(!isGRPC(["text/plain"]))
        // Repeated fields are one comma-joined value for Envoy.
        #expect(!isGRPC(["application/grpc", "application/grpc"]))
        #expect(isGRPC(["application/grpc+proto", "text/plain"]))
        #expect(!isGRPC(["text/plain", "application/grpc"]))
    }

    @Test func percentEncodesMessagesAsEnvoy() {
        #expect(GRPCRequest.percentEncodeMessage("no healthy upstream") == "no healthy upstream")
        #expect(GRPCRequest.percentEncodeMessage("café 100% \"down\"\n\tx") == "caf%C3%A9 100%25 \"down\"%0A%09x")
        #expect(GRPCRequest.percentEncodeMessage("~\u{7F}") == "~%7F")
        #expect(GRPCRequest.percentEncodeMessage("") == "")
    }
}
