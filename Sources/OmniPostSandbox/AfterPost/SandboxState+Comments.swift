import Foundation

/// Comments under a published post, for the platforms whose comments are not posts of their own
/// (YouTube, Instagram, Facebook, LinkedIn, Reddit; a reply on X, Threads or Bluesky is a post and is kept
/// as one). Kept on the post's entry in `videos`, so a restart of the sandbox keeps them with it.
extension SandboxState {
    /// Adds `c` under the post; false when the platform has no such post.
    @discardableResult
    func addComment(_ c: SandboxTextTrack, platform: String, post: String) -> Bool {
        guard let i = videos.firstIndex(where: { $0.platform == platform && $0.id == post }) else { return false }
        let comments = (videos[i].comments ?? []) + [c]
        videos[i].comments = comments
        return true
    }

    /// The comments under a post, oldest first; nil when the platform has no such post.
    package func comments(platform: String, post: String) -> [SandboxTextTrack]? {
        guard let v = videos.first(where: { $0.platform == platform && $0.id == post }) else { return nil }
        return v.comments ?? []
    }

    /// A YouTube video's comments, for tests.
    package func comments(of videoID: String) -> [SandboxTextTrack] { comments(platform: "youtube", post: videoID) ?? [] }

    /// What was said under a post, oldest first, whichever way its platform keeps it — comments, or
    /// replies that are posts of their own (X, Threads, Bluesky). For tests.
    package func said(under post: String, on platform: String) -> [String] {
        switch platform {
        case "x": return xPosts.filter { $0.inReplyTo == post }.map(\.text)
        case "threads": return threadsReplies(to: post).map(\.text)
        case "bluesky":
            return bskyReplies(to: post).compactMap { r in
                (r.value["json"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }?["text"] as? String
            }
        default: return comments(platform: platform, post: post)?.map(\.text) ?? []
        }
    }
}
