import Foundation

extension Ledger {
    /// Migration v21, the same on both backends: two of `files`' indexes that no query needs go (issue 30),
    /// each a B-tree every file row wrote into — `files_state` again at each state change (taken, gone).
    /// - `files_state` (state): every query that picks files by state asks for the waiting ones, which
    ///   the partial `files_live_path` (path WHERE state = 'waiting') holds already.
    /// - `files_path` (path): a path's taken or waiting rows are in `files_identity` (path, inode, size,
    ///   mtime WHERE state IN ('waiting','taken'), v18), which the queries that look a path up among them
    ///   name by that condition; no query asks for a path's gone rows.
    static let v21Statements = [
        "DROP INDEX files_state",
        "DROP INDEX files_path"
    ]
}
