import Foundation
import GRDB

/// The statements a SQLite ledger file runs, counted by kind (issue 30: what a rejected drop costs the
/// ledger is counted, not guessed). Off unless asked for by the file's path before the ledger is opened:
/// each connection opened on that path then traces its statements here (`Ledger.init`). For tests and the
/// bench (BENCH_PROFILE_WINDOW); a daemon never asks.
package final class SQLStatementCount: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    private var texts: [String: Int] = [:]

    private static let lock = NSLock()
    nonisolated(unsafe) private static var watched: [String: SQLStatementCount] = [:]

    /// Counts the statements of every connection opened on `path` from now on.
    package static func watch(path: String) -> SQLStatementCount {
        let count = SQLStatementCount()
        lock.withLock { watched[path] = count }
        return count
    }

    /// Stops counting for `path` (connections opened before go on counting into the same counter).
    package static func unwatch(path: String) { _ = lock.withLock { watched.removeValue(forKey: path) } }

    static func watching(path: String) -> SQLStatementCount? { lock.withLock { watched[path] } }

    func add(_ sql: String) {
        let kind = sql.prefix { !$0.isWhitespace }.uppercased()
        lock.withLock {
            counts[kind, default: 0] += 1
            texts[sql, default: 0] += 1
        }
    }

    /// Statements run so far, every kind.
    package var total: Int { lock.withLock { counts.values.reduce(0, +) } }
    /// By first word: `SELECT`, `INSERT`, `UPDATE`, `DELETE`, `BEGIN`, `COMMIT`, `PRAGMA`…
    package var byKind: [String: Int] { lock.withLock { counts } }
    /// By text (arguments not filled in), for finding which statements a path repeats.
    package var byText: [String: Int] { lock.withLock { texts } }
    /// Commits: `COMMIT` statements (GRDB ends each write transaction with one).
    package var commits: Int { lock.withLock { counts["COMMIT", default: 0] } }

    package func reset() {
        lock.withLock {
            counts.removeAll()
            texts.removeAll()
        }
    }
}

extension Database {
    /// Traces this connection's statements into `count` (`SQLStatementCount.watch`).
    func countStatements(into count: SQLStatementCount) {
        trace(options: .statement) { event in
            if case .statement(let s) = event { count.add(s.sql) }
        }
    }
}
