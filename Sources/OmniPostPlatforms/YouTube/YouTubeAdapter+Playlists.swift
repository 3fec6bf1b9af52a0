import Foundation
import NIOCore
import OmniPostCore

/// A post added to a YouTube playlist (developers.google.com/youtube/v3/docs/playlistItems/insert:
/// `snippet.playlistId` and `snippet.resourceId` {kind youtube#video, videoId}); whether it was added
/// before a kill is `playlistItems.list` for that playlist and video. A playlist named by name is looked
/// up among the channel's (`playlists.list mine=true`, every page), made with `playlists.insert` only
/// when missing and `create_missing` says so; a name two playlists share is refused for good — which
/// one was meant cannot be known. What a name resolved to is remembered per account, so the next post
/// neither lists again nor makes a second playlist.
extension YouTubeAdapter {
    func findPlaylistItem(_ f: FollowUp, of post: PublishOutcome) async throws -> String? {
        // A playlist made since (its name resolved by this very follow-up before a kill) is found by name again.
        guard let playlist = try await playlistID(f, creating: false) else { return nil }
        let r = try await send(
            url: account.endpoint + "/youtube/v3/playlistItems?part=snippet&playlistId=\(Self.q(playlist))&videoId=\(Self.q(post.remoteId))", method: .GET,
            headers: [], body: ByteBuffer())
        guard r.status == 200, let list = r.decoded(YouTubeWire.PlaylistItems.self) else { throw Self.classify(r, during: "listing playlist \(playlist)") }
        return list.items.first { $0.snippet?.resourceId?.videoId == post.remoteId }?.id
    }

    func addToPlaylist(_ f: FollowUp, _ post: PublishOutcome) async throws -> String {
        guard let playlist = try await playlistID(f, creating: f.createMissing == true) else {
            throw DeliveryError(
                .permanent, .rejectedByPlatform,
                "the channel has no playlist named '\(f.playlist ?? "")'; write `{name: …, create_missing: true}` to make it, or name it by id")
        }
        let body = YouTubeWire.PlaylistItem(
            snippet: .init(playlistId: playlist, resourceId: .init(kind: "youtube#video", videoId: post.remoteId)))
        let r = try await settings.api.send(url: account.endpoint + "/youtube/v3/playlistItems?part=snippet", json: body)
        guard r.status == 200, let made = r.decoded(YouTubeWire.Made.self) else { throw Self.classify(r, during: "adding \(post.remoteId) to playlist \(playlist)") }
        return made.id
    }

    /// The playlist's id: as named, or the one of the channel's with that name (made when `creating`).
    func playlistID(_ f: FollowUp, creating: Bool) async throws -> String? {
        guard let named = f.playlist else { return nil }
        guard f.byName == true else { return named }
        let cacheKey = account.key + "\u{0}" + named
        if let id = PlaylistNames.shared.get(cacheKey) { return id }
        // One resolution per account and name at a time: two uploads finishing together must not both
        // find it missing and make it twice.
        return try await PlaylistNames.locks.withLock(cacheKey) {
            if let id = PlaylistNames.shared.get(cacheKey) { return id }
            return try await resolvePlaylist(named, cacheKey: cacheKey, f: f, creating: creating)
        }
    }

    private func resolvePlaylist(_ named: String, cacheKey: String, f: FollowUp, creating: Bool) async throws -> String? {
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
            PlaylistNames.shared.set(cacheKey, id)
            return id
        }
        guard creating else { return nil }
        let body = YouTubeWire.NewPlaylist(snippet: .init(title: named), status: .init(privacyStatus: f.privacy ?? "private"))
        let r = try await settings.api.send(url: account.endpoint + "/youtube/v3/playlists?part=snippet,status", json: body)
        guard r.status == 200, let made = r.decoded(YouTubeWire.Made.self) else { throw Self.classify(r, during: "making the playlist '\(named)'") }
        PlaylistNames.shared.set(cacheKey, made.id)
        return made.id
    }

    static func q(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(["&", "=", "+"])) ?? s }
}

/// Which playlist id a name resolved to, per account: what saves listing (and never makes a second one).
final class PlaylistNames: @unchecked Sendable {
    static let shared = PlaylistNames()
    static let locks = KeyedLock()
    private let lock = NSLock()
    private var ids: [String: String] = [:]
    func get(_ key: String) -> String? { lock.withLock { ids[key] } }
    func set(_ key: String, _ id: String) { lock.withLock { ids[key] = id } }
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
