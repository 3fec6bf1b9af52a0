import AsyncHTTPClient
import Foundation
import NIOHTTP1
import OmniPostCore

/// Stores a rendition in an S3-compatible bucket by multipart upload. The key is chosen (and checked
/// free) before anything is sent; the upload id is checkpointed before the first part; each part is
/// checkpointed once S3 answers with its ETag. A resume asks S3 which parts it holds (`ListParts`) and
/// sends only the others; an uncertain completion is settled by `HEAD` of the key, whose metadata
/// carries the rendition's sha256. An object with other bytes under the key is never overwritten.
struct S3Adapter: PlatformAdapter, SettingsBacked {
    let settings: AdapterSettings
    let platform = "s3"
    var schedulesNatively: Bool { false }

    init(_ settings: AdapterSettings) { self.settings = settings }

    var account: AccountConfig { settings.account }

    /// The bucket as the account describes it: AWS's regional endpoint unless another is named,
    /// virtual-host style on AWS and path style elsewhere unless `path_style:` says otherwise.
    var bucket: S3Bucket {
        let region = (try? account.text("region")) ?? "us-east-1"
        let endpoint = account.endpoint.isEmpty ? "https://s3.\(region).amazonaws.com" : account.endpoint
        var c = MediaHostConfig.S3(endpoint: endpoint, bucket: (try? account.text("bucket")) ?? "",
                                   region: region, accessKeyID: (try? account.text("access_key_id")) ?? "",
                                   secretAccessKey: (try? account.text("secret_access_key")) ?? "", prefix: "")
        c.pathStyle = (try? account.setting("path_style")?.bool()) ?? !endpoint.contains("amazonaws.com")
        return S3Bucket(c, http: settings.http, timeout: settings.requestTimeout)
    }

    var template: NameTemplate { account.setting("key").flatMap { try? NameTemplate($0) } ?? NameTemplate(literal: "{stem}.{ext}") }

    /// A sidecar's `overrides: {s3: {key: …}}` wins over the account's template.
    func template(_ m: PublishMetadata) -> NameTemplate { m.options["key"].map(NameTemplate.init(literal:)) ?? template }

    /// What a checkpoint holds: where, which upload, and how the file is cut (fixed for the upload's life).
    struct Session: Codable {
        var key: String
        var uploadId: String
        var partSize: Int64
    }

    static let minPart: Int64 = 5 << 20
    static let maxParts: Int64 = 10_000

    /// Parts of `upload.chunk_size` within S3's rules: at least 5 MiB, and large enough that the file
    /// needs at most 10,000 of them (rounded up to whole MiB).
    func partSize(_ size: Int64) -> Int64 {
        let needed = ((size + Self.maxParts - 1) / Self.maxParts + (1 << 20) - 1) / (1 << 20) * (1 << 20)
        return max(Self.minPart, min(settings.chunkSize, 5 << 30), needed)
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
        guard let v = try? JSONDecoder().decode(Session.self, from: Data(s.utf8)) else {
            throw DeliveryError(.permanent, .internalError, "the checkpointed S3 session cannot be read: \(Excerpt.quote(s))")
        }
        return v
    }

    func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let s = try session(job) else { return .notStarted }
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

    func publish(_ job: UploadJob, checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
                 progress: @escaping @Sendable (Int64, Int64) -> Void) async throws -> PublishOutcome {
        let b = bucket
        var s: Session
        var held: [Int: S3Bucket.Part] = [:]
        if let old = try session(job) {
            s = old
            // S3's word on which parts it holds, not the checkpoint's: a part is never sent twice.
            guard let parts = try await b.listParts(s.key, uploadId: s.uploadId) else {
                var fresh = job
                fresh.session = nil
                fresh.confirmedOffset = 0
                return try await publish(fresh, checkpoint: checkpoint, progress: progress)
            }
            for p in parts { held[p.number] = p }
        } else {
            switch try await chooseKey(job, b) {
            case .alreadyThere(let key):
                var o = outcome(key, bytes: 0)
                o.reconciled = true
                return o
            case .free(let key):
                try await job.beforeRequest("init")
                let id = try await b.createMultipartUpload(key, headers: try objectHeaders(job))
                s = Session(key: key, uploadId: id, partSize: partSize(job.size))
            }
        }
        let sessionText = String(decoding: try JSONEncoder().encode(s), as: UTF8.self)
        try await checkpoint(UploadCheckpoint(session: sessionText, confirmedOffset: Self.confirmed(Array(held.values).sorted { $0.number < $1.number }, partSize: s.partSize, size: job.size), bytesSent: 0))

        let count = Int(max(1, (job.size + s.partSize - 1) / s.partSize))
        let reader = PinnedReader(path: job.filePath, size: job.size, expected: job.expectedSha256)
        var sent: Int64 = 0
        var skipped = false
        for n in 1...count {
            try Task.checkCancellation()
            let from = Int64(n - 1) * s.partSize
            let length = min(s.partSize, job.size - from)
            if let p = held[n], p.size == length { skipped = true; continue }
            let data: Data
            do { data = try reader.chunk(from: from, count: Int(length)) } catch let e as OmniError {
                throw DeliveryError(.permanent, e.code, e.message)
            }
            var failures = 0
            while true {
                do {
                    let etag = try await b.uploadPart(s.key, uploadId: s.uploadId, number: n, data: data)
                    held[n] = S3Bucket.Part(number: n, etag: etag, size: length)
                    break
                } catch let e as DeliveryError where e.kind == .retryNow {
                    try await afterTransientFailure(e, failures: &failures)
                }
            }
            sent += length
            let parts = held.values.sorted { $0.number < $1.number }
            let confirmed = Self.confirmed(parts, partSize: s.partSize, size: job.size)
            try await checkpoint(UploadCheckpoint(session: sessionText, confirmedOffset: confirmed, bytesSent: sent))
            progress(confirmed, job.size)
        }
        // Parts sent by an earlier attempt were not read this time: the file must still be the one
        // that was hashed before S3 makes an object of it.
        if skipped, let want = job.expectedSha256, try FileHashing.sha256(path: job.filePath).hex != want {
            throw DeliveryError(.permanent, .sourceChanged, "\((job.filePath as NSString).lastPathComponent) changed since its first parts were sent; nothing was stored")
        }
        _ = try await b.completeMultipartUpload(s.key, uploadId: s.uploadId, parts: held.values.sorted { $0.number < $1.number })
        return outcome(s.key, bytes: sent)
    }

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
        let drop = job.drop ?? DropFacts(dropId: "", target: "s3", stem: ((job.filePath as NSString).lastPathComponent as NSString).deletingPathExtension,
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
