import Foundation
import NIOCore
import OmniPostCore

/// A first comment on YouTube: `commentThreads.insert` (developers.google.com/youtube/v3/docs/commentThreads/insert:
/// `snippet.videoId` and `snippet.topLevelComment.snippet.textOriginal`). Whether it was posted before
/// a kill is `commentThreads.list` for the video, the channel's own comment with the same text.
extension YouTubeAdapter {
    func findComment(_ f: FollowUp, of post: PublishOutcome) async throws -> String? {
        var page: String? = nil
        repeat {
            let r = try await send(
                url: account.endpoint + "/youtube/v3/commentThreads?part=snippet&videoId=\(Self.q(post.remoteId))&maxResults=100"
                    + (page.map { "&pageToken=\(Self.q($0))" } ?? ""), method: .GET, headers: [], body: ByteBuffer())
            guard r.status == 200, let list = r.decoded(YouTubeWire.CommentThreads.self) else { throw Self.classify(r, during: "listing the comments of \(post.remoteId)") }
            if let mine = list.items.first(where: { $0.snippet.topLevelComment.snippet.textOriginal == f.text }) { return mine.id }
            page = list.nextPageToken
        } while page != nil
        return nil
    }

    func comment(_ f: FollowUp, on post: PublishOutcome) async throws -> String {
        let body = YouTubeWire.CommentThread(
            id: nil, snippet: .init(videoId: post.remoteId, topLevelComment: .init(snippet: .init(textOriginal: f.text ?? ""))))
        let r = try await settings.api.send(url: account.endpoint + "/youtube/v3/commentThreads?part=snippet", json: body)
        guard r.status == 200, let made = r.decoded(YouTubeWire.Made.self) else { throw Self.classify(r, during: "commenting on \(post.remoteId)") }
        return made.id
    }
}

extension YouTubeWire {
    struct CommentThread: Codable {
        struct Snippet: Codable {
            struct TopLevel: Codable {
                struct Text: Codable { var textOriginal: String? }
                var snippet: Text
            }
            var videoId: String?
            var topLevelComment: TopLevel
        }
        var id: String?
        var snippet: Snippet
    }
    struct CommentThreads: Decodable {
        var items: [CommentThread]
        var nextPageToken: String?
    }
}
