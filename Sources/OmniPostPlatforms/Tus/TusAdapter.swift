import Foundation
import OmniPostCore

/// Uploads a rendition to a tus server. The upload URL is checkpointed before the first byte; a restart
/// asks the server (`HEAD`) how much it holds and continues from there; a complete upload — its offset
/// equal to its length — is the post, so an uncertain last `PATCH` is settled by that same `HEAD`.
struct TusAdapter: PlatformAdapter, SettingsBacked {
    let settings: AdapterSettings
    let platform = "tus"
    var schedulesNatively: Bool { false }

    init(_ settings: AdapterSettings) { self.settings = settings }

    var endpoint: String { (try? settings.account.text("url")) ?? "" }
    var tus: TusClient {
        TusClient(http: settings.http, timeout: settings.requestTimeout, headers: settings.account.headerPairs("headers"))
    }


    func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let url = job.session else { return .notStarted }
        guard let held = try await tus.offset(url) else { return .notStarted }
        if held.offset == job.size { return .published(PublishOutcome(remoteId: url, url: url, bytesSent: 0)) }
        return .partial(confirmedOffset: held.offset)
    }

    func publish(_ job: UploadJob, checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
                 progress: @escaping @Sendable (Int64, Int64) -> Void) async throws -> PublishOutcome {
        let client = tus
        let caps = await client.capabilities(endpoint)
        if let max = caps.maxSize, job.size > max {
            throw DeliveryError(.permanent, .fileTooLarge, "the tus server takes at most \(max) bytes (Tus-Max-Size); this rendition is \(job.size)")
        }
        var url = job.session ?? ""
        var start = job.confirmedOffset
        if job.session == nil {
            try await job.beforeRequest("init")
            var meta = [("filename", (job.filePath as NSString).lastPathComponent), ("filetype", job.contentType)]
            if !job.metadata.title.isEmpty { meta.append(("title", job.metadata.title)) }
            if let d = job.drop { meta.append(("omnipost_drop", d.dropId)) }
            if let sha = job.expectedSha256 { meta.append(("sha256", sha)) }
            url = try await client.create(endpoint, length: job.size, metadata: meta)
            start = 0
            try await checkpoint(UploadCheckpoint(session: url, confirmedOffset: 0, bytesSent: 0))
        }
        let sent = try await tusSend(client, url: url, job: job, session: url, from: start, checksum: caps.checksum,
                                     checkpoint: checkpoint, progress: progress)
        return PublishOutcome(remoteId: url, url: url, bytesSent: sent)
    }
}
