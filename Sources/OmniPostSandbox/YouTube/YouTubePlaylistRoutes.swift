import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// A YouTube playlist and the videos in it, as the sandbox keeps them.
package struct SandboxPlaylist: Sendable, Codable, Equatable {
    package var id: String
    package var account: String
    package var title: String
    package var privacy: String
    /// Its items in order: (item id, video id). A video may be in a playlist more than once, as on YouTube.
    package var items: [Item] = []
    package struct Item: Sendable, Codable, Equatable {
        package var id: String
        package var videoId: String
    }

    package init(id: String, account: String, title: String, privacy: String) {
        self.id = id
        self.account = account
        self.title = title
        self.privacy = privacy
    }
}

/// Playlists as the Data API documents them: `playlists.list` (`mine=true`, `maxResults` up to 50,
/// `pageToken`), `playlists.insert` (`part=snippet,status`; a title is required, `playlistTitleRequired`),
/// `playlistItems.insert` (`part=snippet`; `snippet.playlistId` required — `playlistIdRequired` —, a
/// playlist of another channel is `playlistNotFound`, a video that does not exist `videoNotFound`) and
/// `playlistItems.list` (`playlistId`, optionally `videoId`); `playlists.delete` (`id`; 204, or
/// `playlistNotFound`), after which inserting into it is `playlistNotFound` (404).
enum YouTubePlaylistRoutes {
    static func add(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.delete("/youtube/v3/playlists") { req, _ -> Response in
            await state.count("youtube.playlists.delete")
            guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) else { return unauthorized }
            guard let id = SandboxHTTP.query(req, "id"), await state.playlists().contains(where: { $0.id == id && $0.account == account }) else {
                return SandboxHTTP.googleError(404, "playlistNotFound", "The playlist identified with the request's id parameter cannot be found.")
            }
            await state.deletePlaylist(id)
            return Response(status: .noContent)
        }
        router.get("/youtube/v3/playlists") { req, _ -> Response in
            await state.count("youtube.playlists.list")
            guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) else { return unauthorized }
            guard SandboxHTTP.query(req, "mine") == "true" || SandboxHTTP.query(req, "id") != nil else {
                return SandboxHTTP.googleError(400, "missingRequiredParameter", "No filter selected. Expected one of: mine, id, channelId.")
            }
            let ids = SandboxHTTP.query(req, "id").map { Set($0.split(separator: ",").map(String.init)) }
            let all = await state.playlists().filter { $0.account == account && (ids?.contains($0.id) ?? true) }
            let per = min(50, max(1, Int(SandboxHTTP.query(req, "maxResults") ?? "") ?? 5))
            let start = Int(SandboxHTTP.query(req, "pageToken").flatMap { $0.hasPrefix("p") ? String($0.dropFirst()) : nil } ?? "") ?? 0
            let slice = all.dropFirst(start).prefix(per)
            var body: [String: Any] = [
                "kind": "youtube#playlistListResponse", "items": slice.map(resource),
                "pageInfo": ["totalResults": all.count, "resultsPerPage": per]
            ]
            if start + per < all.count { body["nextPageToken"] = "p\(start + per)" }
            return SandboxHTTP.json(.ok, body)
        }
        router.post("/youtube/v3/playlists") { req, _ -> Response in
            await state.count("youtube.playlists.insert")
            guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) else { return unauthorized }
            var req = req
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: try await req.collectBody(upTo: 1 << 20)))) as? [String: Any] ?? [:]
            let title = (json["snippet"] as? [String: Any])?["title"] as? String ?? ""
            guard !title.trimmingCharacters(in: .whitespaces).isEmpty else {
                return SandboxHTTP.googleError(400, "playlistTitleRequired", "The request must specify a playlist title.")
            }
            let privacy = (json["status"] as? [String: Any])?["privacyStatus"] as? String ?? "public"
            let p = SandboxPlaylist(id: "PL" + SandboxState.randomID(32, alphabet: alphabet), account: account, title: title, privacy: privacy)
            await state.addPlaylist(p)
            return SandboxHTTP.json(.ok, resource(p))
        }
        router.get("/youtube/v3/playlistItems") { req, _ -> Response in
            await state.count("youtube.playlistItems.list")
            guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) else { return unauthorized }
            guard let pid = SandboxHTTP.query(req, "playlistId"), let p = await state.playlists().first(where: { $0.id == pid && $0.account == account }) else {
                return SandboxHTTP.googleError(404, "playlistNotFound", "The playlist identified with the request's playlistId parameter cannot be found.")
            }
            let video = SandboxHTTP.query(req, "videoId")
            return SandboxHTTP.json(
                .ok, ["kind": "youtube#playlistItemListResponse", "items": p.items.filter { video == nil || $0.videoId == video }.map { item($0, p.id) }])
        }
        router.post("/youtube/v3/playlistItems") { req, _ -> Response in
            await state.count("youtube.playlistItems.insert")
            guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) else { return unauthorized }
            guard (SandboxHTTP.query(req, "part") ?? "").split(separator: ",").contains("snippet") else {
                return SandboxHTTP.googleError(400, "required", "Required parameter: part")
            }
            var req = req
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: try await req.collectBody(upTo: 1 << 20)))) as? [String: Any] ?? [:]
            let snippet = json["snippet"] as? [String: Any] ?? [:]
            guard let pid = snippet["playlistId"] as? String else {
                return SandboxHTTP.googleError(400, "playlistIdRequired", "The request does not specify a value for the required playlistId property.")
            }
            guard await state.playlists().contains(where: { $0.id == pid && $0.account == account }) else {
                return SandboxHTTP.googleError(404, "playlistNotFound", "The playlist identified with the request's playlistId parameter cannot be found.")
            }
            guard let vid = (snippet["resourceId"] as? [String: Any])?["videoId"] as? String, await state.allVideos().contains(where: { $0.id == vid }) else {
                return SandboxHTTP.googleError(404, "videoNotFound", "The video that you are trying to add to the playlist cannot be found.")
            }
            if let code = await state.takeFollowUpFault() { return SandboxHTTP.googleError(code, "backendError", "Backend Error") }
            let made = SandboxPlaylist.Item(id: SandboxState.randomID(40, alphabet: alphabet), videoId: vid)
            await state.addPlaylistItem(made, to: pid)
            if await state.losesFollowUpReply() { return SandboxHTTP.googleError(503, "backendError", "The answer was lost.") }
            return SandboxHTTP.json(.ok, item(made, pid))
        }
    }

    static let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    static let unauthorized = SandboxHTTP.googleError(401, "authError", "Request had invalid authentication credentials.")

    static func resource(_ p: SandboxPlaylist) -> [String: Any] {
        ["kind": "youtube#playlist", "id": p.id, "snippet": ["title": p.title], "status": ["privacyStatus": p.privacy]]
    }

    static func item(_ i: SandboxPlaylist.Item, _ playlist: String) -> [String: Any] {
        [
            "kind": "youtube#playlistItem", "id": i.id,
            "snippet": ["playlistId": playlist, "resourceId": ["kind": "youtube#video", "videoId": i.videoId]] as [String: Any]
        ]
    }
}

extension SandboxState {
    /// Every channel's playlists, for tests and the routes.
    package func playlists() -> [SandboxPlaylist] { self[YouTubeWorld.self].playlists ?? [] }

    /// A playlist as a test's channel already has it.
    package func addPlaylist(_ p: SandboxPlaylist) {
        let all = playlists() + [p]
        self[YouTubeWorld.self].playlists = all
    }

    /// A playlist deleted on YouTube (by the channel's owner, by `playlists.delete`).
    package func deletePlaylist(_ id: String) {
        let all = playlists().filter { $0.id != id }
        self[YouTubeWorld.self].playlists = all
    }

    func addPlaylistItem(_ i: SandboxPlaylist.Item, to id: String) {
        var all = playlists()
        guard let n = all.firstIndex(where: { $0.id == id }) else { return }
        all[n].items.append(i)
        self[YouTubeWorld.self].playlists = all
    }
}
