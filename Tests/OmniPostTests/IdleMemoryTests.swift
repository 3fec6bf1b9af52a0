import Foundation
import GRDB
import GRDBSQLite
import OmniPostCore
@testable import OmniPostLedger
import Testing

/// An idle pipeline gives back its ledger writer's page cache (issue 30, `Ledger.releaseIdleMemory`):
/// measured with SQLite's own count of the connection's cache, on a real file.
@Suite struct IdleMemoryTests {
    /// The writer connection's page cache in bytes (`SQLITE_DBSTATUS_CACHE_USED`), read on the writer's queue.
    static func writerCacheBytes(_ ledger: Ledger) throws -> Int32 {
        try ledger.writer.writeWithoutTransaction { db in
            var used: Int32 = 0, highwater: Int32 = 0
            _ = sqlite3_db_status(db.sqliteConnection, SQLITE_DBSTATUS_CACHE_USED, &used, &highwater, 0)
            return used
        }
    }

    @Test func theWritersPageCacheIsGivenBackAndTheRowsStay() async throws {
        let dir = try TempDir()
        let ledger = try Ledger(path: dir.file("ledger.sqlite").path)
        // Pages in the writer's cache: a table of ~1 MiB written and read back through it.
        try await offPool {
            try ledger.writer.write { db in
                try db.execute(sql: "CREATE TABLE scratch (id INTEGER PRIMARY KEY, body TEXT)")
                for i in 0..<2000 { try db.execute(sql: "INSERT INTO scratch (body) VALUES (?)", arguments: [String(repeating: "x", count: 500) + "\(i)"]) }
            }
            _ = try ledger.writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "SELECT sum(length(body)) FROM scratch") }
        }
        let before = try await offPool { try Self.writerCacheBytes(ledger) }
        #expect(before > 500_000, "the writer's cache holds the pages it read: \(before) bytes")

        ledger.releaseIdleMemory()
        // The release runs on the writer's queue; this read queues behind it.
        let after = try await offPool { try Self.writerCacheBytes(ledger) }
        #expect(after < before / 10, "the cache was given back: \(before) → \(after) bytes")

        // Nothing else changed: the rows read the same, and the writer still writes.
        let count = try await offPool {
            try ledger.writer.write { db -> Int in
                try db.execute(sql: "INSERT INTO scratch (body) VALUES ('after')")
                return try Int.fetchOne(db, sql: "SELECT count(*) FROM scratch") ?? 0
            }
        }
        #expect(count == 2001)
    }
}
