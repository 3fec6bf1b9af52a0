import Foundation
import OmniPostCore

extension Ledger {
    /// Waiting files of `role` whose path is one of `stems` or starts with one of them and a dot: every
    /// file that can pair under a stem (`dir/clip` → `dir/clip.mp4`, `dir/clip.mp4.yaml`) is among them;
    /// the caller keeps those that pair exactly. Asked for each lone drop as it is validated, so it is an
    /// indexed range per stem, never a read of the whole waiting table — which a flood of 10,000 lone
    /// sidecars makes 10,000 rows long, once for each of them.
    package func waitingFiles(role: FileRecord.Role, underStems stems: [String]) throws -> [FileRecord] {
        let stems = Array(Set(stems)).filter { !$0.isEmpty }
        guard !stems.isEmpty else { return [] }
        return try readSQL { sql in
            var clauses: [String] = []
            var arguments: [SQLValue] = [.text(role.rawValue)]
            for stem in stems {
                switch sql.dialect {
                case .sqlite:
                    // Bytewise order (SQLite's BINARY collation): `stem.` ≤ every `stem.…` < `stem/`, '/' following '.'.
                    clauses.append("path = ? OR (path >= ? AND path < ?)")
                    arguments += [.text(stem), .text(stem + "."), .text(stem + "/")]
                case .postgres:
                    // A database's collation may not order bytewise: the prefix is asked for as such.
                    clauses.append("path = ? OR starts_with(path, ?)")
                    arguments += [.text(stem), .text(stem + ".")]
                }
            }
            return try sql.fetchAll(
                FileRecord.self, "SELECT * FROM files WHERE state = 'waiting' AND role = ? AND (\(clauses.joined(separator: " OR ")))", arguments)
        }
    }
}
