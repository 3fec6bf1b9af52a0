import Foundation
import OmniPostCore

/// Reading a published Graph object back (Instagram's media, Threads' post, a Page's reel): one `GET
/// /{id}?fields=…` each. An object the Graph API does not have — taken down, or never shown — is its
/// "does not exist" error (code 100, subcode 33) or a 404, which is `absent`, not a failed read.
extension GraphAPI {
    func readObject<T: Decodable>(_ id: String, fields: String, as type: T.Type, token: String? = nil) async throws -> Result<T, GraphMissing> {
        let r = try await call(.GET, "/\(id)", [("fields", fields)], as: token)
        if r.status == 404 || GraphAPI.code(r) == 100 {
            return .failure(GraphMissing(says: GraphAPI.error(r)?.message ?? "GET /\(id) answered \(r.status)"))
        }
        guard r.status == 200, let v = r.decoded(T.self) else { throw classify(r, during: "reading \(id) back") }
        return .success(v)
    }
}

/// The Graph API does not have the object, in its words.
struct GraphMissing: Error {
    var says: String
}
