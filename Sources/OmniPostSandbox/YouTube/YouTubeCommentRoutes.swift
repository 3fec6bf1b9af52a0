import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// Comment threads as the Data API documents them: `commentThreads.insert` (`part=snippet`; the
/// snippet's `videoId` and `topLevelComment.snippet.textOriginal`, which may not be empty —
/// `commentTextRequired` —, on a video that exists, `videoNotFound`) and `commentThreads.list` for a
/// `videoId` (`maxResults` up to 100, `pageToken`). A comment is kept as a text track is: an id and its text.
enum YouTubeCommentRoutes {
    static func add(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.post("/youtube/v3/commentThreads") { req, _ -> Response in
            await state.count("youtube.commentThreads.insert")
            guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) else { return YouTubePlaylistRoutes.unauthorized }
            guard (SandboxHTTP.query(req, "part") ?? "").split(separator: ",").contains("snippet") else {
                return SandboxHTTP.googleError(400, "required", "Required parameter: part")
            }
            var req = req
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: try await req.collectBody(upTo: 1 << 20)))) as? [String: Any] ?? [:]
            let snippet = json["snippet"] as? [String: Any] ?? [:]
            let text = ((snippet["topLevelComment"] as? [String: Any])?["snippet"] as? [String: Any])?["textOriginal"] as? String ?? ""
            guard let vid = snippet["videoId"] as? String, await state.allVideos().contains(where: { $0.id == vid && $0.platform == "youtube" }) else {
                return SandboxHTTP.googleError(404, "videoNotFound", "The video identified by the videoId parameter could not be found.")
            }
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                return SandboxHTTP.googleError(
                    400, "commentTextRequired", "The comment resource must contain a value for the snippet.topLevelComment.snippet.textOriginal property.")
            }
            if let code = await state.takeFollowUpFault() { return SandboxHTTP.googleError(code, "backendError", "Backend Error") }
            let c = SandboxTextTrack(id: "Ug" + SandboxState.randomID(24, alphabet: YouTubePlaylistRoutes.alphabet), language: "", name: account, text: text)
            await state.addComment(c, platform: "youtube", post: vid)
            if await state.losesFollowUpReply() { return SandboxHTTP.googleError(503, "backendError", "The answer was lost.") }
            return SandboxHTTP.json(.ok, resource(c, video: vid))
        }
        router.get("/youtube/v3/commentThreads") { req, _ -> Response in
            await state.count("youtube.commentThreads.list")
            guard await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) != nil else { return YouTubePlaylistRoutes.unauthorized }
            guard let vid = SandboxHTTP.query(req, "videoId"), let v = await state.allVideos().first(where: { $0.id == vid && $0.platform == "youtube" }) else {
                return SandboxHTTP.googleError(404, "videoNotFound", "The video identified by the videoId parameter could not be found.")
            }
            let all = v.comments ?? []
            let per = min(100, max(1, Int(SandboxHTTP.query(req, "maxResults") ?? "") ?? 20))
            let start = Int(SandboxHTTP.query(req, "pageToken").flatMap { $0.hasPrefix("c") ? String($0.dropFirst()) : nil } ?? "") ?? 0
            var body: [String: Any] = ["kind": "youtube#commentThreadListResponse", "items": all.dropFirst(start).prefix(per).map { resource($0, video: vid) }]
            if start + per < all.count { body["nextPageToken"] = "c\(start + per)" }
            return SandboxHTTP.json(.ok, body)
        }
    }

    static func resource(_ c: SandboxTextTrack, video: String) -> [String: Any] {
        [
            "kind": "youtube#commentThread", "id": c.id,
            "snippet": [
                "videoId": video,
                "topLevelComment": ["kind": "youtube#comment", "id": c.id, "snippet": ["videoId": video, "textOriginal": c.text, "textDisplay": c.text]]
            ] as [String: Any]
        ]
    }
}
