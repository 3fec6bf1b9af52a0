import Foundation
import NIOCore
import OmniPostCore

/// A post added to a YouTube playlist (developers.google.com/youtube/v3/docs/playlistItems/insert:
/// `snippet.playlistId` and `snippet.resourceId` {kind youtube#video, videoId}); whether it was added
/// before a kill is `playlistItems.list` for that playlist and video. A playlist named by name is looked
/// up among the channel's (`playlists.list mine=true`, every page), made with `playlists.insert` only
/// when missing and `create_missing` says so; a name two playlists share is refused for good — which
/// one was meant cannot be known. What a name resolved to is kept per account (`settings.names`: the
/// ledger's `remote_names` in a pipeline), so the next post — after a restart too — neither lists again
/// nor makes a second playlist. A playlist deleted on YouTube since is told by `playlistNotFound` (404)
/// on `playlistItems.insert` or `.list`: the name is forgotten and resolved again, once.
extension YouTubeAdapter {
    func findPlaylistItem(_ f: FollowUp, of post: PublishOutcome) async throws -> String? {
        // A playlist made since (its name resolved by this very follow-up before a kill) is found by name again.
        guard let playlist = try await playlistID(f, creating: false) else { return nil }
        let r = try await send(
            url: account.endpoint + "/youtube/v3/playlistItems?part=snippet&playlistId=\(Self.q(playlist))&videoId=\(Self.q(post.remoteId))", method: .GET,
            headers: [], body: ByteBuffer())
        if Self.playlistGone(r), f.byName == true {
            // Deleted on YouTube since it was resolved: nothing of ours is in it. Resolved again when it is made.
            try forgetPlaylist(f)
            return nil
        }
        guard r.status == 200, let list = r.decoded(YouTubeWire.PlaylistItems.self) else { throw Self.classify(r, during: "listing playlist \(playlist)") }
        return list.items.first { $0.snippet?.resourceId?.videoId == post.remoteId }?.id
    }

    func addToPlaylist(_ f: FollowUp, _ post: PublishOutcome) async throws -> String {
        var resolvedAgain = false
        while true {
            guard let playlist = try await playlistID(f, creating: f.createMissing == true) else {
                throw DeliveryError(
                    .permanent, .rejectedByPlatform,
                    "the channel has no playlist named '\(f.playlist ?? "")'; write `{name: …, create_missing: true}` to make it, or name it by id")
            }
            let body = YouTubeWire.PlaylistItem(
                snippet: .init(playlistId: playlist, resourceId: .init(kind: "youtube#video", videoId: post.remoteId)))
            let r = try await settings.api.send(url: account.endpoint + "/youtube/v3/playlistItems?part=snippet", json: body)
            if Self.playlistGone(r), f.byName == true, !resolvedAgain {
                // The name's playlist was deleted on YouTube after it was kept: resolved again, once.
                try forgetPlaylist(f)
                resolvedAgain = true
                continue
            }
            guard r.status == 200, let made = r.decoded(YouTubeWire.Made.self) else {
                throw Self.classify(r, during: "adding \(post.remoteId) to playlist \(playlist)")
            }
            return made.id
        }
    }

    /// `playlistNotFound` (404): the playlist no longer exists (or is not the channel's).
    static func playlistGone(_ r: AuthorizedHTTP.Reply) -> Bool {
        r.status == 404 && (r.decoded(YouTubeWire.ErrorReply.self)?.error?.errors?.contains { $0.reason == "playlistNotFound" } ?? false)
    }

    func forgetPlaylist(_ f: FollowUp) throws {
        guard let named = f.playlist else { return }
        try settings.names.forget(account: account.key, kind: Self.playlistKind, name: named)
    }

    static let playlistKind = "youtube_playlist"

    /// The playlist's id: as named, or the one of the channel's with that name (made when `creating`).
    func playlistID(_ f: FollowUp, creating: Bool) async throws -> String? {
        guard let named = f.playlist else { return nil }
        guard f.byName == true else { return named }
        let names = settings.names
        if let id = try names.id(account: account.key, kind: Self.playlistKind, name: named) { return id }
        // One resolution per account and name at a time: two uploads finishing together must not both
        // find it missing and make it twice.
        return try await Self.playlistLocks.withLock(account.key + "\u{0}" + named) {
            if let id = try names.id(account: account.key, kind: Self.playlistKind, name: named) { return id }
            return try await resolvePlaylist(named, f: f, creating: creating)
        }
    }

    static let playlistLocks = KeyedLock()

    private func resolvePlaylist(_ named: String, f: FollowUp, creating: Bool) async throws -> String? {
        var matches: [String] = []
        var page: String? = nil
        repeat {
            let r = try await send(
                url: account.endpoint + "/youtube/v3/playlists?part=snippet&mine=true&maxResults=50" + (page.map { "&pageToken=\(Self.q($0))" } ?? ""),
                method: .GET, headers: [], body: ByteBuffer())
            guard r.status == 200, let list = r.decoded(YouTubeWire.Playlists.self) else { throw Self.classify(r, during: "listing the channel's playlists") }
            matches += list.items.filter { $0.snippet?.title == named }.map(\.id)
            page = list.nextPageToken
        } while page != nil
        if matches.count > 1 {
            throw DeliveryError(
                .permanent, .rejectedByPlatform,
                "\(matches.count) of the channel's playlists are named '\(named)' (\(matches.joined(separator: ", "))); name the one meant by its id")
        }
        if let id = matches.first {
            try settings.names.remember(account: account.key, kind: Self.playlistKind, name: named, id: id)
            return id
        }
        guard creating else { return nil }
        let body = YouTubeWire.NewPlaylist(snippet: .init(title: named), status: .init(privacyStatus: f.privacy ?? "private"))
        let r = try await settings.api.send(url: account.endpoint + "/youtube/v3/playlists?part=snippet,status", json: body)
        guard r.status == 200, let made = r.decoded(YouTubeWire.Made.self) else { throw Self.classify(r, during: "making the playlist '\(named)'") }
        try settings.names.remember(account: account.key, kind: Self.playlistKind, name: named, id: made.id)
        return made.id
    }

    static func q(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(["&", "=", "+"])) ?? s }
}

extension YouTubeWire {
    struct Made: Decodable { var id: String }
    struct PlaylistItem: Codable {
        struct Snippet: Codable {
            struct Resource: Codable {
                var kind: String?
                var videoId: String?
            }
            var playlistId: String?
            var resourceId: Resource?
        }
        var snippet: Snippet?
    }
    struct PlaylistItems: Decodable {
        struct Item: Decodable {
            var id: String
            var snippet: PlaylistItem.Snippet?
        }
        var items: [Item]
    }
    struct NewPlaylist: Encodable {
        struct Snippet: Encodable { var title: String }
        struct Status: Encodable { var privacyStatus: String }
        var snippet: Snippet
        var status: Status
    }
    struct Playlists: Decodable {
        struct Item: Decodable {
            struct Snippet: Decodable { var title: String? }
            var id: String
            var snippet: Snippet?
        }
        var items: [Item]
        var nextPageToken: String?
    }
}
