import Foundation
import NIOCore
import OmniPostCore

/// An archive's numbers from the open platform's data service (数据开放服务 › 视频数据 › 获取单个稿件数据:
/// `GET /arcopen/fn/data/arc/stat?resource_id=…`, the open platform's documentation as its apifox mirror
/// keeps it), one archive a call: `view`, `danmaku`, `reply`, `favorite`, `coin`, `share`, `like`, each a
/// lifetime count. `view` is our views, `like` our likes, `share` our shares, `favorite` (收藏) our saves;
/// our comments are the archive's replies (评论) and its danmaku (弹幕) together — both are viewers' written
/// comments, one under the video and one over it, as Threads' shares are its reposts and quotes together.
/// A coin (投币) has no counterpart among our metrics and is not kept. The call needs the `ARC_DATA`
/// scope (the open platform's data permission); without it Bilibili answers -403.
extension BilibiliAdapter {
    package func readInsights(_ posts: [PostRef]) async throws -> [String: PostMetrics] {
        var out: [String: PostMetrics] = [:]
        for p in posts {
            let r = try await api.send(url: url("data/arc/stat", [("resource_id", p.remoteId)]), method: .GET, headers: [], body: ByteBuffer())
            switch BilibiliErrors.code(r) ?? 0 {
            case -404: continue
            case -403:
                throw DeliveryError(
                    .permanent, .insightsNotGranted,
                    "Bilibili refused data/arc/stat for \(p.remoteId) (-403 \(Self.message(r))): the grant lacks ARC_DATA; connect the account again (omnipost accounts add) to read views, likes, replies, danmaku, favorites and shares",
                    httpStatus: r.status)
            default: break
            }
            let s = try Self.envelope(r, BilibiliWire.ArchiveStat.self, during: "reading the archive's numbers (data/arc/stat)")
            let written = [s.reply, s.danmaku].compactMap { $0 }
            out[p.remoteId] = PostMetrics(
                views: s.view, likes: s.like, comments: written.isEmpty ? nil : written.reduce(0, +), shares: s.share, saves: s.favorite)
        }
        return out
    }
}

extension BilibiliWire {
    /// 稿件数据: lifetime counts of the archive.
    struct ArchiveStat: Decodable {
        var view: Int64?
        var danmaku: Int64?
        var reply: Int64?
        var favorite: Int64?
        var coin: Int64?
        var share: Int64?
        var like: Int64?
    }
}
