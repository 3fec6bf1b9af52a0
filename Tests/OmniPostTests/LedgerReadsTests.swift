import Foundation
import GRDB
import OmniPostCore
@testable import OmniPostLedger
import Testing

/// Issue 30's cheap drops, the ledger's reads: what the shortcuts read is what the long ways read.
@Suite struct LedgerReadsTests {
    /// The archive stage asks who approved a drop with one row (`lastEvent`), not the drop's whole timeline:
    /// the latest `approved` event of that drop, none for a drop never approved, never another drop's.
    @Test(arguments: LedgerBackendKind.available) func theLastEventOfAKindIsTheTimelinesLast(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            for id in ["d1", "d2"] {
                #expect(try l.createDrop(DropRecord(id: id, pipeline: "p", stem: id, clipPath: "\(id).mp4", sidecarPath: nil, now: 1), fileIDs: []))
            }
            #expect(try l.lastEvent(forDrop: "d1", kind: .approved) == nil)
            try l.note(.approved, stage: .validate, dropId: "d1", detail: "approved by ana")
            try l.note(.awaitingApproval, stage: .validate, dropId: "d1", detail: "waits")
            try l.note(.approved, stage: .validate, dropId: "d1", detail: "approved by bo, with edits")
            try l.note(.approved, stage: .validate, dropId: "d2", detail: "approved by cy")
            try l.transitionDrop("d1", from: .received, to: .validated, stage: "validate")
            let last = try #require(try l.lastEvent(forDrop: "d1", kind: .approved))
            let timeline = try #require(try l.events(forDrop: "d1").last(where: { $0.kind == .approved }))
            #expect(last.detail == "approved by bo, with edits" && last.id == timeline.id && last.dropId == "d1")
            #expect(try l.lastEvent(forDrop: "d2", kind: .approved)?.detail == "approved by cy")
            #expect(try l.lastEvent(forDrop: "d2", kind: .renamed) == nil)
        }
    }

    /// SQLite rows read through a cursor by column index: every storage class as before (a blob as its
    /// text), NULL as `.null`, a name given twice keeping its last column's value, and several rows.
    @Test func sqliteRowsReadByIndexKeepEveryValue() throws {
        let dir = try TempDir()
        let l = try Ledger(path: dir.file("l.sqlite").path)
        let rows = try l.writer.read { db in
            try SQLiteSQL(db: db).rows(
                "SELECT 7 AS i, 2.5 AS r, 'été' AS t, CAST('bytes' AS BLOB) AS b, NULL AS n, 1 AS twice, 2 AS twice UNION ALL SELECT 8, 0.5, '', X'', NULL, 3, 4",
                [])
        }
        #expect(rows.count == 2)
        #expect(rows[0]["i"] == .integer(7) && rows[0]["r"] == .real(2.5) && rows[0]["t"] == .text("été") && rows[0]["b"] == .text("bytes"))
        #expect(rows[0]["n"] == .null && rows[0].values.keys.contains("n") && rows[0]["twice"] == .integer(2))
        #expect(rows[1]["i"] == .integer(8) && rows[1]["t"] == .text("") && rows[1]["twice"] == .integer(4) && rows[1].values.count == 6)
        // With arguments, from the statement cache, twice.
        for _ in 0..<2 {
            let one = try l.writer.read { db in try SQLiteSQL(db: db).rows("SELECT ? AS a, ? AS b", [.text("x"), .integer(3)]) }
            #expect(one.count == 1 && one[0]["a"] == .text("x") && one[0]["b"] == .integer(3))
        }
        #expect(SQLiteSQL.isSeveral("SELECT 1; SELECT 2") && !SQLiteSQL.isSeveral("SELECT 1"))
    }
}
