import Foundation
import OmniPostCore

extension PostStats {
    package func json() throws -> String { String(decoding: try JSONCoding.encoder().encode(self), as: UTF8.self) }

    static func num(_ v: Double?, _ digits: Int = 1) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "" }
    static func int(_ v: Int64?) -> String { v.map(String.init) ?? "" }
    static func mib(_ bytesPerSecond: Double?) -> String { num(bytesPerSecond.map { $0 / 1_048_576 }, 2) }

    /// Three CSV tables, each with its header, separated by an empty line: accounts, posts, best times.
    package func csv() -> String {
        var out = CSV.line([
            "platform", "account", "posts", "failed", "success_rate", "median_upload_s", "p95_upload_s", "median_bytes_per_s", "p95_bytes_per_s",
            "rate_limit_hits", "failures_by_reason", "last_success"
        ])
        for a in accounts {
            out += CSV.line([
                a.platform, a.account, String(a.posts), String(a.failed), Self.num(a.successRate, 4), Self.num(a.medianUploadSeconds, 3),
                Self.num(a.p95UploadSeconds, 3), Self.num(a.medianSpeed, 0), Self.num(a.p95Speed, 0), String(a.rateLimitHits),
                a.failuresByReason.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "), a.lastSuccess.map(isoStamp) ?? ""
            ])
        }
        out +=
            "\r\n"
            + CSV.line([
                "delivery", "target", "remote_id", "published_at", "verified", "reason", "read_at", "views", "likes", "comments", "shares", "saves", "watch_s", "avg_view_s",
                "engagement_rate", "reach"
            ])
        for p in posts {
            let m = p.metrics
            out += CSV.line([
                String(p.delivery), p.target, p.remoteId ?? "", isoStamp(p.publishedAt), p.verified ?? "", p.reason ?? "", p.readAt.map(isoStamp) ?? "",
                Self.int(m.views), Self.int(m.likes), Self.int(m.comments), Self.int(m.shares), Self.int(m.saves), Self.num(m.watchSeconds),
                Self.num(m.averageViewSeconds), Self.num(p.engagementRate, 4), Self.int(m.reach)
            ])
        }
        out += "\r\n" + CSV.line(["account", "hour_of_week", "slot", "sample", "mean_engagement_rate", "recommended"])
        for b in bestTimes {
            for s in b.slots {
                out += CSV.line([b.account, String(s.hourOfWeek), s.label, String(s.sample), Self.num(s.meanEngagementRate, 4), s == b.recommended ? "yes" : ""])
            }
        }
        return out
    }

    package func text() -> String {
        var lines = ["since \(isoStamp(since))", ""]
        for a in accounts {
            let rate = a.successRate.map { String(format: "%.1f%%", $0 * 100) } ?? "–"
            lines.append("\(a.platform):\(a.account)  \(a.posts) published, \(a.failed) failed (\(rate) success), \(a.rateLimitHits) rate-limit hits")
            if let m = a.medianUploadSeconds {
                lines.append(
                    "  upload: median \(Self.num(m)) s, p95 \(Self.num(a.p95UploadSeconds)) s; "
                        + "speed median \(Self.mib(a.medianSpeed)) MiB/s, p95 \(Self.mib(a.p95Speed)) MiB/s")
            }
            if !a.failuresByReason.isEmpty {
                lines.append("  failures: " + a.failuresByReason.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
            lines.append("  last success: \(a.lastSuccess.map(isoStamp) ?? "none")")
        }
        if !posts.isEmpty { lines += ["", "posts (latest numbers; engagement = interactions / views)"] }
        for p in posts {
            let m = p.metrics
            let numbers = [("views", m.views), ("likes", m.likes), ("comments", m.comments), ("shares", m.shares), ("saves", m.saves), ("reached", m.reach)]
                .compactMap { n, v in v.map { "\($0) \(n)" } }.joined(separator: ", ")
            let rate = p.engagementRate.map { String(format: "%.2f%%", $0 * 100) } ?? "–"
            lines.append(
                "  \(p.target) \(p.remoteId ?? "?")  \(p.verified ?? "not read back")\(p.reason.map { " (\($0))" } ?? "")  \(numbers.isEmpty ? "no numbers" : numbers)  engagement \(rate)"
            )
        }
        if !bestTimes.isEmpty { lines += ["", "best posting times (hour of week, \(zone); at least \(minimumSample) posts before one is recommended)"] }
        for b in bestTimes {
            if let r = b.recommended {
                lines.append("  \(b.account): \(r.label) — \(String(format: "%.2f%%", r.meanEngagementRate * 100)) over \(r.sample) posts")
            } else {
                let most = b.slots.map(\.sample).max() ?? 0
                lines.append("  \(b.account): no recommendation yet (the fullest hour has \(most) of \(minimumSample) posts)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
