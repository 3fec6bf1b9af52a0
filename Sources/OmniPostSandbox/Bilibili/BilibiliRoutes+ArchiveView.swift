import Foundation
import Hummingbird
import OmniPostCore

/// `GET /arcopen/fn/archive/view?resource_id=…` (Bilibili open platform, 稿件详情): the caller's archive
/// with its `state` (0 open to all; -30 submitted, being processed; -2 sent back by review; -4 locked)
/// and `state_desc`. An archive the caller does not have is code -404.
extension BilibiliRoutes {
    static func addArchiveView(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.get("/arcopen/fn/archive/view") { req, _ -> Response in
            await state.count("bilibili.view")
            return try await asCaller(req, state) { account in
                let (found, refusal) = await archive(req, state, of: account) { $0.fate != .hidden }
                guard let (a, life) = found else { return refusal }
                let (st, desc): (Int, String) =
                    life.takenDown ? (-2, "已退回") : life.fate == .locked ? (-4, "已锁定") : (0, "开放浏览")
                return reply([
                    "resource_id": a.id, "title": a.title, "cover": a.cover, "tid": a.tid, "ctime": Int64(a.created.timeIntervalSince1970),
                    "state": st, "state_desc": desc
                ])
            }
        }
    }
}

extension BilibiliRoutes {
    /// The caller's archive `resource_id` names and its life, when a read of this kind shows it (`shown`);
    /// otherwise Bilibili's refusal: -400 without the parameter, -404 for an archive it does not show.
    static func archive(
        _ req: Request, _ state: SandboxState, of account: String, shown: (PostLife) -> Bool
    ) async -> ((SandboxState.BilibiliArchive, PostLife)?, Response) {
        guard let id = SandboxHTTP.query(req, "resource_id"), !id.isEmpty else { return (nil, reply(code: -400, "请求错误: resource_id is required")) }
        guard let a = await state.bilibiliArchives(of: account).first(where: { $0.id == id }),
            let life = await state.postLife(platform: "bilibili", id: id), shown(life)
        else {
            return (nil, reply(code: -404, "啥都木有"))
        }
        return ((a, life), reply())
    }
}
