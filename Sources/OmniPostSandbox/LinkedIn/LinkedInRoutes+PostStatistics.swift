import Foundation
import Hummingbird
import OmniPostCore

/// `GET /rest/memberCreatorPostAnalytics?q=entity&entity=(share:{urn})&queryType=…&aggregation=TOTAL`
/// (Member Post Statistics, learn.microsoft.com/linkedin/marketing/community-management/members/post-statistics):
/// the authenticated member's post's lifetime count of one metric — IMPRESSION, MEMBERS_REACHED, RESHARE,
/// REACTION or COMMENT — as `{"paging", "elements": [{"count", "metricType": {"com.linkedin.adsexternalapi.
/// memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1": name}}]}`. The entity is a Rest.li union
/// (`share:` or `ugcPost:` and the encoded URN); DAILY needs a `dateRange`, which this sandbox does not
/// serve, so it asks for TOTAL. A grant without `r_member_postAnalytics` (`SandboxState.withholdInsights`)
/// is LinkedIn's 403 ACCESS_DENIED; a post the member does not have is 404.
extension LinkedInRoutes {
    static let postMetricTypes: Set<String> = ["IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT"]
    static let metricTypeKey = "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1"

    static func addPostStatistics(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.get("/rest/memberCreatorPostAnalytics") { req, _ -> Response in
            await state.count("linkedin.postAnalytics")
            guard let account = await account(req, state) else { return unauthorized }
            if let v = versionProblem(req) { return v }
            guard SandboxHTTP.query(req, "q") == "entity" else { return error(400, "Unsupported finder; this sandbox serves q=entity", code: "ILLEGAL_ARGUMENT") }
            let queryType = SandboxHTTP.query(req, "queryType") ?? ""
            guard postMetricTypes.contains(queryType) else {
                return error(400, "queryType must be one of \(postMetricTypes.sorted().joined(separator: ", "))", code: "ILLEGAL_ARGUMENT")
            }
            guard SandboxHTTP.query(req, "aggregation") == "TOTAL" else {
                return error(400, "aggregation DAILY requires dateRange; use TOTAL", code: "ILLEGAL_ARGUMENT")
            }
            // `(share:urn:li:share:7…)` once the query is decoded: the union's member names the URN's kind.
            let raw = SandboxHTTP.query(req, "entity") ?? ""
            let entity = raw.removingPercentEncoding ?? raw
            guard entity.hasPrefix("("), entity.hasSuffix(")"), let colon = entity.firstIndex(of: ":") else {
                return error(400, "entity must be a Rest.li union such as (share:urn%3Ali%3Ashare%3A…)", code: "ILLEGAL_ARGUMENT")
            }
            let kind = String(entity[entity.index(after: entity.startIndex)..<colon])
            let urn = String(entity[entity.index(after: colon)..<entity.index(before: entity.endIndex)])
            guard ["share", "ugcPost"].contains(kind), urn.hasPrefix("urn:li:\(kind):") else {
                return error(400, "entity (\(kind):\(urn)) does not name a share or ugcPost of that kind", code: "ILLEGAL_ARGUMENT")
            }
            if await state.insightsWithheld(platform: "linkedin") {
                return error(403, "Not enough permissions to access: memberCreatorPostAnalytics.FINDER-entity", code: "ACCESS_DENIED", service: 100)
            }
            guard await state.linkedinPosts.contains(where: { $0.urn == urn && $0.account == account }),
                let life = await state.postLife(platform: "linkedin", id: urn), life.found
            else {
                return error(404, "Not Found", code: "NOT_FOUND")
            }
            let n = life.numbers
            let count: Int64 =
                switch queryType {
                case "IMPRESSION": n.views
                case "MEMBERS_REACHED": n.reach
                case "RESHARE": n.shares
                case "REACTION": n.likes
                default: n.comments
                }
            return SandboxHTTP.json(
                .ok,
                [
                    "paging": ["start": 0, "count": 10, "links": [] as [Any]],
                    "elements": [["count": count, "metricType": [metricTypeKey: queryType]]]
                ])
        }
    }
}
