import Foundation
import OmniPostCore

/// Instagram's follow-up: a first comment on the reel, with the Instagram user's token
/// (`instagram_manage_comments`), through the Graph API's comments edge (`GraphAPI.comment`).
extension InstagramAdapter: FollowingUp {
    package func findFollowUp(_ f: FollowUp, of post: PublishOutcome) async throws -> String? {
        guard f.kind == .firstComment else { throw f.notTaken(by: platform) }
        return try await graph.findComment(f, on: post.remoteId)
    }

    package func makeFollowUp(_ f: FollowUp, on post: PublishOutcome) async throws -> String {
        guard f.kind == .firstComment else { throw f.notTaken(by: platform) }
        return try await graph.comment(f, on: post.remoteId)
    }
}
