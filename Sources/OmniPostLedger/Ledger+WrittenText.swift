import Foundation

extension Ledger {
    /// The model's answer kept for this drop's target, if it was asked before (a restart mid-validation).
    package func writtenText(dropId: String, target: String) throws -> WrittenTextRecord? {
        try readSQL { sql in
            try sql.fetchOne(WrittenTextRecord.self, "SELECT * FROM written_texts WHERE drop_id = ? AND target = ?", [.text(dropId), .text(target)])
        }
    }

    /// Keeps a model's answer the moment it arrives. The first answer kept for a target stays: a second
    /// validation of the same drop reads it instead of asking again.
    package func keepWrittenText(_ record: WrittenTextRecord) throws {
        try writeSQL { sql, _ in
            try sql.run(
                """
                INSERT INTO written_texts (drop_id, target, model, request, answer, created_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (drop_id, target) DO NOTHING
                """, record.dropId, record.target, record.model, record.request, record.answer, record.createdAt)
        }
    }
}
