import Foundation
import GRDB

extension Ledger {
    /// The model's answer kept for this drop's target, if it was asked before (a restart mid-validation).
    package func writtenText(dropId: String, target: String) throws -> WrittenTextRecord? {
        try read { db in
            try WrittenTextRecord.fetchOne(db, sql: "SELECT * FROM written_texts WHERE drop_id = ? AND target = ?", arguments: [dropId, target])
        }
    }

    /// Keeps a model's answer the moment it arrives. The first answer kept for a target stays: a second
    /// validation of the same drop reads it instead of asking again.
    package func keepWrittenText(_ record: WrittenTextRecord) throws {
        try write { db, _ in
            try db.execute(
                sql: """
                    INSERT INTO written_texts (drop_id, target, model, request, answer, created_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (drop_id, target) DO NOTHING
                    """, arguments: [record.dropId, record.target, record.model, record.request, record.answer, record.createdAt])
        }
    }
}
