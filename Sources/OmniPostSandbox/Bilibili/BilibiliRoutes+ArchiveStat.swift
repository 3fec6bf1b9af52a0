import Foundation
import Hummingbird
import OmniPostCore

/// `GET /arcopen/fn/data/arc/stat?resource_id=…` (Bilibili open platform, 数据开放服务 › 获取单个稿件数据):
/// the caller's archive's lifetime `view`, `danmaku`, `reply`, `favorite`, `coin`, `share`, `like`, all
/// integers, as the documentation's example answers. A grant without the data permission
/// (`SandboxState.withholdInsights`) is -403; an archive the caller does not have, or one taken down, -404.
extension BilibiliRoutes {
    static func addArchiveStat(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.get("/arcopen/fn/data/arc/stat") { req, _ -> Response in
            await state.count("bilibili.stat")
            return try await asCaller(req, state) { account in
                if await state.insightsWithheld(platform: "bilibili") { return reply(code: -403, "访问权限不足") }
                let (found, refusal) = await archive(req, state, of: account) { $0.found }
                guard let (_, life) = found else { return refusal }
                let n = life.numbers
                // Danmaku and coins are the sandbox's own shares of its views, as comments and saves are.
                return reply([
                    "view": n.views, "danmaku": n.views / 150, "reply": n.comments, "favorite": n.saves, "coin": n.views / 400, "share": n.shares,
                    "like": n.likes
                ])
            }
        }
    }
}
