import AsyncHTTPClient
import Foundation
import NIOHTTP1
import OmniPostCore

/// Stores a rendition in an S3-compatible bucket by multipart upload. The key is chosen (and checked
/// free) before anything is sent; the upload id is checkpointed before the first part; each part is
/// checkpointed once S3 answers with its ETag. A resume asks S3 which parts it holds (`ListParts`) and
/// sends only the others; an uncertain completion is settled by `HEAD` of the key, whose metadata
/// carries the rendition's sha256. An object with other bytes under the key is never overwritten.
/// The upload engine runs these steps (`ResumableAdapter`); `S3Parts` is the numbered-part transport.
struct S3Adapter: ResumableAdapter, DescribedAdapter {
    typealias Module = S3Platform
    let settings: AdapterSettings
    let displayName = "S3"
    /// Complete answers when the object is assembled: nothing to wait for (the default `processing`).
    var transport: S3Parts { S3Parts(bucket: bucket) }

    init(_ settings: AdapterSettings) { self.settings = settings }

    /// The bucket as the account describes it: AWS's regional endpoint unless another is named,
    /// virtual-host style on AWS and path style elsewhere unless `path_style:` says otherwise.
    var bucket: S3Bucket {
        let region = (try? account.text("region")) ?? "us-east-1"
        let endpoint = account.endpoint.isEmpty ? "https://s3.\(region).amazonaws.com" : account.endpoint
        var c = MediaHostConfig.S3(
            endpoint: endpoint, bucket: (try? account.text("bucket")) ?? "",
            region: region, accessKeyID: (try? account.text("access_key_id")) ?? "",
            secretAccessKey: (try? account.text("secret_access_key")) ?? "", prefix: "")
        c.pathStyle = (try? account.setting("path_style")?.bool()) ?? !endpoint.contains("amazonaws.com")
        c.partChecksums = (try? account.setting("part_checksums")?.bool()) ?? true
        var b = S3Bucket(c, http: settings.uploads, timeout: settings.requestTimeout)
        b.settingsBlock = "`accounts: \(account.key)`"
        return b
    }

    var template: NameTemplate { account.setting("key").flatMap { try? NameTemplate($0) } ?? NameTemplate(literal: "{stem}.{ext}") }

    /// A sidecar's `overrides: {s3: {key: …}}` wins over the account's template.
    func template(_ m: PublishMetadata) -> NameTemplate { m.options["key"].map(NameTemplate.init(literal:)) ?? template }

    /// What a checkpoint holds: where, which upload, and how the file is cut (fixed for the upload's life).
    struct Session: Codable, PersistedSession {
        var key: String
        var uploadId: String
        var partSize: Int64
        /// The parts S3 has answered for (its word, from `ListParts` on a resume, not only ours).
        var parts: [S3Bucket.Part]? = nil
        /// The checksum algorithm the upload was created with (`CRC32C` over HTTPS); nil: each part's
        /// payload is signed (plain HTTP, and every session checkpointed before there was a choice).
        var checksum: String? = nil
        var held: [S3Bucket.Part] { (parts ?? []).sorted { $0.number < $1.number } }
    }

    /// Parts of `upload.chunk_size` within S3's rules (the descriptor's `parts`): at least 5 MiB, at
    /// most 5 GiB, and large enough that the file needs at most 10,000 of them (rounded up to whole MiB).
    func partSize(_ size: Int64) -> Int64 {
        let most = Module.descriptor.parts?.maxCount ?? 10_000
        let needed = ((size + most - 1) / most + (1 << 20) - 1) / (1 << 20) * (1 << 20)
        return max(partSize, needed)
    }

    func platformChecks(_ metadata: PublishMetadata) -> OmniError? {
        if let key = metadata.options["key"], let why = NameTemplate.problem(key) { return OmniError(.invalidValue, "overrides.s3.key: \(why)") }
        return nil
    }

    func expected(_ job: UploadJob) throws -> String {
        try job.expectedSha256 ?? FileHashing.sha256(path: job.filePath).hex
    }

    func outcome(_ key: String, bytes: Int64) -> PublishOutcome {
        PublishOutcome(remoteId: key, url: bucket.objectURL(key), bytesSent: bytes)
    }

    /// Whether the object under `key` is this rendition (its sha256 in the metadata we wrote).
    func holds(_ headers: HTTPHeaders, _ job: UploadJob) throws -> Bool {
        headers.first(name: "x-amz-meta-omnipost-sha256") == (try expected(job))
    }

    func session(_ job: UploadJob) throws -> Session? {
        guard let s = job.session else { return nil }
        guard let v = Session(persisted: s) else {
            throw DeliveryError(.permanent, .internalError, "the checkpointed S3 session cannot be read: \(Excerpt.quote(s))")
        }
        return v
    }

    func reconcile(_ s: Session, _ job: UploadJob) async throws -> RemoteState {
        let b = bucket
        if let h = try await b.head(s.key), try holds(h, job) { return .published(outcome(s.key, bytes: 0)) }
        guard let parts = try await b.listParts(s.key, uploadId: s.uploadId) else { return .notStarted }
        return .partial(confirmedOffset: Self.confirmed(parts, partSize: s.partSize, size: job.size))
    }

    /// Bytes S3 holds from the start of the file without a gap: whole parts 1…k of the expected sizes.
    static func confirmed(_ parts: [S3Bucket.Part], partSize: Int64, size: Int64) -> Int64 {
        var n = 1
        var bytes: Int64 = 0
        for p in parts where p.number == n && p.size == min(partSize, size - bytes) {
            bytes += p.size
            n += 1
        }
        return bytes
    }

    /// S3's word on which parts it holds, not the checkpoint's: a part is never sent twice.
    func resume(_ s: inout Session, _ job: UploadJob) async throws -> Int64? {
        guard let parts = try await bucket.listParts(s.key, uploadId: s.uploadId) else { return nil }
        s.parts = parts
        return Self.confirmed(parts, partSize: s.partSize, size: job.size)
    }

    /// The key (checked free, or found holding this rendition already).
    func prepare(_ job: UploadJob) async throws -> Choice { try await chooseKey(job, bucket) }

    func alreadyPublished(_ job: UploadJob, _ choice: Choice) async throws -> PublishOutcome? {
        guard case .alreadyThere(let key) = choice else { return nil }
        return outcome(key, bytes: 0)
    }

    func start(_ job: UploadJob, _ choice: Choice) async throws -> Session {
        guard case .free(let key) = choice else { throw DeliveryError(.permanent, .internalError, "no free key to store under") }
        let b = bucket
        var headers = try objectHeaders(job)
        let checksum = b.signsPayload ? nil : S3Bucket.partChecksum
        if let checksum { headers["x-amz-checksum-algorithm"] = checksum }
        let id = try await b.createMultipartUpload(key, headers: headers)
        return Session(key: key, uploadId: id, partSize: partSize(job.size), parts: [], checksum: checksum)
    }

    /// CompleteMultipartUpload with every part in order: the object exists from here.
    func finish(_ s: inout Session, _ job: UploadJob) async throws -> Processing {
        _ = try await bucket.completeMultipartUpload(s.key, uploadId: s.uploadId, parts: s.held)
        return .ready
    }

    func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome { outcome(s.key, bytes: 0) }

    /// A cancelled delivery's upload is aborted — unless it became an object already (then it stays,
    /// and the cancel is refused: the object is there).
    func abandon(_ job: UploadJob) async throws -> Bool {
        guard let s = try session(job) else { return true }
        let b = bucket
        if let h = try await b.head(s.key), try holds(h, job) { return false }
        try await b.abortMultipartUpload(s.key, uploadId: s.uploadId)
        return true
    }

    enum Choice { case free(String), alreadyThere(String) }

    /// The template's key; when another object holds it, the same key with the rendition's first 8 hex
    /// digits of sha256 — an object with other bytes is never overwritten.
    func chooseKey(_ job: UploadJob, _ b: S3Bucket) async throws -> Choice {
        let drop =
            job.drop
            ?? DropFacts(
                dropId: "", target: "s3", stem: ((job.filePath as NSString).lastPathComponent as NSString).deletingPathExtension,
                source: job.filePath, takenAt: Date())
        let first = template(job.metadata).render(drop, file: job.filePath, sha256: job.expectedSha256)
        let ext = (first as NSString).pathExtension
        let sha8 = String(try expected(job).prefix(8))
        let second = (first as NSString).deletingPathExtension + "-\(sha8)" + (ext.isEmpty ? "" : ".\(ext)")
        for key in [first, second] {
            guard let h = try await b.head(key) else { return .free(key) }
            if try holds(h, job) { return .alreadyThere(key) }
        }
        throw DeliveryError(.permanent, .configInvalid, "\(first) and \(second) in bucket \(b.config.bucket) both hold other objects; nothing was overwritten")
    }

    /// The object's headers: its type, storage class, the account's metadata, and what reconciling reads.
    func objectHeaders(_ job: UploadJob) throws -> [String: String] {
        var h = ["content-type": job.contentType, "x-amz-meta-omnipost-sha256": try expected(job)]
        if let d = job.drop { h["x-amz-meta-omnipost-drop"] = d.dropId }
        if let c = try account.text("storage_class") { h["x-amz-storage-class"] = c }
        if let m = account.setting("metadata") {
            for (k, v) in try m.mapping() { h["x-amz-meta-" + k.lowercased()] = try v.string() }
        }
        return h
    }
}
