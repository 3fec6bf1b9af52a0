import Foundation
import Hummingbird
import OmniPostCore

/// `videos.list` (https://developers.google.com/youtube/v3/docs/videos/list): `part` is required and
/// names what each item carries; `id` takes at most 50 ids, and an id the caller may not see is simply
/// not among the items. A video's `status.uploadStatus` is `processed` once done (`rejected` with a
/// `rejectionReason` when YouTube took it down), `processingDetails.processingStatus` says `succeeded`,
/// and `statistics` counts are strings (the API's uint64 encoding: `"viewCount": "1234"`).
extension YouTubeRoutes {
    static let listParts: Set<String> = [
        "id", "snippet", "status", "processingDetails", "statistics", "contentDetails", "fileDetails", "player", "recordingDetails",
        "suggestions", "topicDetails", "liveStreamingDetails", "localizations", "paidProductPlacementDetails"
    ]

    static func listVideos(_ req: Request, state: SandboxState) async -> Response {
        guard let part = SandboxHTTP.query(req, "part"), !part.isEmpty else {
            return SandboxHTTP.googleError(400, "required", "Required parameter: part")
        }
        let parts = Set(part.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        if let unknown = parts.first(where: { !listParts.contains($0) }) {
            return SandboxHTTP.googleError(400, "unknownPart", "'\(unknown)' is not a valid part for videos.list.")
        }
        let ids = (SandboxHTTP.query(req, "id") ?? "").split(separator: ",").map(String.init)
        guard ids.count <= 50 else {
            return SandboxHTTP.googleError(400, "invalidParameter", "The id parameter takes at most 50 video ids.")
        }
        var items: [[String: Any]] = []
        for id in ids {
            guard let v = await state.allVideos().last(where: { $0.platform == "youtube" && $0.id == id }),
                let life = await state.postLife(platform: "youtube", id: id)
            else { continue }
            if life.fate == .hidden { continue }
            var full = resource(v)
            var status = full["status"] as? [String: Any] ?? [:]
            status["privacyStatus"] = await state.shownPrivacy(life, posted: v.privacy)
            if life.takenDown {
                // What the owner sees of a video YouTube removed: its status says so.
                status["uploadStatus"] = "rejected"
                status["rejectionReason"] = "termsOfUse"
            } else {
                status["uploadStatus"] = "processed"
            }
            full["status"] = status
            full["processingDetails"] = ["processingStatus": life.takenDown ? "terminated" : "succeeded"]
            let n = life.numbers
            full["statistics"] = [
                "viewCount": String(n.views), "likeCount": String(n.likes), "favoriteCount": "0", "commentCount": String(n.comments)
            ]
            full["contentDetails"] = ["duration": "PT0M30S", "dimension": "2d", "definition": "hd", "caption": "false"]
            items.append(full.filter { $0.key == "kind" || $0.key == "etag" || parts.contains($0.key) || $0.key == "id" })
        }
        return SandboxHTTP.json(
            .ok,
            [
                "kind": "youtube#videoListResponse", "etag": "sandbox", "items": items,
                "pageInfo": ["totalResults": items.count, "resultsPerPage": items.count]
            ])
    }
}
