import Foundation
import NIOCore
import OmniPostCore

/// The video service's upload as the engine's transport: one part, the whole file, streamed from its
/// pinned descriptor to `app.bsky.video.uploadVideo` with a service-auth token. The part is confirmed
/// once the service answers a job (or, for bytes it already has, `already_exists` with the blob). A
/// 5xx or a connection cut mid-body is sent again by the chunk loop (`PartRetry`): the same bytes are
/// answered `already_exists`, so a repeat makes no second video.
struct BlueskyVideoUpload: UploadProtocol {
    typealias Session = BlueskyAdapter.Session
    let xrpc: BlueskyXRPC
    let pds: String
    let videoService: String

    var streamsWholeFile: Bool { true }

    func nextPart(of s: Session, confirmed: Int64, size: Int64) -> Part? {
        s.jobId == nil && s.blob == nil ? Part(index: 0, offset: 0, length: size) : nil
    }

    func send(_ part: Part, _ bytes: ByteBuffer, session s: inout Session, job: UploadJob) async throws -> PartReply {
        let pinned: PinnedFile
        do { pinned = try PinnedFile(path: job.filePath, size: job.size, expected: job.changeCheck) } catch let e as OmniError {
            throw DeliveryError(.permanent, e.code == .sourceChanged ? .sourceChanged : .unreadable, e.message)
        }
        let did = try await xrpc.session.current().did
        let token = try await xrpc.serviceToken(pds: pds, aud: BlueskyXRPC.didWeb(pds), lxm: "com.atproto.repo.uploadBlob")
        let name = (job.filePath as NSString).lastPathComponent
        let r = try await xrpc.call(
            .POST, videoService, "app.bsky.video.uploadVideo", query: [("did", did), ("name", name)],
            body: .file(pinned, contentType: job.contentType), auth: .bearer(token))
        let status = r.decoded(BlueskyWire.JobStatusReply.self)?.jobStatus ?? r.decoded(BlueskyWire.JobStatus.self)
        guard r.status == 200 || r.error == "already_exists" || status?.error == "already_exists" else {
            throw BlueskyXRPC.failure(r, "uploading the video")
        }
        if let blob = status?.blob { s.blob = BlueskyAdapter.text(blob) }
        s.jobId = status?.jobId
        guard s.blob != nil || s.jobId != nil else { throw DeliveryError(.retryNow, .platformError, "the video service answered neither a job nor a blob") }
        return .confirmed(job.size)
    }
}
