import Foundation
import OmniPostCore

/// A member's post's numbers from the Member Post Statistics API (`GET /rest/memberCreatorPostAnalytics
/// ?q=entity&entity=(share:urn)&queryType=…&aggregation=TOTAL`, learn.microsoft.com/linkedin/marketing/
/// community-management/members/post-statistics): one metric a call, its lifetime `count` in
/// `elements[0]`. IMPRESSION is our views (LinkedIn counts a post's impressions, not plays),
/// MEMBERS_REACHED our reach, REACTION our likes, COMMENT our comments, RESHARE our shares. It needs
/// `r_member_postAnalytics`, the one read permission documented for a member's own posts that
/// Community Management apps are granted; `socialActions`/`socialMetadata` need `r_member_social`, which
/// LinkedIn keeps closed, and `organizationalEntityShareStatistics` is for an organization's posts
/// (`rw_organization_admin`), not the member posts OmniPost makes by default.
extension LinkedInAdapter {
    /// Our metric for each of LinkedIn's query types, in the order they are asked.
    static let postStatistics: [(queryType: String, set: @Sendable (inout PostMetrics, Int64) -> Void)] = [
        ("IMPRESSION", { $0.views = $1 }), ("MEMBERS_REACHED", { $0.reach = $1 }), ("REACTION", { $0.likes = $1 }),
        ("COMMENT", { $0.comments = $1 }), ("RESHARE", { $0.shares = $1 })
    ]

    package func readInsights(_ posts: [PostRef]) async throws -> [String: PostMetrics] {
        var out: [String: PostMetrics] = [:]
        posts: for p in posts {
            // Rest.li's entity union: the member of the URN's kind (`share` or `ugcPost`), the URN encoded.
            let kind = p.remoteId.hasPrefix("urn:li:ugcPost:") ? "ugcPost" : "share"
            var m = PostMetrics()
            for (queryType, set) in Self.postStatistics {
                let r = try await rest(
                    "/rest/memberCreatorPostAnalytics?q=entity&entity=(\(kind):\(Self.encodeURN(p.remoteId)))&queryType=\(queryType)&aggregation=TOTAL")
                if r.status == 404 { continue posts }
                if r.status == 403 {
                    throw DeliveryError(
                        .permanent, .insightsNotGranted,
                        "LinkedIn refused memberCreatorPostAnalytics for \(p.remoteId) (403 \(r.decoded(LinkedInWire.Failure.self)?.message ?? "")): the grant lacks r_member_postAnalytics; connect the account again (omnipost accounts add) to read impressions, reach, reactions, comments and reshares",
                        httpStatus: 403)
                }
                guard r.status == 200, let page = r.decoded(LinkedInWire.PostStatistics.self) else {
                    throw Self.classify(r, during: "reading the post's \(queryType) (memberCreatorPostAnalytics)")
                }
                set(&m, page.elements.first?.count ?? 0)
            }
            out[p.remoteId] = m
        }
        return out
    }
}

extension LinkedInWire {
    /// The finder's page: `{"elements": [{"count": n, "metricType": {"com.linkedin…MetricTypeV1": "IMPRESSION"}}], "paging": …}`.
    struct PostStatistics: Decodable {
        struct Element: Decodable {
            var count: Int64?
        }
        var elements: [Element]
    }
}
