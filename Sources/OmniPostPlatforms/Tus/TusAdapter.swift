import Foundation
import OmniPostCore

/// Uploads a rendition to a tus server. The upload URL is checkpointed before the first byte; a restart
/// asks the server (`HEAD`) how much it holds and continues from there; a complete upload — its offset
/// equal to its length — is the post, so an uncertain last `PATCH` is settled by that same `HEAD`. The
/// upload engine runs these steps (`ResumableAdapter`) over the shared tus transport (`TusOffsets`).
struct TusAdapter: ResumableAdapter, DescribedAdapter {
    typealias Module = TusPlatform
    let settings: AdapterSettings
    let displayName = "the tus server"

    init(_ settings: AdapterSettings) { self.settings = settings }

    var endpoint: String { (try? settings.account.text("url")) ?? "" }
    var tus: TusClient {
        TusClient(http: settings.uploads, timeout: settings.requestTimeout, headers: settings.account.headerPairs("headers"))
    }
    /// The last PATCH completes the upload: nothing is processed after it (the default `processing`).
    var transport: TusOffsets<Session> { TusOffsets(client: tus, chunkSize: settings.chunkSize) }

    /// The upload URL (what the ledger holds, bare), and the checksum `OPTIONS` offered this attempt.
    struct Session: TusUploadSession {
        var uploadURL: String
        var checksum: String? = nil
        init(uploadURL: String, checksum: String?) {
            self.uploadURL = uploadURL
            self.checksum = checksum
        }
        init?(persisted: String) { uploadURL = persisted }
        var persisted: String { uploadURL }
    }

    /// What the server supports (`OPTIONS`): a rendition over its `Tus-Max-Size` is refused for good.
    func capabilities(_ job: UploadJob) async throws -> TusClient.Capabilities {
        let caps = await tus.capabilities(endpoint)
        if let max = caps.maxSize, job.size > max {
            throw DeliveryError(.permanent, .fileTooLarge, "the tus server takes at most \(max) bytes (Tus-Max-Size); this rendition is \(job.size)")
        }
        return caps
    }

    func prepare(_ job: UploadJob) async throws -> TusClient.Capabilities { try await capabilities(job) }

    func start(_ job: UploadJob, _ caps: TusClient.Capabilities) async throws -> Session {
        var meta = [("filename", (job.filePath as NSString).lastPathComponent), ("filetype", job.contentType)]
        if !job.metadata.title.isEmpty { meta.append(("title", job.metadata.title)) }
        if let d = job.drop { meta.append(("omnipost_drop", d.dropId)) }
        if let sha = job.expectedSha256 { meta.append(("sha256", sha)) }
        let url = try await tus.create(endpoint, length: job.size, metadata: meta)
        return Session(uploadURL: url, checksum: caps.checksum(for: url, forced: forcedChecksum))
    }

    /// The account's `upload_checksum: true|false`, where it says; else the scheme decides (`checksum(for:)`).
    var forcedChecksum: Bool? { try? settings.account.setting("upload_checksum")?.bool() }

    /// A resumed upload asks `OPTIONS` again for its checksum, and goes on from the offset `HEAD` gave.
    func resume(_ s: inout Session, _ job: UploadJob) async throws -> Int64? {
        s.checksum = try await capabilities(job).checksum(for: s.uploadURL, forced: forcedChecksum)
        return job.confirmedOffset
    }

    func reconcile(_ s: Session, _ job: UploadJob) async throws -> RemoteState {
        guard let held = try await tus.offset(s.uploadURL) else { return .notStarted }
        if held.offset == job.size { return .published(PublishOutcome(remoteId: s.uploadURL, url: s.uploadURL, bytesSent: 0)) }
        return .partial(confirmedOffset: held.offset)
    }

    func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        PublishOutcome(remoteId: s.uploadURL, url: s.uploadURL, bytesSent: 0)
    }
}
