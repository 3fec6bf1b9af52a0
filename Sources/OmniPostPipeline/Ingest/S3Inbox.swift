import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// The S3 inbox (`inbox: {s3: …}`, issue 27): the bucket's prefix listed every `poll_seconds` with
/// ListObjectsV2. A listed object is whole (S3 lists an object only once its PUT or multipart upload
/// completed), so nothing waits for it to settle; a clip pairs with its sidecar by name as in a folder
/// (`DropNaming`), and waits for it the folder's `sidecar.grace`. The first sight of a clip's key and
/// ETag is written to the ledger and decides its drop once: a version listed again — on the next poll,
/// after a restart, on another host — is nothing new. The pair is downloaded into `work/s3-inbox/`
/// (resumed from the bytes there, pinned to the listed version, its size and single-part MD5 checked)
/// and handed to the folder inbox, from where the normal pipeline takes it. When its drop is filed, the
/// originals are copied in the bucket to `archive_prefix` (something was published) or `failed_prefix`
/// (nothing was, with the failure report beside them), each copy verified by HEAD (size, and ETag for a
/// single-part object), and only then deleted at the source; each step is written before it is taken,
/// so a restart between the copy and the delete finishes the delete and loses nothing.
struct S3Inbox: Sendable {
    let ctx: PipelineContext
    let config: S3InboxConfig
    let bucket: S3Bucket

    init(ctx: PipelineContext, config: S3InboxConfig, http: HTTPClient) throws {
        let keys = try config.keys()
        var s3 = MediaHostConfig.S3(
            endpoint: config.endpoint, bucket: config.bucket, region: config.region, accessKeyID: keys.id, secretAccessKey: keys.secret,
            prefix: config.prefix)
        s3.pathStyle = config.pathStyle
        var bucket = S3Bucket(s3, http: http)
        bucket.settingsBlock = "`inbox: s3:`"
        self.init(ctx: ctx, config: config, bucket: bucket)
    }

    init(ctx: PipelineContext, config: S3InboxConfig, bucket: S3Bucket) {
        self.ctx = ctx
        self.config = config
        self.bucket = bucket
    }

    /// Where downloads are written until they are whole.
    var staging: URL { ctx.paths.work.appendingPathComponent("s3-inbox") }

    /// Polls until cancelled; a failed poll is said (with S3's own reason) and tried again next time.
    func run() async {
        var lastProblem: String?
        while !Task.isCancelled {
            do {
                _ = try await step()
                lastProblem = nil
            } catch {
                let said = (error as? DeliveryError)?.message ?? "\(error)"
                if said != lastProblem {
                    ctx.logger.warning("the S3 inbox could not be polled", metadata: ["omnipost.bucket": "\(config.bucket)", "error": "\(said)"])
                    ctx.progress.line("  s3 inbox            \(config.bucket)/\(config.prefix): \(said)")
                }
                lastProblem = said
            }
            try? await Task.sleep(for: config.poll)
        }
    }

    /// One poll: new pairs handed to the folder inbox, filed drops' originals moved in the bucket. True
    /// when anything was done.
    @discardableResult
    func step() async throws -> Bool {
        let listed = try await bucket.list(prefix: config.prefix).filter { inInbox($0.key) }
        let took = try await take(listed)
        let filed = try await file()
        return took || filed
    }

    /// The key's path in the folder inbox: without the inbox prefix.
    func rel(_ key: String) -> String { String(key.dropFirst(config.prefix.count)) }

    /// Keys of the inbox proper: not a folder marker, not hidden, not under the archive or failed prefix
    /// (which lie beside an empty inbox prefix).
    func inInbox(_ key: String) -> Bool {
        let name = (key as NSString).lastPathComponent
        return !key.hasSuffix("/") && !name.hasPrefix(".") && !key.hasPrefix(config.archivePrefix) && !key.hasPrefix(config.failedPrefix)
    }

    /// The sidecar listed for a clip, by the folder's naming (`walk.yaml` or `walk.mp4.yaml` for `walk.mp4`).
    func sidecar(of clip: S3Bucket.Listed, in listed: [S3Bucket.Listed]) -> S3Bucket.Listed? {
        let clipRel = rel(clip.key)
        let stem = (clipRel as NSString).deletingPathExtension
        return listed.first { o in
            DropNaming.role(of: rel(o.key)) == .sidecar && DropNaming.sidecarKeys(rel(o.key)).contains { $0 == stem || $0 == clipRel }
        }
    }

    func take(_ listed: [S3Bucket.Listed]) async throws -> Bool {
        var did = false
        let now = ctx.now.timeIntervalSince1970
        for clip in listed where DropNaming.role(of: rel(clip.key)) == .clip {
            let local = rel(clip.key)
            _ = try ctx.ledger.noteS3Object(bucket: config.bucket, key: clip.key, etag: clip.etag, size: clip.size, localPath: local)
            guard let row = try ctx.ledger.s3Object(bucket: config.bucket, key: clip.key, etag: clip.etag), row.state == .waiting else { continue }
            let side = sidecar(of: clip, in: listed)
            // A clip without its sidecar waits for it as in a folder; after the grace the folder's policy decides.
            guard side != nil || now - row.seenAt >= ctx.config.sidecar.grace.seconds else { continue }
            // Handed before a restart that came before the row said so: taken by a drop since, or in
            // the folder inbox whole. Handing it again would be a second drop.
            if try handedBefore(row, clip) {
                try ctx.ledger.setS3Object(
                    bucket: config.bucket, key: clip.key, etag: clip.etag, state: .handed, sidecar: side.map { ($0.key, $0.etag) },
                    detail: "found handed to the folder inbox as \(local) after a restart")
                did = true
                continue
            }
            // An earlier version of the same name still in the folder inbox: this one waits its turn.
            if FileManager.default.fileExists(atPath: ctx.paths.inbox.appendingPathComponent(local).path) { continue }
            try await hand(clip, sidecar: side)
            did = true
        }
        return did
    }

    /// Whether this version reached the folder inbox before the daemon stopped: a drop made since it
    /// was first listed took its path, or the file there is it (its size, and its MD5 where the ETag is one).
    func handedBefore(_ row: S3InboxObject, _ clip: S3Bucket.Listed) throws -> Bool {
        if let (_, drop) = try ctx.ledger.takenFile(atAny: [row.localPath]), drop.createdAt >= row.seenAt - 1 { return true }
        let dest = ctx.paths.inbox.appendingPathComponent(row.localPath)
        guard let size = (try? FileManager.default.attributesOfItem(atPath: dest.path)[.size] as? NSNumber)?.int64Value, size == clip.size else {
            return false
        }
        if clip.etag.contains("-") || clip.etag.count != 32 { return true }
        return try FileHashing.md5(path: dest.path) == clip.etag.lowercased()
    }

    /// Downloads the pair into work/ and moves it into the folder inbox, the sidecar first.
    func hand(_ clip: S3Bucket.Listed, sidecar: S3Bucket.Listed?) async throws {
        let dir = staging.appendingPathComponent(clip.etag)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var files: [(S3Bucket.Listed, URL)] = []
        for o in [sidecar, clip].compactMap({ $0 }) {
            let part = dir.appendingPathComponent((o.key as NSString).lastPathComponent)
            try await bucket.download(o, to: part)
            files.append((o, part))
        }
        for (o, part) in files {
            let dest = ctx.paths.inbox.appendingPathComponent(rel(o.key))
            try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
            if FileManager.default.fileExists(atPath: dest.path) { try FileManager.default.removeItem(at: dest) }
            try SafeFiles.moveOriginal(from: part, to: dest)
        }
        try? FileManager.default.removeItem(at: dir)
        try ctx.ledger.setS3Object(
            bucket: config.bucket, key: clip.key, etag: clip.etag, state: .handed, sidecar: sidecar.map { ($0.key, $0.etag) },
            detail: "handed to the folder inbox as \(rel(clip.key))")
        ctx.progress.line("  s3 inbox            \(clip.key) (\(clip.size) bytes) → inbox/\(rel(clip.key))" + (sidecar.map { " with \($0.key)" } ?? ""))
        ctx.wakeup.ring()
    }

    /// Handed pairs whose drop is filed: their originals copied to archive/ or failed/ and deleted.
    func file() async throws -> Bool {
        var did = false
        for row in try ctx.ledger.s3Objects(bucket: config.bucket, in: [.handed]) {
            // The newest drop that took the handed file, made after the file was handed (a drop of an
            // earlier version of the name is not this one).
            guard let (_, drop) = try ctx.ledger.takenFile(atAny: [row.localPath]), drop.createdAt >= row.seenAt - 1,
                drop.state == .archived || drop.state == .failed
            else { continue }
            let failed = FileManager.default.fileExists(atPath: ctx.paths.failed.appendingPathComponent(drop.id).path)
            try ctx.ledger.setS3Object(
                bucket: config.bucket, key: row.key, etag: row.etag, state: failed ? .failing : .archiving, dropId: drop.id,
                detail: "drop \(drop.id) \(drop.state.rawValue): filing the originals under \(failed ? config.failedPrefix : config.archivePrefix)")
        }
        for row in try ctx.ledger.s3Objects(bucket: config.bucket, in: [.archiving, .failing]) {
            try await finish(row)
            did = true
        }
        return did
    }

    /// Copies, verifies, then deletes: never a delete before its copy is seen whole.
    func finish(_ row: S3InboxObject) async throws {
        let failing = row.state == .failing
        let prefix = failing ? config.failedPrefix : config.archivePrefix
        var originals = [(row.key, row.etag)]
        if let k = row.sidecarKey, let e = row.sidecarEtag { originals.append((k, e)) }
        var copied: [String] = []
        for (key, etag) in originals {
            let dest = prefix + rel(key)
            if try await verified(dest, like: etag, key: key) {
                copied.append(key)
                continue
            }
            guard try await bucket.head(key) != nil else {
                // Neither here nor filed: someone removed it from the bucket. Nothing to copy, nothing to delete.
                ctx.logger.warning("an S3 inbox original is gone before it was filed", metadata: ["omnipost.key": "\(key)"])
                continue
            }
            try await bucket.copy(key, to: dest)
            guard try await verified(dest, like: etag, key: key) else {
                throw DeliveryError(.retryNow, .platformError, "the copy of \(key) at \(dest) does not match it; the original is kept")
            }
            copied.append(key)
        }
        if failing, let drop = row.dropId {
            let report = ctx.paths.outboxFailed.appendingPathComponent("\(drop).failure.json")
            if let data = try? Data(contentsOf: report) {
                let name = prefix + (rel(row.key) as NSString).deletingPathExtension + ".failure.json"
                try await bucket.put(data: data, key: name, contentType: "application/json")
            }
        }
        for key in copied { try await bucket.delete(key) }
        try ctx.ledger.setS3Object(
            bucket: config.bucket, key: row.key, etag: row.etag, state: failing ? .failed : .archived,
            detail: "filed under \(prefix)\(rel(row.key)) and deleted from the inbox")
        ctx.progress.line("  s3 inbox            \(row.key) → \(prefix)\(rel(row.key))")
    }

    /// The object at `dest` is the original's copy: the same size, and the same ETag where the original's
    /// is a single part's MD5 (CopyObject keeps it; a multipart original's copy gets a new one).
    func verified(_ dest: String, like etag: String, key: String) async throws -> Bool {
        guard let h = try await bucket.head(dest) else { return false }
        let size = Int64(h.first(name: "content-length") ?? "") ?? -1
        // The clip's size is in its row; a sidecar's is read from the original while it is there.
        var expected = try ctx.ledger.s3Object(bucket: config.bucket, key: key, etag: etag)?.size
        if expected == nil, let source = try await bucket.head(key) { expected = Int64(source.first(name: "content-length") ?? "") }
        if let expected, size != expected { return false }
        if etag.contains("-") { return true }
        return S3Bucket.bareETag(h.first(name: "ETag") ?? "") == etag
    }
}
