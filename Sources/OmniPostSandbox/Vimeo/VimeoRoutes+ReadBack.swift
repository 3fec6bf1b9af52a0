import Foundation
import OmniPostCore

/// A finished video as `GET /videos/{id}` shows it after its upload (https://developer.vimeo.com/api/reference/videos):
/// `privacy.view` (`anybody`, `nobody`, `unlisted`, `disable`…), `stats.plays` (an integer, or null while
/// Vimeo has not counted), and its likes and comments as `metadata.connections.{likes,comments}.total`.
/// A video Vimeo took down is not found any more.
extension VimeoRoutes {
    static func readBack(_ v: SandboxState.VimeoVideo, _ resource: [String: Any], state: SandboxState) async -> [String: Any]? {
        guard v.complete, let life = await state.postLife(platform: "vimeo", id: v.id) else { return resource }
        if life.takenDown { return nil }
        var r = resource
        r["privacy"] = ["view": await state.shownPrivacy(life, posted: v.privacy)]
        r["stats"] = ["plays": life.numbers.views]
        var metadata = r["metadata"] as? [String: Any] ?? [:]
        var connections = metadata["connections"] as? [String: Any] ?? [:]
        connections["likes"] = ["uri": "/videos/\(v.id)/likes", "options": ["GET"], "total": life.numbers.likes]
        connections["comments"] = ["uri": "/videos/\(v.id)/comments", "options": ["GET", "POST"], "total": life.numbers.comments]
        metadata["connections"] = connections
        r["metadata"] = metadata
        return r
    }
}
