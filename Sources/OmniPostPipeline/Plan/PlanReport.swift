import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// What `omnipost plan` found, per drop and per target — printed for a person, or as JSON (`--json`)
/// whose field names are stable like the outbox's result files.
package struct PlanReport: Codable, Sendable {
    package var pipeline: String
    package var at: Date
    package var drops: [Drop]
    /// Something the plan could not do as a run would (the captions model not asked), said once.
    package var note: String?

    /// Whether every drop would publish to every one of its targets (a quota or a schedule that makes
    /// a delivery wait is not a failure; a rejected drop or target is).
    package var ok: Bool { drops.allSatisfy { $0.verdict == "publishes" && $0.targets.allSatisfy { $0.state != "failed" } } }

    enum Verdict {
        case publishes, rejected
        /// Would not be decided now (its partner is still arriving, a file changed under it).
        case waits(String)
    }

    package struct Reason: Codable, Sendable {
        package var code: String
        package var message: String
        package var location: String?
    }

    package struct Drop: Codable, Sendable {
        package var drop: String
        package var clip: String?
        package var sidecar: String?
        /// `publishes`, `rejected`, `duplicate` or `waits`.
        package var verdict: String
        package var reason: Reason?
        package var duplicateOf: String?
        package var cover: String?
        /// Which publishing slot `next_slot` took and why, where the schedule chooses the best hour (`slots: [best, …]`).
        package var slotChoice: String?
        package var targets: [Target]
    }

    package struct Target: Codable, Sendable {
        package var target: String
        package var platform: String
        package var account: String
        /// `planned` (it would be sent), `failed` (refused: `error` says why) or `cancelled` (a duplicate).
        package var state: String
        /// `pass`, `remux`, `audio`, `transcode`, or `reject`.
        package var plan: String
        package var why: String?
        package var text: Text?
        /// When the post is to appear, where the platform schedules it itself (`publish_at`).
        package var publishAt: Date?
        /// The slot the schedule gave it (`next_slot`, stagger).
        package var slot: Date?
        /// When the forecast says its upload starts (after its conversion, if any).
        package var goesAt: Date?
        /// What holds it until then, in words.
        package var waits: [String]
        /// Each quota rule once this post went: used of the limit in its window.
        package var quota: [QueueForecast.QuotaUse]
        package var error: Reason?
    }

    package struct Text: Codable, Sendable {
        package var title: String
        package var description: String
        package var tags: [String]
        package var privacy: String
        package var writtenBy: TextWriter?
    }
}

extension PlanReport.Drop {
    init(drop d: DropRecord, verdict: PlanReport.Verdict, deliveries: [DeliveryRecord], times: [Int64: QueueForecast.Entry], manifest: Manifest?) {
        self.drop = d.id
        clip = d.clipPath
        sidecar = d.sidecarPath
        duplicateOf = d.duplicateOf
        switch verdict {
        case .publishes: self.verdict = "publishes"
        case .rejected: self.verdict = d.duplicateOf != nil ? "duplicate" : "rejected"
        case .waits(let why): self.verdict = "waits"; reason = PlanReport.Reason(code: "partner_arrived", message: why)
        }
        if let code = d.reasonCode { reason = PlanReport.Reason(code: code, message: d.reasonMessage ?? "", location: d.reasonLocation) }
        cover = manifest.flatMap { m in m.coverFile.map { "image \($0)" } ?? m.coverAtMs.map { "the frame at \(Double($0) / 1000) s" } }
        targets = deliveries.map { del in
            let meta = try? del.metadata
            let entry = del.id.flatMap { times[$0] }
            let sent = del.state == .planned || del.state == .ready || del.state == .uploading
            let held = del.awaitsApproval
            return PlanReport.Target(
                target: del.target, platform: del.platform, account: del.account, state: sent ? "planned" : del.state.rawValue,
                plan: del.plan.rawValue, why: del.planDetail,
                text: meta.map { PlanReport.Text(title: $0.title, description: $0.description, tags: $0.tags, privacy: $0.privacy.rawValue, writtenBy: $0.writer) },
                publishAt: meta?.publishAt, slot: del.scheduledAt.map { Date(timeIntervalSince1970: $0) },
                goesAt: sent && !held ? entry?.goesAt : nil,
                waits: held ? ["approval: a person approves it first (then its schedule and quota apply)"] : sent ? entry?.waits ?? [] : [],
                quota: sent && !held ? entry?.quotas ?? [] : [],
                error: sent ? nil : del.errorCode.map { PlanReport.Reason(code: $0, message: del.errorMessage ?? "") })
        }
    }
}

extension PlanReport {
    /// For a person: per drop its verdict, per target the plan, the text, and when it would go out.
    package var lines: [String] {
        var out: [String] = []
        if let note { out.append("note: \(note)") }
        for d in drops {
            out.append("drop \(d.drop)  \([d.clip, d.sidecar].compactMap { $0 }.joined(separator: " + "))")
            if let r = d.reason {
                out.append("  \(d.verdict): \(r.location ?? d.sidecar ?? d.clip ?? d.drop): \(r.code): \(r.message)")
            }
            if let cover = d.cover { out.append("  cover: \(cover)") }
            if let slot = d.slotChoice { out.append("  slot: \(slot)") }
            for t in d.targets {
                if t.state != "planned" {
                    out.append("  \(t.target)  not sent: \(t.error.map { "\($0.code): \($0.message)" } ?? t.state)")
                    continue
                }
                out.append("  \(t.target)  \(t.plan)\(t.why.map { " — \($0)" } ?? "")")
                if let text = t.text {
                    if !text.title.isEmpty { out.append("      title: \(text.title)") }
                    if !text.description.isEmpty { out.append("      description: \(text.description.replacingOccurrences(of: "\n", with: " ⏎ "))") }
                    if !text.tags.isEmpty { out.append("      tags: \(text.tags.joined(separator: ", "))") }
                    out.append("      privacy: \(text.privacy)")
                    if let w = text.writtenBy, note == nil {
                        out.append("      written by \(w.model): \(w.wrote.isEmpty ? "nothing used" : w.wrote.joined(separator: ", "))\(w.note.map { " (\($0))" } ?? "")")
                    }
                }
                if let p = t.publishAt { out.append("      appears at \(QueueForecast.stamp(p)) (scheduled on the platform)") }
                if let at = t.goesAt {
                    let now = abs(at.timeIntervalSince(self.at)) < 1
                    out.append("      goes out \(now ? "now" : "at \(QueueForecast.stamp(at))")\(t.plan == "pass" ? "" : ", after its conversion")")
                }
                for w in t.waits { out.append("      waits: \(w)") }
                for q in t.quota { out.append("      quota \(q.rule): \(q.used)/\(q.limit) used once this goes (\(q.cost) each)") }
            }
        }
        out.append(ok ? "plan: every drop publishes" : "plan: something would fail (see above)")
        return out
    }
}
