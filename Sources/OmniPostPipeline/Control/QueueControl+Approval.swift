import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// What a person may change as they approve: the text every target publishes, the time, fewer targets.
package struct ApprovalEdits: Sendable, Equatable {
    package var title: String?
    package var description: String?
    package var tags: [String]?
    package var publishAt: Date?
    /// The targets still to send to (a subset of those waiting); the rest are cancelled.
    package var targets: [String]?
    package init(title: String? = nil, description: String? = nil, tags: [String]? = nil, publishAt: Date? = nil, targets: [String]? = nil) {
        self.title = title
        self.description = description
        self.tags = tags
        self.publishAt = publishAt
        self.targets = targets
    }
    var isEmpty: Bool { self == ApprovalEdits() }
    var fields: [String] {
        [title.map { _ in "title" }, description.map { _ in "description" }, tags.map { _ in "tags" }, publishAt.map { _ in "publish_at" }, targets.map { _ in "targets" }]
            .compactMap { $0 }
    }
}

extension QueueControl {
    /// Approves a drop waiting for approval: each held delivery goes to the queue (or waits for its
    /// schedule), with the edits applied and checked against its target's rules first — an edit a target
    /// refuses refuses the approval, saying why, and nothing changes. Who, when and what is one event.
    package func approve(_ dropId: String, note: String? = nil, edits: ApprovalEdits = ApprovalEdits()) throws -> [String] {
        guard try ledger.drop(dropId) != nil else { throw OmniError(.unknownId, "there is no drop '\(dropId)'") }
        var held = try ledger.awaitingApproval(dropId: dropId)
        guard !held.isEmpty else { throw OmniError(.invalidValue, "drop \(dropId) is not waiting for approval") }
        var lines: [String] = []
        if let keep = edits.targets {
            let unknown = keep.filter { k in !held.contains { $0.target == k } }
            if !unknown.isEmpty {
                throw OmniError(
                    .invalidValue,
                    "drop \(dropId) waits for approval for \(held.map(\.target).joined(separator: ", ")); \(unknown.joined(separator: ", ")) cannot be added at approval (drop it again with that target)"
                )
            }
            if keep.isEmpty { throw OmniError(.invalidValue, "an approval with no targets left is a rejection: reject the drop instead") }
        }
        let rules = try DropRules.forChecking(config)
        let now = ledger.clock.now()
        var release: [Int64: Ledger.ApprovalRelease] = [:]
        for d in held where edits.targets?.contains(d.target) != false {
            guard let t = config.target(named: d.target) else { continue }
            var meta = try d.metadata
            if let v = edits.title { meta.title = v }
            if let v = edits.description { meta.description = v }
            if let v = edits.tags { meta.tags = v }
            var notBefore = d.scheduledAt.flatMap { meta.publishAt == nil && $0 > now.timeIntervalSince1970 ? $0 : nil }
            if let at = edits.publishAt {
                guard at > now else { throw OmniError(.invalidValue, "publish_at \(isoStamp(at)) is in the past") }
                if meta.publishAt != nil { meta.publishAt = at } else { notBefore = at.timeIntervalSince1970 }
            }
            if !edits.isEmpty {
                // The edited text meets the same rules the sidecar's did.
                let profile = try rules.profile(of: t)
                try rules.check(meta, for: t, profile: profile)
                try rules.preflight(t, meta, manifest: Manifest(), at: nil)
            }
            release[d.id!] = Ledger.ApprovalRelease(
                notBefore: notBefore,
                metadataJson: edits.isEmpty ? nil : String(decoding: try JSONCoding.encoder(pretty: false).encode(meta), as: UTF8.self))
        }
        // Targets left out at approval: cancelled, as `omnipost cancel` would.
        if let keep = edits.targets {
            for d in held where !keep.contains(d.target) {
                _ = try ledger.cancelDelivery(d.id!, by: who)
                lines.append("delivery \(d.id!) (\(d.target)) left out at approval: cancelled")
            }
            held = held.filter { keep.contains($0.target) }
        }
        var detail = "approved by \(who)"
        if !edits.isEmpty { detail += "; edited: \(edits.fields.joined(separator: ", "))" }
        if let note, !note.isEmpty { detail += "; note: \(note)" }
        try ledger.approve(dropId: dropId, by: who, detail: detail, release: release)
        try? FileManager.default.removeItem(at: ReviewFile.url(dropId, config.paths))
        lines.append("drop \(dropId) approved: \(held.map(\.target).joined(separator: ", ")) go out\(edits.isEmpty ? "" : " with \(edits.fields.joined(separator: ", ")) edited")")
        return lines
    }

    /// Rejects a drop waiting for approval: its held deliveries fail with `approval_rejected` (or
    /// `approval_expired`) and the note, so the drop goes to failed/ with that reason.
    package func reject(_ dropId: String, note: String? = nil, code: ReasonCode = .approvalRejected) throws -> [String] {
        guard try ledger.drop(dropId) != nil else { throw OmniError(.unknownId, "there is no drop '\(dropId)'") }
        let held = try ledger.awaitingApproval(dropId: dropId)
        guard !held.isEmpty else { throw OmniError(.invalidValue, "drop \(dropId) is not waiting for approval") }
        let message =
            code == .approvalExpired
            ? "nobody approved it within approval.expire_after; nothing was sent"
            : "rejected by \(who)" + (note.map { $0.isEmpty ? "" : ": \($0)" } ?? "") + "; nothing was sent"
        for d in held {
            try ledger.transitionDelivery(d.id!, from: d.state, to: .failed, stage: "control", detail: message) { x in
                x.gate = nil
                x.notBefore = nil
                x.errorCode = code.rawValue
                x.errorMessage = message
            }
        }
        try? FileManager.default.removeItem(at: ReviewFile.url(dropId, config.paths))
        return ["drop \(dropId) \(code == .approvalExpired ? "expired" : "rejected"): \(held.map(\.target).joined(separator: ", ")) not sent"]
    }
}
