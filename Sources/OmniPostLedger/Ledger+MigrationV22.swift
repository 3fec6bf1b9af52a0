import Foundation

extension Ledger {
    /// Migration v22, the same on both backends (issue 30): each file that will be uploaded has its XXH3-128
    /// recorded beside its sha256, taken in the same read — the clip's on its drop, the rendition's on its
    /// delivery (a pass-through's is the clip's). The upload's changed-file check hashes with it at wire
    /// speed instead of sha256 (PinnedReader). Nullable: rows from before have none, and are checked
    /// against their sha256 as before.
    static let v22Statements = [
        "ALTER TABLE drops ADD COLUMN clip_xxh3 TEXT",
        "ALTER TABLE deliveries ADD COLUMN rendition_xxh3 TEXT"
    ]
}
