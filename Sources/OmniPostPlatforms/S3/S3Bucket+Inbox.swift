import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore
import OmniPostWire

/// What the S3 inbox asks of a bucket, signed by the same `SigV4` as the target's and the media host's
/// calls (docs.aws.amazon.com/AmazonS3/latest/API): `ListObjectsV2` page by page, a resumable ranged
/// `GET` pinned to the listed version (`If-Match` the ETag), `CopyObject` (`x-amz-copy-source`), `HEAD`,
/// `DELETE`, and a small `PUT` for the failure report.
extension S3Bucket {
    /// One listed object: S3 lists an object only once it is whole (a PUT or a completed multipart
    /// upload), so a listed object is never half-written.
    package struct Listed: Sendable, Equatable {
        package var key: String
        /// Without its quotes (`"9b2c…"` → `9b2c…`); a multipart object's ends in `-<parts>`.
        package var etag: String
        package var size: Int64
    }

    /// An ETag as S3 sends it in a header or a listing, without its quotes.
    package static func bareETag(_ s: String) -> String { s.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) }

    /// Every object under `prefix`, following `NextContinuationToken` past each page of 1,000.
    package func list(prefix: String) async throws -> [Listed] {
        var out: [Listed] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let (resp, body) = try await send(.GET, key: nil, query: query)
            guard resp.status == .ok else { throw refusal(resp, body, "ListObjectsV2 of \(config.bucket)/\(prefix)") }
            let text = String(buffer: body)
            for entry in XMLTags.all("Contents", in: text) {
                guard let key = XMLTags.first("Key", in: entry), let etag = XMLTags.first("ETag", in: entry), let size = XMLTags.first("Size", in: entry).flatMap({ Int64($0) })
                else { continue }
                out.append(Listed(key: key, etag: Self.bareETag(etag), size: size))
            }
            token = XMLTags.first("IsTruncated", in: text) == "true" ? XMLTags.first("NextContinuationToken", in: text) : nil
        } while token != nil
        return out
    }

    /// Downloads the listed version of an object into `file`, going on from the bytes already there (a
    /// download cut by a restart is resumed with a `Range`), and checks the whole is the listed size. A
    /// key holding another version now is `412 Precondition Failed` to `If-Match`: thrown, nothing kept.
    package func download(_ object: Listed, to file: URL, timeout: Duration = .seconds(3600)) async throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: file.path) { _ = fm.createFile(atPath: file.path, contents: nil) }
        var have = Int64((try? fm.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value ?? 0)
        if have > object.size {
            try fm.removeItem(at: file)
            _ = fm.createFile(atPath: file.path, contents: nil)
            have = 0
        }
        if have < object.size {
            var headers = ["if-match": "\"\(object.etag)\""]
            if have > 0 { headers["range"] = "bytes=\(have)-" }
            let req = signed(.GET, key: object.key, headers: headers)
            let resp: HTTPClientResponse
            do {
                resp = try await http.execute(req, timeout: .seconds(Int64(timeout.seconds)))
            } catch {
                throw DeliveryError(.retryNow, .networkError, "\(config.endpoint) could not be reached: \(error)")
            }
            guard resp.status == .ok || resp.status == .partialContent else {
                throw refusal(resp, try await resp.body.collect(upTo: 1 << 16), "GET \(object.key)")
            }
            // A server that ignored the range sends the whole object again: start the file over.
            let handle = try FileHandle(forWritingTo: file)
            defer { try? handle.close() }
            if resp.status == .ok { try handle.truncate(atOffset: 0) } else { try handle.seekToEnd() }
            do {
                for try await chunk in resp.body { try handle.write(contentsOf: chunk.readableBytesView) }
            } catch {
                throw DeliveryError(.retryNow, .networkError, "the download of \(object.key) was cut: \(error)")
            }
            try handle.synchronize()
        }
        let got = Int64((try? fm.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value ?? -1)
        guard got == object.size else {
            throw DeliveryError(.retryNow, .platformError, "\(object.key) arrived with \(got) bytes, \(object.size) listed")
        }
        // A single-part object's ETag is the MD5 of its bytes: checked (a multipart one's is not an MD5 of them).
        if !object.etag.contains("-"), object.etag.count == 32 {
            let md5 = try FileHashing.md5(path: file.path)
            guard md5 == object.etag.lowercased() else {
                try? fm.removeItem(at: file)
                throw DeliveryError(.retryNow, .platformError, "\(object.key) arrived with MD5 \(md5), its ETag says \(object.etag)")
            }
        }
    }

    /// Copies an object within the bucket (CopyObject); the copy's headers are the source's.
    package func copy(_ from: String, to: String) async throws {
        let source = "/" + config.bucket + "/" + from
        let (resp, body) = try await send(.PUT, key: to, headers: ["x-amz-copy-source": SigV4.encodePath(source)])
        // CopyObject can fail after its 200 has begun: the error is then in the body.
        guard resp.status == .ok, !String(buffer: body).contains("<Error>") else { throw refusal(resp, body, "CopyObject \(from) → \(to)") }
    }

    /// Deletes an object (S3 answers 204 whether or not it was there).
    package func delete(_ key: String) async throws {
        let (resp, body) = try await send(.DELETE, key: key)
        guard (200..<300).contains(Int(resp.status.code)) || resp.status == .notFound else { throw refusal(resp, body, "DELETE \(key)") }
    }

    /// PUTs a small object (a failure report) from memory.
    package func put(data: Data, key: String, contentType: String) async throws {
        let (resp, body) = try await send(
            .PUT, key: key, headers: ["content-type": contentType], body: .bytes(ByteBuffer(data: data)), length: Int64(data.count),
            sha256: FileHashing.sha256(data: data))
        guard (200..<300).contains(Int(resp.status.code)) else { throw refusal(resp, body, "PUT \(key)", carriesBytes: true) }
    }
}
