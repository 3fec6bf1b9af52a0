import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// After the post (issue 25): each published delivery is read back through its platform's own read
/// endpoint (`PlatformAdapter.readBack`) on `after_post.verify`'s schedule until it shows as asked —
/// `verified`, with what it saw — or an alert with its reason (`not_visible`, `removed_by_platform`,
/// `locked_private`, `privacy_mismatch`). A verified post's numbers are then read on `after_post.metrics`'s
/// schedule into the ledger's time series. It is a loop of its own beside the upload stage: it holds no
/// upload slot, and a slow or refused read never delays an upload.
struct VerifyStage: Stage {
    let name = "verify"
    let ctx: PipelineContext
    var rungBy: Wakeup.Topic { .published }
    /// Read-backs taken per step: a step's reads are a few requests per target (batched by platform).
    static let perStep = 200

    func step() async throws -> Bool {
        try ctx.ledger.enrolPublishedPosts()
        let due = try ctx.ledger.duePostChecks(limit: Self.perStep)
        if due.isEmpty { return false }
        var byTarget: [String: [PostCheckRecord]] = [:]
        for c in due { byTarget[c.target, default: []].append(c) }
        for (target, checks) in byTarget.sorted(by: { $0.key < $1.key }) {
            try await read(target: target, checks)
        }
        return true
    }

    func nextDeadline() throws -> Date? { try ctx.ledger.nextPostCheckDue() }

    /// One target's due read-backs, in the platform's batches.
    func read(target: String, _ checks: [PostCheckRecord]) async throws {
        guard let first = checks.first, let descriptor = PlatformRegistry.descriptor(first.platform) else { return }
        if let why = descriptor.readBack.reason {
            for c in checks {
                let settled = Self.notApplicable(c, why: why)
                try ctx.ledger.recordPostRead(settled, metrics: nil, event: nil)
                try ReadBackReport.update(ctx: ctx, settled)
            }
            return
        }
        // An account's reads share its request windows with its uploads (Reddit's pacing, X's account
        // reads): they wait while one of its uploads is in flight, so a read never delays an upload.
        if try ctx.ledger.isUploading(platform: first.platform, account: first.account) {
            for c in checks { try postpone(c, why: "an upload of \(first.platform):\(first.account) is in flight", after: Self.uploadPause, keepSchedule: false) }
            return
        }
        guard let adapter = ctx.adapters[target] else {
            // The target left the pipeline file: nothing here can read it; asked again at the next schedule step.
            for c in checks { try postpone(c, why: "target \(target) is no longer in the pipeline") }
            return
        }
        var start = 0
        while start < checks.count {
            let batch = Array(checks[start..<min(checks.count, start + descriptor.readBack.batch)])
            start += batch.count
            var refs: [Int64: PostRef] = [:]
            for c in batch {
                let d = try ctx.ledger.delivery(c.deliveryId)
                let meta = try? d?.metadata
                refs[c.deliveryId] = PostRef(
                    remoteId: c.remoteId, url: d?.remoteUrl ?? "", asked: meta?.privacy ?? .public, publishAt: meta?.publishAt)
            }
            // Reads cost quota where the platform counts them (YouTube: a unit each), shown in the quota
            // meters; a read waits for room rather than taking what the next upload needs.
            if let q = descriptor.readBack.quota, let rule = ctx.profiles.quotas[first.platform]?.first(where: { $0.name == q.rule }),
                let wait = try ctx.ledger.spendRead(account: "\(first.platform):\(first.account)", rule: rule, units: q.cost)
            {
                for c in batch { try postpone(c, why: "its \(q.rule) quota keeps its room for uploads until \(isoStamp(wait))", notBefore: wait) }
                continue
            }
            var sightings: [String: Sighting]
            do {
                sightings = try await adapter.readBack(batch.compactMap { refs[$0.deliveryId] })
            } catch {
                // A refused or failed read is not the post's fault: the read is made again at the next step of
                // its schedule (a 429's own time if later); the verification is not failed for it.
                let e = error as? DeliveryError
                ctx.logger.warning(
                    "reading posts back failed",
                    metadata: ["omnipost.target": "\(target)", "omnipost.reason": "\(e?.code.rawValue ?? "network_error")", "error": "\(error)"])
                var later: Date? = nil
                if case .retryAt(let at)? = e?.kind { later = at }
                for c in batch { try postpone(c, why: e?.message ?? "\(error)", notBefore: later) }
                continue
            }
            sightings = try await withInsights(sightings, checks: batch, refs: refs, descriptor: descriptor, adapter: adapter)
            for c in batch {
                guard let ref = refs[c.deliveryId] else { continue }
                try apply(c, ref: ref, sightings[c.remoteId] ?? .absent("the read did not mention \(c.remoteId)"), platform: descriptor.displayName)
            }
        }
    }

    /// What one read means for a post: its verification while pending, its numbers once verified.
    func apply(_ c: PostCheckRecord, ref: PostRef, _ sighting: Sighting, platform: String) throws {
        let now = ctx.now.timeIntervalSince1970
        if c.state == .pending {
            let (read, line) = Self.verification(c, ref: ref, sighting, platform: platform, afterPost: ctx.config.afterPost, now: now)
            try ctx.ledger.recordPostRead(read.check, metrics: read.metrics, event: read.event)
            if let line { ctx.progress.line(line) }
            try ReadBackReport.update(ctx: ctx, read.check)
            return
        }
        var c = c
        c.reads += 1
        try collect(c, sighting, now: now)
    }

    /// What one verification read of a pending post means: its new standing, with the numbers it showed
    /// and the event when it settled, and the progress line that says so. This stage's reads and the
    /// upload stage's first read of a post that asks nobody (`ReadBack.settlesAtPublish`) judge alike.
    static func verification(
        _ c: PostCheckRecord, ref: PostRef, _ sighting: Sighting, platform: String, afterPost: AfterPostConfig, now: Double
    ) -> (read: PostRead, line: String?) {
        var c = c
        c.reads += 1
        let schedule = afterPost.verify
        let lastRead = c.reads >= schedule.count
        let verdict = ReadBackVerdict.judge(sighting, asked: ref, platform: platform, seenBefore: c.shown, lastRead: lastRead)
        if case .seen = sighting { c.shown = true }
        switch verdict {
        case .verified(let seen):
            c.state = .verified
            c.verifiedAt = now
            c.nextReadAt = nil
            c.seenJson = ReadBackReport.json(seen)
            c.detail = "verified live: \(seen.says)"
            c.metricsState = .collecting
            c.metricsStep = 0
            // The verifying read's numbers are the series' first point; the schedule goes on from there.
            c.nextMetricsAt = afterPost.metricsOffset(after: 0).map { max(now, c.publishedAt + $0) }
            if c.nextMetricsAt == nil { c.metricsState = .done }
            return (
                PostRead(check: c, metrics: seen.metrics, event: (.verified, "\(c.target): \(c.detail ?? "")")),
                "  verify              \(c.target) \(c.remoteId): \(seen.says)"
            )
        case .notYet(let why):
            c.detail = why
            c.nextReadAt = lastRead ? nil : c.publishedAt + schedule[c.reads]
            if let at = c.nextReadAt, at < now { c.nextReadAt = now }
            return (PostRead(check: c), nil)
        case .failed(let code, let sentence):
            c.state = .failed
            c.reasonCode = code.rawValue
            c.detail = sentence
            c.nextReadAt = nil
            c.metricsState = .none
            if case .seen(let seen) = sighting { c.seenJson = ReadBackReport.json(seen) }
            return (
                PostRead(check: c, event: (.notVerified, "\(c.target): \(code.rawValue): \(sentence)")),
                "  verify              \(c.target) \(c.remoteId): \(code.rawValue): \(sentence)"
            )
        }
    }

    /// A post with nothing to read back, settled as such (`not_applicable`, with why).
    static func notApplicable(_ c: PostCheckRecord, why: String) -> PostCheckRecord {
        var c = c
        c.state = .notApplicable
        c.reasonCode = nil
        c.detail = "not read back: \(why)"
        c.nextReadAt = nil
        c.nextMetricsAt = nil
        c.metricsState = .none
        return c
    }

    /// A metrics read: the numbers are kept, or — for a post gone or made private — that is recorded
    /// once and nothing more is read (no error loop).
    func collect(_ c: PostCheckRecord, _ sighting: Sighting, now: Double) throws {
        var c = c
        c.nextMetricsAt = nil
        switch sighting {
        case .removed(let says), .absent(let says):
            c.metricsState = .removed
            c.detail = "no longer shown: \(says)"
            try ctx.ledger.recordPostRead(c, metrics: nil, event: (.metricsEnded, "\(c.target) \(c.remoteId): \(c.detail ?? "")"))
        case .seen(let seen) where seen.locked || (seen.privacy == Privacy.private.rawValue && ReadBackReport.seen(c)?.privacy != seen.privacy):
            c.metricsState = .private
            c.detail = "made private: \(seen.says)"
            try ctx.ledger.recordPostRead(c, metrics: seen.metrics, event: (.metricsEnded, "\(c.target) \(c.remoteId): \(c.detail ?? "")"))
        case .seen(let seen):
            c.metricsStep += 1
            if let offset = ctx.config.afterPost.metricsOffset(after: c.metricsStep) {
                c.nextMetricsAt = max(now, c.publishedAt + offset)
            } else {
                c.metricsState = .done
            }
            try ctx.ledger.recordPostRead(c, metrics: seen.metrics, event: nil)
        }
    }

    /// How long reads wait for an account's upload in flight.
    static let uploadPause: Double = 20

    /// A read that could not be made: asked again at the schedule's next step (at least `after` seconds
    /// on), or `notBefore` if later.
    func postpone(_ c: PostCheckRecord, why: String, notBefore: Date? = nil, after: Double = 90, keepSchedule: Bool = true) throws {
        var c = c
        let now = ctx.now.timeIntervalSince1970
        let floor = max(now + after, notBefore?.timeIntervalSince1970 ?? 0)
        if c.state == .pending {
            c.nextReadAt = keepSchedule ? max(floor, c.publishedAt + (ctx.config.afterPost.verify.first { c.publishedAt + $0 > now } ?? 3600)) : floor
        } else {
            c.nextMetricsAt = max(floor, c.nextMetricsAt ?? floor)
        }
        c.detail = "read not made: \(why)"
        try ctx.ledger.recordPostRead(c, metrics: nil, event: nil)
    }
}
