import Foundation
import Hummingbird
import OmniPostCore

/// `POST /api/douyin/v1/video/video_data/` (Douyin open platform, 查询特定视频的视频数据; scope
/// `video.data`): `item_ids` of the caller's own items, at most 20; `data.list` holds the items found,
/// each with `video_status` (1 published, 2 not suitable for the public, 4 under review) and
/// `statistics` (`play_count`, `digg_count`, `comment_count`, `share_count`, `download_count`,
/// `forward_count`, integers). An item Douyin no longer shows is left out.
extension DouyinRoutes {
    static func addVideoData(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.post("/api/douyin/v1/video/video_data/") { req, _ -> Response in
            await state.count("douyin.data")
            return try await asCaller(req, state) { account in
                var req = req
                let body = try await req.collectBody(upTo: 64 * 1024)
                let json = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any]
                guard let ids = json?["item_ids"] as? [String], (1...20).contains(ids.count) else {
                    return reply(code: 2_100_005, "参数不合法: item_ids takes 1 to 20 ids")
                }
                let mine = Set(await state.douyinItems(of: account).map(\.id))
                var list: [[String: Any]] = []
                for id in ids where mine.contains(id) {
                    guard let life = await state.postLife(platform: "douyin", id: id), life.fate != .hidden else { continue }
                    let n = life.numbers
                    let status: Int
                    switch life.fate {
                    case .locked, .privacy: status = 2
                    default: status = life.takenDown ? 2 : 1
                    }
                    list.append([
                        "item_id": id, "video_status": status, "is_reviewed": true,
                        "statistics": [
                            "play_count": n.views, "digg_count": n.likes, "comment_count": n.comments, "share_count": n.shares,
                            "download_count": 0, "forward_count": 0
                        ]
                    ])
                }
                return reply(["list": list])
            }
        }
    }
}
