import Foundation
import Hummingbird
import OmniPostCore

/// Display API `POST /v2/video/query/?fields=…` (https://developers.tiktok.com/doc/tiktok-api-v2-video-query):
/// `filters.video_ids` of the token's own videos, at most 20; `fields` is required and names what each
/// video carries (`id`, `create_time`, `share_url`, `view_count`, `like_count`, `comment_count`,
/// `share_count`…, integers). A video the creator does not have is not among `data.videos`.
extension TikTokRoutes {
    static let queryFields: Set<String> = [
        "id", "create_time", "cover_image_url", "share_url", "video_description", "duration", "height", "width", "title",
        "embed_html", "embed_link", "like_count", "comment_count", "share_count", "view_count"
    ]

    static func addVideoQuery(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.post("/v2/video/query/") { req, _ -> Response in
            await state.count("tiktok.query")
            guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) else {
                return envelope(.unauthorized, code: "access_token_invalid", message: "The access token is invalid or not found in the request.")
            }
            let fields = Set((SandboxHTTP.query(req, "fields") ?? "").split(separator: ",").map(String.init))
            guard !fields.isEmpty else { return envelope(.badRequest, code: "invalid_params", message: "fields is required") }
            if let bad = fields.first(where: { !queryFields.contains($0) }) {
                return envelope(.badRequest, code: "invalid_params", message: "unknown field: \(bad)")
            }
            var req = req
            let body = try await req.collectBody(upTo: 64 * 1024)
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any]
            guard let ids = (json?["filters"] as? [String: Any])?["video_ids"] as? [String], !ids.isEmpty, ids.count <= 20 else {
                return envelope(.badRequest, code: "invalid_params", message: "filters.video_ids takes 1 to 20 ids")
            }
            var videos: [[String: Any]] = []
            for id in ids {
                guard let v = await state.allVideos().last(where: { $0.platform == "tiktok" && $0.id == id && $0.account == account }),
                    let life = await state.postLife(platform: "tiktok", id: id), life.found
                else { continue }
                let n = life.numbers
                let all: [String: Any] = [
                    "id": v.id, "create_time": Int(v.receivedAt.timeIntervalSince1970), "title": v.title, "video_description": v.title,
                    "share_url": "https://www.tiktok.com/@sandbox/video/\(v.id)", "duration": 30, "height": 1920, "width": 1080,
                    "view_count": n.views, "like_count": n.likes, "comment_count": n.comments, "share_count": n.shares
                ]
                videos.append(all.filter { fields.contains($0.key) })
            }
            return envelope(.ok, data: ["videos": videos, "cursor": 0, "has_more": false])
        }
    }
}
