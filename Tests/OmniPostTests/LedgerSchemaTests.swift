import Foundation
import GRDB
import OmniPostCore
@testable import OmniPostLedger
import Testing

/// The PostgreSQL ledger's schema is SQLite's (PostgresSchema.swift's type table), checked on a real
/// server: a migration written for one backend and not the other fails here.
@Suite(.enabled(if: PostgresServer.available, "PostgreSQL is not installed (make test installs it)"))
struct LedgerSchemaTests {
    /// One column as both backends are compared: its type in SQLite's words, NOT NULL, its place in the primary key.
    struct Column: Hashable, CustomStringConvertible {
        var table: String
        var name: String
        var type: String
        var notNull: Bool
        var primaryKeyIndex: Int
        var description: String { "\(table).\(name) \(type)\(notNull ? " NOT NULL" : "")\(primaryKeyIndex > 0 ? " pk\(primaryKeyIndex)" : "")" }
    }

    /// PostgreSQL's column types in SQLite's words (the table in PostgresSchema.swift); anything else is kept as it is, and differs.
    static let typeMap = ["bigint": "INTEGER", "double precision": "REAL", "text": "TEXT"]

    @Test func theTwoSchemasAreEquivalent() async throws {
        let dir = try TempDir()
        let sqlite = try Ledger(path: dir.file("ledger.sqlite").path)
        try await withPostgresDatabase { server, database in
            var config = PostgresLedgerConfig(host: "127.0.0.1", port: server.port, user: server.user, database: database)
            config.passwordFile = server.passwordFile
            let pg = try PostgresLedger(config)
            defer { pg.close() }

            let sqliteMigrations = try sqlite.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
            #expect(try pg.appliedMigrations() == sqliteMigrations, "each migration exists for both backends")

            let lite = try Self.sqliteSchema(sqlite)
            let post = try Self.postgresSchema(pg)
            #expect(Set(lite.columns.map(\.table)) == Set(post.columns.map(\.table)), "the same tables")
            for c in lite.columns.subtracting(post.columns).sorted(by: { $0.description < $1.description }) {
                Issue.record("SQLite has \(c); PostgreSQL has \(post.columns.filter { $0.table == c.table && $0.name == c.name }.map(\.description))")
            }
            for c in post.columns.subtracting(lite.columns).sorted(by: { $0.description < $1.description })
            where !lite.columns.contains(where: { $0.table == c.table && $0.name == c.name }) {
                Issue.record("PostgreSQL has \(c), which SQLite does not")
            }
            #expect(lite.unique == post.unique, "the same unique keys")
            #expect(lite.indexes == post.indexes, "the same named indexes")
            #expect(lite.columns.count > 150 && lite.unique.count >= 4, "the comparison saw the schema")
            // `ledger migrate` copies every table, and renumbers every AUTOINCREMENT one.
            #expect(Set(PostgresSchema.tables) == Set(lite.columns.map(\.table)))
            let autoincrement = try sqlite.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'")
            }
            #expect(Set(PostgresSchema.identityTables) == Set(autoincrement))
        }
    }

    /// Tables, columns, unique keys (by their columns: SQLite names a UNIQUE constraint's index itself) and
    /// the names of the indexes made by CREATE INDEX. A primary-key column counts as NOT NULL in both
    /// (SQLite allows NULL in a TEXT primary key unless told; PostgreSQL never does).
    static func sqliteSchema(_ ledger: Ledger) throws -> (columns: Set<Column>, unique: Set<String>, indexes: Set<String>) {
        try ledger.read { db in
            let tables = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'")
            var columns = Set<Column>(), unique = Set<String>(), indexes = Set<String>()
            for t in tables {
                for c in try db.columns(in: t) {
                    columns.insert(Column(table: t, name: c.name, type: c.type.uppercased(), notNull: c.isNotNull || c.primaryKeyIndex > 0, primaryKeyIndex: c.primaryKeyIndex))
                }
                for row in try Row.fetchAll(db, sql: "SELECT name, \"unique\" AS u, origin, partial FROM pragma_index_list(?)", arguments: [t]) {
                    let name: String = row["name"], origin: String = row["origin"]
                    if origin == "c" { indexes.insert(name) }
                    guard row["u"] as Int == 1, origin != "pk" else { continue }
                    let cols = try Row.fetchAll(db, sql: "SELECT name FROM pragma_index_info(?) ORDER BY seqno", arguments: [name]).map { ($0["name"] as String?) ?? "expr" }
                    unique.insert("\(t)(\(cols.joined(separator: ",")))\(row["partial"] as Int == 1 ? " partial" : "")")
                }
            }
            return (columns, unique, indexes)
        }
    }

    static func postgresSchema(_ ledger: PostgresLedger) throws -> (columns: Set<Column>, unique: Set<String>, indexes: Set<String>) {
        try ledger.write { tx in
            var pk: [String: Int] = [:]
            for r in try tx.rows(
                """
                SELECT kcu.table_name, kcu.column_name, kcu.ordinal_position FROM information_schema.table_constraints tc
                JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
                WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = 'public'
                """)
            {
                pk["\(r.text("table_name")!).\(r.text("column_name")!)"] = Int(r.int("ordinal_position")!)
            }
            var columns = Set<Column>()
            for r in try tx.rows("SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public'") {
                let t = r.text("table_name")!, n = r.text("column_name")!, type = r.text("data_type")!
                guard !PostgresSchema.ownTables.contains(t) else { continue }
                columns.insert(Column(table: t, name: n, type: typeMap[type] ?? type, notNull: r.text("is_nullable") == "NO", primaryKeyIndex: pk["\(t).\(n)"] ?? 0))
            }
            var unique = Set<String>(), indexes = Set<String>()
            for r in try tx.rows(
                """
                SELECT t.relname AS tbl, i.relname AS idx, ix.indisunique AS u, ix.indisprimary AS p, ix.indpred IS NOT NULL AS partial,
                  con.conname IS NOT NULL AS constraint_made,
                  array_to_string(ARRAY(SELECT COALESCE(a.attname, 'expr') FROM generate_subscripts(ix.indkey, 1) AS k
                    LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = ix.indkey[k] ORDER BY k), ',') AS cols
                FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
                JOIN pg_namespace n ON n.oid = t.relnamespace LEFT JOIN pg_constraint con ON con.conindid = ix.indexrelid
                WHERE n.nspname = 'public'
                """)
            {
                let t = r.text("tbl")!
                guard !PostgresSchema.ownTables.contains(t), r.int("p") == 0 else { continue }
                if r.int("constraint_made") == 0 { indexes.insert(r.text("idx")!) }
                if r.int("u") == 1 { unique.insert("\(t)(\(r.text("cols")!))\(r.int("partial") == 1 ? " partial" : "")") }
            }
            return (columns, unique, indexes)
        }
    }
}
