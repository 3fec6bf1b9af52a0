import Foundation
import OmniPostCore

/// A first comment on Instagram or Facebook: the Graph API's comments edge, the same on both.
/// `POST /{object-id}/comments` with `message` answers the comment's `{id}` (Instagram: IG Media
/// Comments reference; Facebook: Object Comments reference); whether one was made before a kill is
/// `GET /{object-id}/comments`, read page by page for the comment with the same text — Instagram names
/// the text `text`, Facebook `message`. The poster is the account whose token posts (Instagram's user,
/// Facebook's Page).
extension GraphAPI {
    func comment(_ f: FollowUp, on object: String, as token: String? = nil) async throws -> String {
        let r = try await call(.POST, "/\(object)/comments", [("message", f.text ?? "")], as: token)
        guard r.status == 200, let made = r.decoded(GraphWire.Created.self) else { throw classify(r, during: "commenting on \(object)") }
        return made.id
    }

    func findComment(_ f: FollowUp, on object: String, as token: String? = nil) async throws -> String? {
        let mine = try await first(in: "/\(object)/comments", fields: "id,text,message", as: token, during: "listing the comments of \(object)") {
            (c: GraphWire.Comment) in (c.text ?? c.message) == f.text
        }
        return mine?.id
    }

    /// The first item of an edge that `match` takes, read page by page (`limit=100`, following
    /// `paging.cursors.after` while `paging.next` says more follow — the Graph API's cursor pagination).
    func first<Item: Decodable>(
        in edge: String, fields: String, as token: String? = nil, during: String, where match: (Item) -> Bool
    ) async throws -> Item? {
        var after: String? = nil
        repeat {
            var params = [("fields", fields), ("limit", "100")]
            if let after { params.append(("after", after)) }
            let r = try await call(.GET, edge, params, as: token)
            guard r.status == 200, let page = r.decoded(GraphWire.Page<Item>.self) else { throw classify(r, during: during) }
            if let hit = page.data.first(where: match) { return hit }
            after = page.paging?.next == nil ? nil : page.paging?.cursors?.after
        } while after != nil
        return nil
    }
}

extension GraphWire {
    struct Comment: Decodable {
        var id: String
        var text: String?
        var message: String?
    }
    struct Page<Item: Decodable>: Decodable {
        struct Paging: Decodable {
            struct Cursors: Decodable { var after: String? }
            var cursors: Cursors?
            var next: String?
        }
        var data: [Item]
        var paging: Paging?
    }
}
