import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore
import OmniPostWire

/// S3's multipart upload: create → parts → complete (or abort), and the two questions a resume asks —
/// which parts does S3 hold (`ListParts`), is the object there (`HEAD`).
extension S3Bucket {
    /// What vouches for a part's bytes (`uploadPart`): its sha256 signed (over plain HTTP, or where the
    /// account turned part checksums off) — with its CRC-32C beside it when the upload was created with
    /// that algorithm, which S3 then asks of every part — or its CRC-32C alone, the payload unsigned.
    package enum PartDigestHeader: Sendable {
        case signedSHA256(String, crc32c: UInt32? = nil)
        case crc32c(UInt32)
    }

    package struct Part: Sendable, Equatable, Codable {
        package var number: Int
        package var etag: String
        package var size: Int64
        /// Its `x-amz-checksum-crc32c` (base64), where the upload was created with that algorithm:
        /// complete names each part's again.
        package var crc32c: String? = nil
    }

    /// The checksum algorithm an upload over HTTPS is created with (`x-amz-checksum-algorithm`): each
    /// part then carries its CRC-32C instead of a signed sha256 (`signsPayload`).
    package static let partChecksum = "CRC32C"

    /// The object's headers, or nil when there is none under `key`.
    package func head(_ key: String) async throws -> HTTPHeaders? {
        let (resp, body) = try await send(.HEAD, key: key)
        if resp.status == .notFound { return nil }
        guard resp.status == .ok else { throw refusal(resp, body, "HEAD \(key)", head: true) }
        return resp.headers
    }

    /// Starts a multipart upload; `headers` are the object's (`content-type`, `x-amz-storage-class`, `x-amz-meta-*`).
    package func createMultipartUpload(_ key: String, headers: [String: String]) async throws -> String {
        let (resp, body) = try await send(.POST, key: key, query: [("uploads", "")], headers: headers)
        let text = String(buffer: body)
        guard resp.status == .ok, let id = XMLTags.first("UploadId", in: text), !id.isEmpty else {
            throw refusal(resp, body, "starting the multipart upload of \(key)")
        }
        return id
    }

    /// Sends one part; its ETag is what `complete` names it by. Its body is the buffer as read (no
    /// copy; in slices of it over HTTPS, `BodySlices`); `digest` is what vouches for it: a signed sha256 (hex), or — over HTTPS, where the AWS SDKs
    /// leave the payload unsigned — `UNSIGNED-PAYLOAD` with its CRC-32C in a signed `x-amz-checksum-crc32c`
    /// header, which S3 checks against the bytes (400 BadDigest) as it would the sha256.
    package func uploadPart(_ key: String, uploadId: String, number: Int, bytes: ByteBuffer, digest: PartDigestHeader) async throws -> String {
        var headers: [String: String] = [:]
        let payload: String
        switch digest {
        case .signedSHA256(let hex, let crc):
            payload = hex
            if let crc { headers["x-amz-checksum-crc32c"] = CRC32C.base64(crc) }
        case .crc32c(let v):
            headers["x-amz-checksum-crc32c"] = CRC32C.base64(v)
            payload = SigV4.unsignedPayload
        }
        let (resp, body) = try await send(
            .PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadId)], headers: headers,
            body: BodySlices.body(bytes, tls: parts.scheme.lowercased() == "https"), length: Int64(bytes.readableBytes), sha256: payload)
        guard resp.status == .ok, let etag = resp.headers.first(name: "ETag") else {
            throw refusal(resp, body, "part \(number) of \(key)", carriesBytes: true)
        }
        return etag
    }

    /// Every part S3 holds for the upload, in order (following `NextPartNumberMarker` past 1,000);
    /// nil when S3 no longer knows the upload (completed, aborted, or expired by a lifecycle rule).
    package func listParts(_ key: String, uploadId: String) async throws -> [Part]? {
        var parts: [Part] = []
        var marker: String? = nil
        while true {
            var query = [("uploadId", uploadId), ("max-parts", "1000")]
            if let marker { query.append(("part-number-marker", marker)) }
            let (resp, body) = try await send(.GET, key: key, query: query)
            let text = String(buffer: body)
            if resp.status == .notFound || XMLTags.first("Code", in: text) == "NoSuchUpload" { return nil }
            guard resp.status == .ok else { throw refusal(resp, body, "listing the parts of \(key)") }
            for p in XMLTags.all("Part", in: text) {
                guard let n = XMLTags.first("PartNumber", in: p).flatMap(Int.init), let etag = XMLTags.first("ETag", in: p),
                    let size = XMLTags.first("Size", in: p).flatMap(Int64.init)
                else { continue }
                parts.append(Part(number: n, etag: etag, size: size, crc32c: XMLTags.first("ChecksumCRC32C", in: p)))
            }
            guard XMLTags.first("IsTruncated", in: text) == "true", let next = XMLTags.first("NextPartNumberMarker", in: text) else { break }
            marker = next
        }
        return parts.sorted { $0.number < $1.number }
    }

    /// Completes the upload with the parts in ascending order. S3 may answer 200 and still fail (the
    /// error is in the body, sent after a long assembly): that is an error here, not a success.
    package func completeMultipartUpload(_ key: String, uploadId: String, parts: [Part]) async throws -> String {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for p in parts.sorted(by: { $0.number < $1.number }) {
            // An upload created with a checksum algorithm names each part's checksum again (S3 refuses it
            // otherwise: "The complete request must include the checksum for each part").
            let sum = p.crc32c.map { "<ChecksumCRC32C>\($0)</ChecksumCRC32C>" } ?? ""
            xml += "<Part><PartNumber>\(p.number)</PartNumber><ETag>\(XMLTags.escape(p.etag))</ETag>\(sum)</Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let data = Data(xml.utf8)
        let (resp, body) = try await send(
            .POST, key: key, query: [("uploadId", uploadId)], headers: ["content-type": "application/xml"],
            body: .bytes(ByteBuffer(data: data)), length: Int64(data.count), sha256: FileHashing.sha256(data: data))
        let text = String(buffer: body)
        guard resp.status == .ok, XMLTags.first("Error", in: text) == nil, text.contains("CompleteMultipartUploadResult") else {
            throw refusal(resp, body, "completing the upload of \(key)")
        }
        return XMLTags.first("ETag", in: text) ?? ""
    }

    /// Gives up an upload and frees its parts (S3 keeps, and bills, unfinished parts until then).
    package func abortMultipartUpload(_ key: String, uploadId: String) async throws {
        let (resp, body) = try await send(.DELETE, key: key, query: [("uploadId", uploadId)])
        guard resp.status == .noContent || resp.status == .ok || resp.status == .notFound else {
            throw refusal(resp, body, "aborting the upload of \(key)")
        }
    }
}
