import Crypto
import Foundation

/// AWS Signature Version 4, written once for everything S3-compatible (the media host Threads fetches
/// from, the S3 target, the sandbox's S3 checking both): a request signed in its headers, or a GET link
/// presigned in its query that works until it expires. docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
package struct SigV4: Sendable {
    package var accessKeyID: String
    package var secretAccessKey: String
    package var region: String
    package var service: String

    package init(accessKeyID: String, secretAccessKey: String, region: String, service: String = "s3") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.service = service
    }

    package static let algorithm = "AWS4-HMAC-SHA256"
    package static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// The sha256 of no bytes: the payload hash of a request without a body.
    package static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The headers to add to a request (`Authorization`, `x-amz-date`, `x-amz-content-sha256`): `headers`
    /// must hold every header to be signed, `host` included.
    package func sign(
        method: String, path: String, query: [(String, String)] = [], headers: [String: String], payloadSHA256: String,
        date: Date = Date()
    ) -> [String: String] {
        let (amzDate, day) = Self.stamps(date)
        var signed = Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), $0.value) })
        signed["x-amz-date"] = amzDate
        signed["x-amz-content-sha256"] = payloadSHA256
        let names = signed.keys.sorted()
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let request = Self.canonicalRequest(method: method, path: path, query: query, headers: signed, signedHeaders: names, payload: payloadSHA256)
        let signature = self.signature(request, amzDate: amzDate, day: day)
        return [
            "Authorization": "\(Self.algorithm) Credential=\(accessKeyID)/\(scope), SignedHeaders=\(names.joined(separator: ";")), Signature=\(signature)",
            "x-amz-date": amzDate, "x-amz-content-sha256": payloadSHA256
        ]
    }

    /// A GET link anyone can use until `expires` seconds after `date`: the signature is in the query.
    package func presignedGET(scheme: String, host: String, path: String, expires: Int, date: Date = Date()) -> String {
        let (amzDate, day) = Self.stamps(date)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        var query = [
            ("X-Amz-Algorithm", Self.algorithm), ("X-Amz-Credential", "\(accessKeyID)/\(scope)"), ("X-Amz-Date", amzDate),
            ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", "host")
        ]
        let request = Self.canonicalRequest(
            method: "GET", path: path, query: query, headers: ["host": host], signedHeaders: ["host"],
            payload: Self.unsignedPayload)
        query.append(("X-Amz-Signature", signature(request, amzDate: amzDate, day: day)))
        return "\(scheme)://\(host)\(Self.encodePath(path))?" + Self.canonicalQuery(query)
    }

    /// The signature a server expects for what it received (the sandbox's S3 checks clients with it).
    package func expectedSignature(
        method: String, path: String, query: [(String, String)], headers: [String: String], signedHeaders: [String],
        payload: String, amzDate: String
    ) -> String {
        let request = Self.canonicalRequest(method: method, path: path, query: query, headers: headers, signedHeaders: signedHeaders, payload: payload)
        return signature(request, amzDate: amzDate, day: String(amzDate.prefix(8)))
    }

    func signature(_ canonicalRequest: String, amzDate: String, day: String) -> String {
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = "\(Self.algorithm)\n\(amzDate)\n\(scope)\n\(Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8))))"
        var key = SymmetricKey(data: Data("AWS4\(secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return Self.hex(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: key))
    }

    /// `path` is the object's path, not yet encoded (`/bucket/a key.mp4`); each segment is encoded once.
    static func canonicalRequest(
        method: String, path: String, query: [(String, String)], headers: [String: String], signedHeaders: [String],
        payload: String
    ) -> String {
        let canonicalHeaders = signedHeaders.map { name in
            "\(name):\((headers[name] ?? "").trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " "))\n"
        }.joined()
        return [method, encodePath(path), canonicalQuery(query), canonicalHeaders, signedHeaders.joined(separator: ";"), payload].joined(separator: "\n")
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    package static func encode(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? s }

    package static func encodePath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }.joined(separator: "/")
    }

    package static func canonicalQuery(_ query: [(String, String)]) -> String {
        let pairs: [(String, String)] = query.map { (encode($0.0), encode($0.1)) }
        let sorted = pairs.sorted { (a: (String, String), b: (String, String)) -> Bool in a.0 == b.0 ? a.1 < b.1 : a.0 < b.0 }
        return sorted.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static func stamps(_ date: Date) -> (amzDate: String, day: String) {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let amz = f.string(from: date)
        return (amz, String(amz.prefix(8)))
    }

    static func hex<D: Sequence>(_ d: D) -> String where D.Element == UInt8 { d.map { String(format: "%02x", $0) }.joined() }
}
