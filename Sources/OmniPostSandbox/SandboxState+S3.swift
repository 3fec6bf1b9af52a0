import Crypto
import Foundation
import OmniPostCore

extension SandboxState {
    struct S3Object: Sendable {
        var path: String
        var etag: String
        var contentType: String
        var size: Int
    }

    /// Registers an access key and its secret (what a bucket's owner hands a client).
    public func registerS3(accessKeyID: String, secret: String) { s3Keys[accessKeyID] = secret }
    func s3Secret(_ accessKeyID: String) -> String? { s3Keys[accessKeyID] }

    func createBucket(_ name: String) { s3Buckets.insert(name) }

    func putObject(bucket: String, key: String, data: Data, contentType: String) throws -> String {
        s3Buckets.insert(bucket)
        let dir = root.appendingPathComponent("s3/\(bucket)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent(FileHashing.sha256(data: Data(key.utf8)))
        try data.write(to: file)
        let etag = Insecure.MD5.hash(data: data).map { String(format: "%02x", $0) }.joined()   // S3's ETag of a single-part object
        s3Objects["\(bucket)/\(key)"] = S3Object(path: file.path, etag: etag, contentType: contentType, size: data.count)
        return etag
    }

    func object(bucket: String, key: String) -> S3Object? { s3Objects["\(bucket)/\(key)"] }
}
