import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// A read-back's outcome where people and tools read it: the drop's result JSON (its target's
/// `verified`), rewritten when the verification settles after the drop was archived.
enum ReadBackReport {
    static func json(_ seen: SeenPost) -> String? {
        (try? JSONCoding.encoder(pretty: false).encode(seen)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// What the verifying read saw, as it was kept.
    static func seen(_ c: PostCheckRecord) -> SeenPost? {
        c.seenJson.flatMap { try? JSONCoding.decoder().decode(SeenPost.self, from: Data($0.utf8)) }
    }

    /// Held while a result JSON's verifications are read from the ledger and written: by the archive
    /// stage writing the file, and by `update` rewriting it. Without it an archive could read a check
    /// still pending, the check settle and find no file yet to update, and the archive then write the
    /// stale `pending` for good.
    static let resultFileLock = NSLock()

    /// Rewrites the target's `verified` in the drop's result JSON, if the drop has one already (an
    /// archive after this point writes it from the ledger, under the same lock).
    static func update(ctx: PipelineContext, _ c: PostCheckRecord) throws {
        guard let d = try ctx.ledger.delivery(c.deliveryId) else { return }
        let url = ctx.paths.outbox.appendingPathComponent("\(d.dropId).result.json")
        try resultFileLock.withLock {
            guard let data = try? Data(contentsOf: url), var report = try? JSONCoding.decoder().decode(DropReport.self, from: data) else { return }
            guard let i = report.targets.firstIndex(where: { $0.target == c.target }) else { return }
            report.targets[i].verified = DropReport.Verified(c)
            try report.write(to: url)
        }
    }
}

extension DropReport.Verified {
    init(state: String) { self.init(state: state, at: nil, saw: nil, reason: nil) }

    init(_ c: PostCheckRecord) {
        let seen = ReadBackReport.seen(c)
        self.init(
            state: c.state.rawValue, at: (c.verifiedAt ?? (c.state == .pending ? nil : c.updatedAt)).map { Date(timeIntervalSince1970: $0) },
            saw: seen?.says ?? c.detail, reason: c.reasonCode.map { DropReport.Reason(code: $0, message: c.detail ?? "", location: nil) })
    }
}
