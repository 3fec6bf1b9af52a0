import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// An S3-compatible bucket (AWS, R2, MinIO, a NAS's own): objects PUT with a SigV4-signed request,
/// read back through presigned GET links that expire. Path-style addressing (`endpoint/bucket/key`),
/// which every S3-compatible server speaks.
public struct S3Bucket: Sendable {
    public var config: MediaHostConfig.S3
    let http: HTTPClient

    public init(_ config: MediaHostConfig.S3, http: HTTPClient) {
        self.config = config
        self.http = http
    }

    var signer: SigV4 { SigV4(accessKeyID: config.accessKeyID, secretAccessKey: config.secretAccessKey, region: config.region) }

    /// scheme, host[:port], and the endpoint's own path prefix (a server mounted below `/`).
    var parts: (scheme: String, host: String, base: String) {
        let u = URL(string: config.endpoint)
        let scheme = u?.scheme ?? "https"
        var host = u?.host ?? config.endpoint
        if let p = u?.port, !(scheme == "https" && p == 443) && !(scheme == "http" && p == 80) { host += ":\(p)" }
        let base = (u?.path ?? "").hasSuffix("/") ? String((u?.path ?? "").dropLast()) : (u?.path ?? "")
        return (scheme, host, base)
    }

    func objectPath(_ key: String) -> String { parts.base + "/" + config.bucket + "/" + key }

    /// PUTs a file as `key`. `sha256` (hex) is the file's, already known: it is the signed payload hash,
    /// so S3 itself refuses bytes that differ from what was hashed.
    public func put(file: String, key: String, size: Int64, sha256: String, contentType: String, timeout: Duration = .seconds(600)) async throws {
        let (scheme, host, _) = parts
        let path = objectPath(key)
        let signed = signer.sign(method: "PUT", path: path, headers: ["host": host, "content-type": contentType, "content-length": String(size)],
                                 payloadSHA256: sha256)
        var req = HTTPClientRequest(url: "\(scheme)://\(host)\(SigV4.encodePath(path))")
        req.method = .PUT
        req.headers.add(name: "Content-Type", value: contentType)
        req.headers.add(name: "Content-Length", value: String(size))
        for (k, v) in signed { req.headers.add(name: k, value: v) }
        req.body = .stream(Self.chunks(of: file), length: .known(size))
        let resp: HTTPClientResponse
        do { resp = try await http.execute(req, timeout: .seconds(Int64(timeout.seconds))) } catch {
            throw DeliveryError(.retryNow, .networkError, "the media host \(config.endpoint) could not be reached: \(error)")
        }
        let body = try await resp.body.collect(upTo: 1 << 16)
        guard (200..<300).contains(Int(resp.status.code)) else {
            let text = String(buffer: body)
            let code = text.range(of: "<Code>").flatMap { r in text[r.upperBound...].range(of: "</Code>").map { String(text[r.upperBound..<$0.lowerBound]) } } ?? ""
            let what = "the media host refused the rendition (HTTP \(resp.status.code) \(code))"
            if resp.status.code >= 500 || resp.status.code == 429 { throw DeliveryError(.retryNow, .platformError, what, httpStatus: Int(resp.status.code)) }
            throw DeliveryError(.permanent, .configInvalid, what + "; check media_host's bucket, region and keys", httpStatus: Int(resp.status.code))
        }
    }

    /// A link to `key` that anyone can GET for `ttl` seconds, then no one.
    public func presignedGET(key: String, ttl: Int, now: Date = Date()) -> String {
        let (scheme, host, _) = parts
        return signer.presignedGET(scheme: scheme, host: host, path: objectPath(key), expires: ttl, date: now)
    }

    /// The file as 1 MiB buffers, read as they are sent (a rendition is never held in memory whole).
    static func chunks(of file: String) -> AsyncThrowingStream<ByteBuffer, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task.detached {
                do {
                    let h = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
                    defer { try? h.close() }
                    while !Task.isCancelled, let d = try h.read(upToCount: 1 << 20), !d.isEmpty {
                        continuation.yield(ByteBuffer(bytes: d))
                    }
                    continuation.finish()
                } catch { continuation.finish(throwing: error) }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
