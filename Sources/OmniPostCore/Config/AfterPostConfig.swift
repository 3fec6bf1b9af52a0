import Foundation

/// `after_post:` — reading a published post back (README, "After the post"). `verify` is when each
/// verification read is made, counted from the publish call's answer; a post not shown as asked by the
/// last is `not_visible`. `metrics` is when its numbers are read after it was verified; after the last,
/// they are read every `metrics_every` until `metrics_until`. `metrics: []` reads none.
package struct AfterPostConfig: Sendable, Equatable {
    /// Offsets from publishing, seconds: the first read at once, then further apart (processing takes minutes).
    package var verify: [Double] = [0, 30, 120, 300, 900, 1800, 3600, 7200]
    /// Offsets from publishing, seconds: 1 h, 6 h, 24 h, 3 d, 7 d.
    package var metrics: [Double] = [3600, 6 * 3600, 86_400, 3 * 86_400, 7 * 86_400]
    /// After `metrics`, one read every week…
    package var metricsEvery: Double = 7 * 86_400
    /// …until the post is this old (90 days).
    package var metricsUntil: Double = 90 * 86_400

    package init() {}

    /// When the read after `done` metrics reads is due, as an offset from publishing; nil when the schedule is over.
    package func metricsOffset(after done: Int) -> Double? {
        if done < metrics.count { return metrics[done] }
        guard let last = metrics.last, metricsEvery > 0 else { return nil }
        let next = last + Double(done - metrics.count + 1) * metricsEvery
        return next <= metricsUntil ? next : nil
    }

    static func parse(_ node: DocNode) throws -> AfterPostConfig {
        var c = AfterPostConfig()
        let m = try node.mapping(allowed: ["verify", "metrics", "metrics_every", "metrics_until"])
        if let v = m["verify"] {
            c.verify = try offsets(v)
            if c.verify.isEmpty { throw v.fail("verify needs at least one read (its first offset may be 0s)") }
        }
        if let v = m["metrics"] { c.metrics = try offsets(v) }
        if let v = m["metrics_every"] { c.metricsEvery = try v.duration().seconds }
        if let v = m["metrics_until"] { c.metricsUntil = try v.duration().seconds }
        return c
    }

    /// A list of durations that only grows (`[0s, 30s, 2m]`).
    static func offsets(_ node: DocNode) throws -> [Double] {
        var out: [Double] = []
        for n in try node.sequence() {
            let s = try n.duration().seconds
            if let last = out.last, s <= last { throw n.fail("each offset comes after the one before it") }
            out.append(s)
        }
        return out
    }
}
