import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostMedia
import OmniPostPlatforms

/// A delivery's upload job as the ledger records it: the rendition, what to publish, the persisted
/// session, and its drop's facts. The upload stage runs it; `cancel` hands it to `abandon`.
enum DeliveryJob {
    /// `drop`: the delivery's drop, when the caller has read it already.
    static func make(_ d: DeliveryRecord, ledger: Ledger, inbox: URL, work: URL? = nil, drop known: DropRecord? = nil) throws -> UploadJob {
        guard let id = d.id, let path = d.renditionPath, let size = d.renditionBytes else {
            throw OmniError(.internalError, "delivery \(d.id ?? 0) has no rendition")
        }
        let meta = try d.metadata
        var job = UploadJob(
            deliveryId: id, filePath: path, size: size, contentType: MediaTypes.video(forPath: path), metadata: meta,
            session: d.remoteSession, confirmedOffset: d.confirmedOffset, coverPath: d.coverPath)
        job.expectedSha256 = d.renditionSha256
        job.expectedDigest = d.renditionXxh3.map { FileDigest(.xxh3_128, $0) }
        // Named, not made: only an adapter that hands the file to a program makes it (`CommandAdapter`). Made
        // here for every upload, it was a new folder's inode (and its removal at filing) for each drop,
        // a pass-through's included (issue 30).
        if let work { job.scratchDirectory = work.appendingPathComponent(d.dropId).path }
        switch d.sessionPolicy {
        case .retry: job.sessionReuse = .replaceIfFailed
        case .carried: job.sessionReuse = .replaceUnlessLive
        case .handover, nil: job.sessionReuse = .resume
        }
        if let drop = try known ?? ledger.drop(d.dropId) {
            job.drop = DropFacts(
                dropId: drop.id, target: d.target, stem: drop.stem, source: drop.clipPath ?? "",
                sidecarPath: drop.sidecarPath.map { inbox.appendingPathComponent($0).path },
                takenAt: Date(timeIntervalSince1970: drop.createdAt), sourceSha256: drop.clipSha256)
            if let probe = try? drop.probe {
                if let v = probe.video { job.frame = (v.width, v.height) }
                job.durationS = probe.durationS
            }
        }
        return job
    }
}
