import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// The numbers a platform's read-back endpoint lacks, from its second API (`descriptor.insights`: YouTube
/// Analytics, a Graph media's insights), read at the same moments as the read-back's numbers and merged into
/// the same reading. Only posts whose numbers this read records are asked (a verified post on its metrics
/// schedule, or the read that verifies one). A grant without the API's permission is recorded once for the
/// account and not asked again; a refused or failed call leaves this reading with the read-back's numbers.
extension VerifyStage {
    /// `sightings` with each `.seen` post's numbers filled from the platform's insights.
    func withInsights(
        _ sightings: [String: Sighting], checks: [PostCheckRecord], refs: [Int64: PostRef], descriptor: PlatformDescriptor, adapter: any PlatformAdapter
    ) async throws -> [String: Sighting] {
        guard let insights = descriptor.insights, let first = checks.first else { return sightings }
        let key = "\(first.platform):\(first.account)"
        if try ctx.ledger.insightRefusal(account: key) != nil { return sightings }
        let wanted = checks.filter { c in
            guard let ref = refs[c.deliveryId], let s = sightings[c.remoteId], case .seen = s else { return false }
            if c.state == .verified { return c.metricsState == .collecting }
            guard c.state == .pending else { return false }
            if case .verified = ReadBackVerdict.judge(s, asked: ref, platform: descriptor.displayName, seenBefore: c.shown, lastRead: false) { return true }
            return false
        }
        var numbers: [String: PostMetrics] = [:]
        var start = 0
        while start < wanted.count {
            let batch = Array(wanted[start..<min(wanted.count, start + insights.batch)])
            start += batch.count
            // Each call spends the account's rule for this API (YouTube Analytics' own quota), shown in the
            // quota meters. No upload spends a request rule (`on:`), so nothing is kept back for one.
            if let q = insights.quota, var rule = ctx.profiles.quotas[first.platform]?.first(where: { $0.name == q.rule }) {
                if rule.on != nil { rule.cost = 0 }
                if let wait = try ctx.ledger.spendRead(account: key, rule: rule, units: q.cost) {
                    ctx.logger.info(
                        "insights not read: quota spent",
                        metadata: ["omnipost.account": "\(key)", "omnipost.rule": "\(q.rule)", "omnipost.until": "\(isoStamp(wait))"])
                    continue
                }
            }
            do {
                numbers.merge(try await adapter.readInsights(batch.compactMap { refs[$0.deliveryId] })) { a, _ in a }
            } catch let e as DeliveryError where e.code == .insightsNotGranted {
                if try ctx.ledger.recordInsightRefusal(account: key, api: insights.api, detail: e.message, deliveryId: batch.first?.deliveryId) {
                    ctx.progress.line("  verify              \(key): \(e.code.rawValue): \(e.message)")
                }
                break
            } catch {
                ctx.logger.warning(
                    "reading insights failed", metadata: ["omnipost.account": "\(key)", "omnipost.api": "\(insights.api)", "error": "\(error)"])
            }
        }
        guard !numbers.isEmpty else { return sightings }
        var out = sightings
        for (id, extra) in numbers {
            guard case .seen(var seen)? = out[id] else { continue }
            seen.metrics = seen.metrics.map { $0.filled(from: extra) } ?? extra
            out[id] = .seen(seen)
        }
        return out
    }
}
