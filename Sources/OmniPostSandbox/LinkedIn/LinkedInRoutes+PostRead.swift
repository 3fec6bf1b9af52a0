import Foundation
import Hummingbird
import OmniPostCore

/// `GET /rest/posts/{encoded post URN}` (Posts API, https://learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api):
/// the post with its `visibility` (`PUBLIC`, `CONNECTIONS`, `LOGGED_IN`) and `lifecycleState`
/// (`PUBLISHED`); a post that is gone answers 404. The versioned headers are required, as on every /rest call.
extension LinkedInRoutes {
    static func addPostRead(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.get("/rest/posts/:urn") { req, ctx -> Response in
            await state.count("linkedin.post")
            guard await account(req, state) != nil else { return unauthorized }
            if let v = versionProblem(req) { return v }
            let urn = (ctx.parameters.get("urn") ?? "").removingPercentEncoding ?? ""
            guard let p = await state.linkedinPosts.first(where: { $0.urn == urn }), let life = await state.postLife(platform: "linkedin", id: urn),
                life.found
            else {
                return error(404, "Not Found", code: "NOT_FOUND")
            }
            return SandboxHTTP.json(
                .ok,
                [
                    "id": p.urn, "author": p.author, "commentary": p.commentary, "visibility": await state.shownPrivacy(life, posted: p.visibility),
                    "lifecycleState": "PUBLISHED", "content": ["media": ["id": p.video, "title": p.title]],
                    "createdAt": Int(p.created.timeIntervalSince1970 * 1000), "publishedAt": Int(p.created.timeIntervalSince1970 * 1000)
                ])
        }
    }
}
