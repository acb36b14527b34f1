/// What makes a request gRPC for Envoy, and the text encoding of
/// `grpc-message`. Pure functions on header bytes; any loop may call them.
public enum GRPCRequest {
    /// Envoy's `Grpc::Common::hasGrpcContentType` on the request (what
    /// `isGrpcRequestHeaders` checks): `content-type` is exactly
    /// `application/grpc` or starts with `application/grpc+`, case-sensitive
    /// (`application/grpc-web`, `application/grpc;…` and `Application/grpc`
    /// are not gRPC). Envoy joins a repeated `content-type` into one value
    /// with commas, so two fields are gRPC only when the first starts with
    /// `application/grpc+`. Checked against Envoy 1.40.
    public static func isGRPC(_ headers: HTTPHeaders) -> Bool {
        guard let index = headers.firstIndex(name: "content-type") else { return false }
        let repeated = headers.firstIndex(name: "content-type", from: index + 1) != nil
        return headers.value(at: index).withUnsafeBytes { isGRPCContentType($0, repeated: repeated) }
    }

    static let prefix = Array("application/grpc".utf8)

    public static func isGRPCContentType(_ value: UnsafeRawBufferPointer, repeated: Bool = false) -> Bool {
        guard value.count >= prefix.count else { return false }
        for i in 0..<prefix.count where value[i] != prefix[i] { return false }
        if value.count == prefix.count { return !repeated }
        return value[prefix.count] == UInt8(ascii: "+")
    }

    /// Envoy's `Http::Utility::PercentEncoding::encode(value, "%")`, used for
    /// `grpc-message`: bytes outside printable ASCII (0x20–0x7E) and `%`
    /// become `%XX` (uppercase hex); spaces and quotes stay.
    public static func percentEncodeMessage(_ text: String) -> String {
        percentEncodeMessage(bytes: text.utf8)
    }

    public static func percentEncodeMessage(bytes utf8: some Collection<UInt8>) -> String {
        guard utf8.contains(where: { $0 < 0x20 || $0 > 0x7E || $0 == UInt8(ascii: "%") }) else {
            return String(decoding: utf8, as: UTF8.self)
        }
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count + 16)
        for b in utf8 {
            if b < 0x20 || b > 0x7E || b == UInt8(ascii: "%") {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0x0F)])
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
