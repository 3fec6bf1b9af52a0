import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

extension ValidateStage {
    /// 3½. What a language model writes for each target, when the drop asks (`ai:`): asked per target
    /// within its profile, kept in the ledger before use. Targets whose question is the same (the same
    /// platform and rules) share one answer. Never throws: what fails is a note on the target.
    func writeText(_ drop: DropRecord, targets: [TargetConfig], sidecar: Sidecar, source: Source, rules: DropRules) async -> [String: CaptionWriter.Outcome] {
        let manifest = sidecar.manifest
        guard let ask = CaptionWriter.ask(manifest, defaults: ctx.config.defaults) else { return [:] }
        let writer = CaptionWriter(config: ctx.config.captions, ledger: ctx.ledger)
        let vars = templateVariables(drop: drop, source: source, manifest: manifest)
        let clip = CaptionWriter.Brief.Clip(
            name: (source.name as NSString).lastPathComponent, durationS: source.durationS.rounded(), width: source.width, height: source.height)
        var out: [String: CaptionWriter.Outcome] = [:]
        var asked: [Data: CaptionWriter.Outcome] = [:]
        for t in targets {
            // A target whose own text does not pass, whose clip it refuses, or that already has this content
            // (a duplicate, unless `republish`) publishes nothing new: nothing to ask, nothing to pay for.
            guard let profile = try? rules.profile(of: t), source.plan(profile).kind != .reject,
                let draft = try? rules.draft(for: t, manifest: manifest, vars: vars, profile: profile)
            else { continue }
            if !manifest.republish, let prior = try? ctx.ledger.priorDelivery(contentSha256: source.sha256, target: t.name, excludingDrop: drop.id),
                prior.state != .failed
            {
                continue
            }
            let question = CaptionWriter.ask(ask, for: t.platform)
            guard question.asksAnything else { continue }
            let request = CaptionWriter.request(
                platform: t.platform, ask: question, draft: draft, rules: profile.text, fields: manifest.fields, clip: clip, config: ctx.config.captions)
            let key = (try? JSONCoding.encoder(pretty: false).encode(request)) ?? Data()
            if let same = asked[key], same.content != nil {
                // Kept under this target too, so a restart finds it for each.
                out[t.name] = await writer.answer(dropId: drop.id, target: t.name, reusing: same, request: request)
                continue
            }
            let outcome = await writer.answer(dropId: drop.id, target: t.name, request: request)
            asked[key] = outcome
            out[t.name] = outcome
        }
        return out
    }
}
