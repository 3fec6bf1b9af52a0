import Crypto
import Foundation
import OmniPostCore

extension SandboxState {
    struct S3Object: Sendable {
        var path: String
        var etag: String
        var contentType: String
        var size: Int
        /// `x-amz-meta-*` and `x-amz-storage-class`, returned by HEAD and GET as S3 returns them.
        var headers: [String: String] = [:]
    }

    struct S3Upload: Sendable {
        var bucket: String
        var key: String
        var headers: [String: String]
        var parts: [Int: (etag: String, path: String, size: Int)] = [:]
        /// `x-amz-checksum-algorithm` at creation (CRC32C, …): every part must carry one of it, and
        /// complete must name each part's again.
        var checksumAlgorithm: String? = nil
        /// Each part's checksum (base64) of that algorithm.
        var checksums: [Int: String] = [:]
    }

    /// Registers an access key and its secret (what a bucket's owner hands a client).
    package func registerS3(accessKeyID: String, secret: String) { s3Keys[accessKeyID] = secret }
    func s3Secret(_ accessKeyID: String) -> String? { s3Keys[accessKeyID] }
    /// The key is made inactive (or deleted) by the bucket's owner: every request signed with it is
    /// answered 403 InvalidAccessKeyId; multipart uploads it started stay as they are.
    func revokeS3(accessKeyID: String) { s3Keys[accessKeyID] = nil }

    func createBucket(_ name: String) { s3Buckets.insert(name) }

    /// Where a bucket lives, when it is not where every request is signed for: S3 answers a request signed
    /// for another region as one that reached the wrong place (`S3Routes.misaddressed`).
    package struct S3BucketHome: Sendable, Codable, Equatable {
        /// How S3 answers the request signed for another region: the endpoint reached serves another region
        /// (301 PermanentRedirect), the global endpoint while the bucket's name still routes there (307
        /// TemporaryRedirect, `Location` at the bucket's endpoint), or the right endpoint with a signature
        /// scoped to another region (400 AuthorizationHeaderMalformed).
        package enum Answer: String, Sendable, Codable {
            case permanentRedirect = "PermanentRedirect"
            case temporaryRedirect = "TemporaryRedirect"
            case authorizationHeaderMalformed = "AuthorizationHeaderMalformed"
        }
        package var region: String
        package var answer: Answer
        /// The bucket's endpoint (`scheme://host[:port]`, a path prefix allowed): S3 names its host in
        /// `<Endpoint>`, and a 307's `Location` is the request's path and query there.
        package var endpoint: String
        package init(region: String, answer: Answer, endpoint: String) {
            self.region = region
            self.answer = answer
            self.endpoint = endpoint
        }
    }

    /// The bucket lives in `home.region` from now (nil: wherever it is asked for, as before).
    package func setS3BucketHome(_ bucket: String, _ home: S3BucketHome?) { s3Homes[bucket] = home }
    func s3BucketHome(_ bucket: String) -> S3BucketHome? { s3Homes[bucket] }

    static func md5(_ data: Data) -> String { Insecure.MD5.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    func objectFile(bucket: String, key: String) throws -> URL {
        let dir = root.appendingPathComponent("s3/\(bucket)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(FileHashing.sha256(data: Data(key.utf8)))
    }

    func putObject(bucket: String, key: String, data: Data, contentType: String, headers: [String: String] = [:]) throws -> String {
        s3Buckets.insert(bucket)
        let file = try objectFile(bucket: bucket, key: key)
        try data.write(to: file)
        let etag = Self.md5(data)  // S3's ETag of a single-part object
        s3Objects["\(bucket)/\(key)"] = S3Object(path: file.path, etag: etag, contentType: contentType, size: data.count, headers: headers)
        stored(bucket: bucket, key: key, file: file, size: Int64(data.count), headers: headers)
        return etag
    }

    func object(bucket: String, key: String) -> S3Object? { s3Objects["\(bucket)/\(key)"] }

    /// An object the S3 target stored (it carries `x-amz-meta-omnipost-sha256`) counts as a delivered
    /// video, so the per-hash post counts cover buckets too; the media host's objects do not.
    func stored(bucket: String, key: String, file: URL, size: Int64, headers: [String: String]) {
        guard headers["x-amz-meta-omnipost-sha256"] != nil, let sha = try? FileHashing.sha256(path: file.path).hex else { return }
        videos.append(
            Video(
                platform: "s3", id: "\(bucket)/\(key)", account: bucket, title: key, description: "", tags: [], privacy: "private",
                publishAt: nil, bytes: size, sha256: sha, path: file.path, receivedAt: Date()))
    }

    // MARK: Multipart

    func createUpload(bucket: String, key: String, headers: [String: String], checksumAlgorithm: String? = nil) -> String {
        s3Buckets.insert(bucket)
        let id = SandboxState.randomID(32)
        s3Uploads[id] = S3Upload(bucket: bucket, key: key, headers: headers, checksumAlgorithm: checksumAlgorithm)
        return id
    }

    /// The algorithm the upload was created with; nil for none, or no such upload.
    func uploadChecksumAlgorithm(uploadId: String) -> String? { s3Uploads[uploadId]?.checksumAlgorithm }

    /// Stores one part (replacing an earlier one of the same number, as S3 does); nil: no such upload.
    /// `checksum`: its checked `x-amz-checksum-*` value of the upload's algorithm.
    func putPart(uploadId: String, bucket: String, key: String, number: Int, data: Data, checksum: String? = nil) throws -> String? {
        guard var u = s3Uploads[uploadId], u.bucket == bucket, u.key == key else { return nil }
        u.checksums[number] = checksum
        let dir = root.appendingPathComponent("s3parts/\(uploadId)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent(String(number))
        try data.write(to: file)
        let etag = Self.md5(data)
        u.parts[number] = (etag, file.path, data.count)
        s3Uploads[uploadId] = u
        return etag
    }

    func uploadParts(uploadId: String, bucket: String, key: String) -> [(number: Int, etag: String, size: Int, checksum: String?)]? {
        guard let u = s3Uploads[uploadId], u.bucket == bucket, u.key == key else { return nil }
        return u.parts.keys.sorted().map { ($0, u.parts[$0]!.etag, u.parts[$0]!.size, u.checksums[$0]) }
    }

    enum CompleteResult { case ok(String), noSuchUpload, error(String, String) }

    /// Joins the named parts into the object, with S3's checks: parts ascending, each one held with that
    /// ETag, every part but the last at least 5 MiB. The ETag is S3's: md5 of the parts' md5s, `-N`.
    /// With a checksum algorithm, each named part's checksum (`checksums`, by part number) must be the one
    /// stored: missing is InvalidRequest, another value InvalidPart, as S3 answers them.
    func completeUpload(uploadId: String, bucket: String, key: String, parts: [(Int, String)], checksums: [Int: String] = [:]) throws -> CompleteResult {
        guard let u = s3Uploads[uploadId], u.bucket == bucket, u.key == key else { return .noSuchUpload }
        guard !parts.isEmpty else { return .error("MalformedXML", "You must specify at least one part") }
        guard parts.map(\.0) == parts.map(\.0).sorted(), Set(parts.map(\.0)).count == parts.count else {
            return .error("InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.")
        }
        var digests = Data()
        for (i, (n, etag)) in parts.enumerated() {
            guard let p = u.parts[n], p.etag == etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) else {
                return .error(
                    "InvalidPart",
                    "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
            }
            if let algorithm = u.checksumAlgorithm {
                guard let sum = checksums[n] else {
                    return .error(
                        "InvalidRequest",
                        "The upload was created using a \(algorithm.lowercased()) checksum. The complete request must include the checksum for each part. It was missing for part \(n) in the request.")
                }
                guard sum == u.checksums[n] else {
                    return .error(
                        "InvalidPart",
                        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
                }
            }
            if i < parts.count - 1, p.size < 5 << 20 {
                return .error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.")
            }
            digests.append(contentsOf: Array(Insecure.MD5.hash(data: Data(hexBytes: p.etag))))
        }
        let file = try objectFile(bucket: bucket, key: key)
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let out = try FileHandle(forWritingTo: file)
        var size = 0
        for (n, _) in parts {
            let data = try Data(contentsOf: URL(fileURLWithPath: u.parts[n]!.path))
            try out.write(contentsOf: data)
            size += data.count
        }
        try out.close()
        let etag = Self.md5(digests) + "-\(parts.count)"
        s3Objects["\(bucket)/\(key)"] = S3Object(
            path: file.path, etag: etag, contentType: u.headers["content-type"] ?? "binary/octet-stream",
            size: size, headers: u.headers.filter { $0.key != "content-type" })
        s3Uploads[uploadId] = nil
        try? FileManager.default.removeItem(at: root.appendingPathComponent("s3parts/\(uploadId)"))
        stored(bucket: bucket, key: key, file: file, size: Int64(size), headers: u.headers)
        return .ok(etag)
    }

    func abortUpload(uploadId: String, bucket: String, key: String) -> Bool {
        guard let u = s3Uploads[uploadId], u.bucket == bucket, u.key == key else { return false }
        s3Uploads[uploadId] = nil
        try? FileManager.default.removeItem(at: root.appendingPathComponent("s3parts/\(uploadId)"))
        return true
    }

    /// Multipart uploads not completed nor aborted (what a bucket's owner pays for).
    package func openS3Uploads() -> Int { s3Uploads.count }
}

extension Data {
    /// `"0a1b…"` → its bytes (an md5 hex ETag).
    init(hexBytes hex: String) {
        var out = Data()
        var i = hex.startIndex
        while i < hex.endIndex, let j = hex.index(i, offsetBy: 2, limitedBy: hex.endIndex) {
            if let b = UInt8(hex[i..<j], radix: 16) { out.append(b) }
            i = j
        }
        self = out
    }
}

/// What S3's sandbox remembers, held for it by `SandboxState` (see `PlatformWorld`).
extension SandboxState {
    struct S3World: PlatformWorld {
        var keys: [String: String] = [:]
        var buckets: Set<String> = []
        var objects: [String: S3Object] = [:]
        var uploads: [String: S3Upload] = [:]
        var homes: [String: S3BucketHome] = [:]
    }

    var s3Keys: [String: String] {
        get { self[S3World.self].keys }
        _modify { yield &self[S3World.self].keys }
    }
    var s3Buckets: Set<String> {
        get { self[S3World.self].buckets }
        _modify { yield &self[S3World.self].buckets }
    }
    var s3Objects: [String: S3Object] {
        get { self[S3World.self].objects }
        _modify { yield &self[S3World.self].objects }
    }
    var s3Homes: [String: S3BucketHome] {
        get { self[S3World.self].homes }
        _modify { yield &self[S3World.self].homes }
    }
    var s3Uploads: [String: S3Upload] {
        get { self[S3World.self].uploads }
        _modify { yield &self[S3World.self].uploads }
    }
}

extension S3Routes {
    static let name = "s3"
    static func forgetUnfinishedUploads(state: isolated SandboxState) { state.s3Uploads.removeAll() }
    /// An access key and its secret, as the bucket's owner issued them.
    static func grant(_ credentials: [String: String], account: String, state: isolated SandboxState) {
        guard let id = credentials["access_key_id"], let secret = credentials["secret_access_key"] else { return }
        state.registerS3(accessKeyID: id, secret: secret)
    }
}
