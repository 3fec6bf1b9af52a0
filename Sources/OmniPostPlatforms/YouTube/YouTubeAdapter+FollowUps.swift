import Foundation
import NIOCore
import OmniPostCore

/// YouTube's follow-ups: a subtitle track is `captions.insert` (developers.google.com/youtube/v3/docs/captions/insert:
/// a multipart/related upload of the caption resource — `snippet.videoId`, `snippet.language`,
/// `snippet.name` — then the file; SubRip and WebVTT are both formats it reads), and whether one was made
/// before a kill is `captions.list` for the video, matched by language and name.
extension YouTubeAdapter: FollowingUp {
    package func findFollowUp(_ f: FollowUp, of post: PublishOutcome) async throws -> String? {
        switch f.kind {
        case .playlist: return try await findPlaylistItem(f, of: post)
        case .firstComment: return try await findComment(f, of: post)
        case .subtitles:
            let r = try await send(
                url: account.endpoint + "/youtube/v3/captions?part=snippet&videoId=\(post.remoteId)", method: .GET, headers: [], body: ByteBuffer())
            guard r.status == 200, let list = r.decoded(YouTubeWire.Captions.self) else { throw Self.classify(r, during: "listing the captions of \(post.remoteId)") }
            return list.items.first { $0.snippet.language.lowercased() == f.language?.lowercased() && $0.snippet.name == f.trackName }?.id
        }
    }

    package func makeFollowUp(_ f: FollowUp, on post: PublishOutcome) async throws -> String {
        switch f.kind {
        case .playlist: return try await addToPlaylist(f, post)
        case .firstComment: return try await comment(f, on: post)
        case .subtitles:
            let file = try f.subtitleFile()
            let resource = YouTubeWire.Caption(
                snippet: .init(videoId: post.remoteId, language: f.language ?? "", name: f.trackName, isDraft: false))
            let boundary = "omnipost-" + UUID().uuidString
            var body = ByteBuffer()
            body.writeString("--\(boundary)\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n")
            body.writeBytes(try JSONEncoder().encode(resource))
            body.writeString("\r\n--\(boundary)\r\nContent-Type: \(file.format == .vtt ? "text/vtt" : "application/x-subrip")\r\n\r\n")
            body.writeString(file.source)
            body.writeString("\r\n--\(boundary)--\r\n")
            let r = try await send(
                url: account.endpoint + "/upload/youtube/v3/captions?uploadType=multipart&part=snippet", method: .POST,
                headers: [("Content-Type", "multipart/related; boundary=\(boundary)")], body: body)
            guard r.status == 200, let made = r.decoded(YouTubeWire.CaptionMade.self) else {
                throw Self.classify(r, during: "adding the \(f.language ?? "") subtitle track to \(post.remoteId)")
            }
            return made.id
        }
    }
}

extension YouTubeWire {
    struct Caption: Codable {
        struct Snippet: Codable {
            var videoId: String
            var language: String
            var name: String
            var isDraft: Bool?
        }
        var snippet: Snippet
    }
    struct CaptionMade: Decodable { var id: String }
    struct Captions: Decodable {
        struct Item: Decodable {
            var id: String
            var snippet: Caption.Snippet
        }
        var items: [Item]
    }
}
