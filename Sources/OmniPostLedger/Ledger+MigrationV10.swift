import Foundation
import GRDB
import OmniPostCore

extension Ledger {
    /// v10. A state column holds one of a closed set of values: the database refuses any other, whoever
    /// writes it (a second backend, a hand-edited file, a bug). SQLite cannot add a CHECK to a table, so
    /// `drops` and `deliveries` are rebuilt as its documentation says (create the new table, copy, drop
    /// the old one, rename, re-create the indexes) — GRDB runs a migration with foreign keys off and checks
    /// them all before committing. And events gain `data`: the facts older rows kept inside their
    /// sentence are moved there once, here, so no reader parses a sentence again.
    static func migrateV10(_ db: Database) throws {
        try rebuild(
            db, table: "drops", schema: dropsV10,
            indexes: [
                "CREATE INDEX drops_state ON drops(state, created_at)",
                "CREATE UNIQUE INDEX drops_manifest_entry ON drops(source_file_id, manifest_entry) WHERE manifest_entry IS NOT NULL",
                "CREATE INDEX drops_fair ON drops(state, \(fairKeySQL), created_at)"
            ])
        try rebuild(
            db, table: "deliveries", schema: deliveriesV10,
            indexes: [
                "CREATE INDEX deliveries_state ON deliveries(state, not_before)",
                "CREATE INDEX deliveries_identity ON deliveries(content_sha256, target)",
                "CREATE INDEX deliveries_slot ON deliveries(slot_at) WHERE slot_at IS NOT NULL"
            ])
        try db.execute(sql: "ALTER TABLE events ADD COLUMN data TEXT")
        try moveEventFactsToData(db)
    }

    /// `'a','b',…` of a closed set's raw values, for a CHECK.
    static func sqlList(_ values: [String]) -> String { values.map { "'\($0)'" }.joined(separator: ",") }

    private static var dropsV10: String {
        """
        CREATE TABLE new_drops (
          id TEXT PRIMARY KEY,
          pipeline TEXT NOT NULL,
          stem TEXT NOT NULL,
          clip_path TEXT,
          sidecar_path TEXT,
          source_file_id INTEGER,
          manifest_entry INTEGER,
          clip_sha256 TEXT,
          clip_bytes INTEGER,
          state TEXT NOT NULL CHECK (state IN (\(sqlList(DropState.allCases.map(\.rawValue))))),
          reason_code TEXT,
          reason_message TEXT,
          reason_location TEXT,
          manifest_json TEXT,
          probe_json TEXT,
          assets_json TEXT,
          duplicate_of TEXT,
          lease_owner TEXT,
          lease_expiry REAL,
          created_at REAL NOT NULL,
          updated_at REAL NOT NULL,
          finished_at REAL,
          crashes INTEGER NOT NULL DEFAULT 0,
          clip_identity TEXT
        )
        """
    }

    private static var deliveriesV10: String {
        """
        CREATE TABLE new_deliveries (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          drop_id TEXT NOT NULL REFERENCES drops(id),
          target TEXT NOT NULL,
          platform TEXT NOT NULL,
          account TEXT NOT NULL,
          profile TEXT NOT NULL,
          state TEXT NOT NULL CHECK (state IN (\(sqlList(DeliveryState.allCases.map(\.rawValue))))),
          plan TEXT NOT NULL CHECK (plan IN (\(sqlList(PlanKind.allCases.map(\.rawValue))))),
          plan_detail TEXT,
          spec_key TEXT,
          spec_json TEXT,
          metadata_json TEXT NOT NULL,
          content_sha256 TEXT NOT NULL,
          rendition_path TEXT,
          rendition_sha256 TEXT,
          rendition_bytes INTEGER,
          cover_path TEXT,
          remote_session TEXT,
          confirmed_offset INTEGER NOT NULL DEFAULT 0,
          remote_id TEXT,
          remote_url TEXT,
          attempts INTEGER NOT NULL DEFAULT 0,
          not_before REAL,
          error_code TEXT,
          error_message TEXT,
          lease_owner TEXT,
          lease_expiry REAL,
          created_at REAL NOT NULL,
          updated_at REAL NOT NULL,
          upload_started_at REAL,
          upload_finished_at REAL,
          bytes_sent INTEGER NOT NULL DEFAULT 0,
          priority INTEGER NOT NULL DEFAULT 0,
          scheduled_at REAL,
          slot_at REAL,
          gate TEXT,
          session_policy TEXT CHECK (session_policy IN (\(sqlList(SessionPolicy.allCases.map(\.rawValue))))),
          UNIQUE (drop_id, target)
        )
        """
    }

    /// SQLite's twelve-step table change, the parts this ledger needs: the old table's columns are
    /// copied by name, so the new schema only has to hold them all.
    private static func rebuild(_ db: Database, table: String, schema: String, indexes: [String]) throws {
        try db.execute(sql: schema)
        let columns = try db.columns(in: table).map { "\"\($0.name)\"" }.joined(separator: ", ")
        try db.execute(sql: "INSERT INTO new_\(table) (\(columns)) SELECT \(columns) FROM \(table)")
        try db.execute(sql: "DROP TABLE \(table)")
        try db.execute(sql: "ALTER TABLE new_\(table) RENAME TO \(table)")
        for index in indexes { try db.execute(sql: index) }
    }

    /// Facts older events kept in their sentence, moved to `data` (and an account check's account to
    /// `target`). This is the one place the old formats are read; a sentence that does not parse keeps
    /// its text and gets no data — the reader then counts nothing for it, as before.
    private static func moveEventFactsToData(_ db: Database) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // One statement compiled once: a ledger of years has a rendered event per rendition.
        let update = try db.cachedStatement(sql: "UPDATE events SET data = ? WHERE id = ?")
        func store(_ id: Int64, _ data: EventData) throws {
            try update.execute(arguments: [String(decoding: try encoder.encode(data), as: UTF8.self), id])
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, detail FROM events WHERE stage = 'convert' AND to_state = 'rendered' AND detail IS NOT NULL") {
            if let data = LegacyEventDetail.rendered(row["detail"]) { try store(row["id"], data) }
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, detail FROM events WHERE stage = 'watch' AND to_state = 'watching' AND detail IS NOT NULL") {
            if let data = LegacyEventDetail.watching(row["detail"]) { try store(row["id"], data) }
        }
        // The folder was the whole sentence: moved as it is, in one statement (the JSON `EventData.filed` decodes).
        try db.execute(
            sql: """
                UPDATE events SET data = json_object('filed', json_object('folder', detail))
                WHERE stage = 'archive' AND to_state IN ('archived','failed') AND drop_id IS NOT NULL AND detail IS NOT NULL
                """)
        try db.execute(
            sql: """
                UPDATE events SET target = substr(detail, 1, instr(detail, ' ') - 1)
                WHERE stage = 'accounts' AND target IS NULL AND instr(COALESCE(detail, ''), ' ') > 1
                """)
    }
}

/// The text formats events had before v10, read once by the migration.
enum LegacyEventDetail {
    /// `seconds=1.234 kind=transcode`.
    static func rendered(_ detail: String) -> EventData? {
        let fields = Dictionary(
            detail.split(separator: " ").compactMap { f -> (String, String)? in
                let kv = f.split(separator: "=", maxSplits: 1)
                return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
            }, uniquingKeysWith: { a, _ in a })
        guard let seconds = fields["seconds"].flatMap(Double.init) else { return nil }
        return .rendered(seconds: seconds, work: fields["kind"] ?? "other")
    }

    /// `<inbox> mode=<mode> fs=<fs>` (the inbox path may hold spaces: the last ` mode=` ends it).
    static func watching(_ detail: String) -> EventData? {
        guard let m = detail.range(of: " mode=", options: .backwards) else { return nil }
        let rest = detail[m.upperBound...]
        let mode = rest.split(separator: " ").first.map(String.init) ?? ""
        let fs = rest.range(of: " fs=").map { String(rest[$0.upperBound...]) } ?? ""
        return .watching(inbox: String(detail[..<m.lowerBound]), mode: mode, fs: fs)
    }
}
