import Foundation
import OmniPostCore

/// Read back through the account's content list in one browser session (what `reconcile` reads): a note
/// listed there is shown; one not listed is not. The list names no privacy and no numbers.
extension RecipeAdapter {
    package func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        let recipe = try recipe()
        // No delivery is being made: the session is a check's (evidence, if any, is named for one).
        let job = UploadJob(
            deliveryId: 0, filePath: "", size: 0,
            metadata: PublishMetadata(title: "", description: "", tags: [], privacy: .public, publishAt: nil, options: [:]), session: nil,
            confirmedOffset: 0)
        let listed = try await session(job, recipe: recipe, posting: false) { runner in try await runner.listed() }
        let page = recipe.address(recipe.contentList.page, base: account.endpoint)
        var out: [String: Sighting] = [:]
        for p in posts {
            if listed.contains(where: { ($0.id ?? $0.title) == p.remoteId }) {
                out[p.remoteId] = .seen(SeenPost(privacy: nil, says: "listed on \(page)"))
            } else {
                out[p.remoteId] = .absent("\(page) does not list \(p.remoteId)")
            }
        }
        return out
    }
}
