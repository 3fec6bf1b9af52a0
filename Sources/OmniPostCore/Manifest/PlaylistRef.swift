import Foundation

/// A playlist a post is added to (`playlists:`): by id, or by name — looked up among the channel's
/// playlists, and made when missing only with `create_missing: true`.
package struct PlaylistRef: Sendable, Codable, Equatable {
    package var id: String?
    package var name: String?
    package var createMissing = false
    package var location: SourceLocation?

    package init(id: String? = nil, name: String? = nil, createMissing: Bool = false, location: SourceLocation? = nil) {
        self.id = id
        self.name = name
        self.createMissing = createMissing
        self.location = location
    }

    /// `- PLxxxx` (an id: YouTube's start with PL and run 13 characters or more), `- {id: …}`,
    /// `- {name: Hikes, create_missing: true}`; any other plain string is a name.
    static func parseList(_ node: DocNode) throws -> [PlaylistRef] {
        try node.sequence().map { entry in
            if case .some(let text) = try? entry.string() {
                if text.trimmingCharacters(in: .whitespaces).isEmpty { throw entry.fail("a playlist is an id or a name, not empty") }
                return isID(text) ? PlaylistRef(id: text, location: entry.location) : PlaylistRef(name: text, location: entry.location)
            }
            let m = try entry.mapping(allowed: ["id", "name", "create_missing"], what: "playlist (an id, a name, or {id} / {name, create_missing})")
            var r = PlaylistRef(location: entry.location)
            r.id = try m["id"]?.string()
            r.name = try m["name"]?.string()
            r.createMissing = try m["create_missing"]?.bool() ?? false
            guard (r.id == nil) != (r.name == nil) else { throw entry.fail("a playlist is named by `id:` or by `name:`, one of them") }
            if r.createMissing, r.id != nil { throw entry.fail("create_missing makes a playlist by its name; an id names one that exists") }
            return r
        }
    }

    static func isID(_ s: String) -> Bool {
        s.hasPrefix("PL") && s.count >= 13 && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}
