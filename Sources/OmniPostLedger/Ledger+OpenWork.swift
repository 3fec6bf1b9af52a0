import Foundation

extension Ledger {
    /// Whether anything is open that a stage loop takes up, now or within `horizon` seconds: a file
    /// waiting to pair, or a drop not yet final — unless it is converted and every delivery it still has
    /// open waits for a later time (a schedule, a quota window, a person's approval), which the upload
    /// stage names as its own deadline —, or a published post the verify stage has not yet entered for its
    /// read-back (its own deadline only knows entered ones). What the process-wide safety net (`SafetyNet`) asks each round
    /// before it rings a pipeline's stage loops: an idle ledger answers no from two index look-ups.
    package func anyOpenWork(horizon: Double) throws -> Bool {
        let limit = now + horizon
        return try readSQL { sql in
            try sql.int(
                """
                SELECT CASE WHEN EXISTS (SELECT 1 FROM files WHERE state = 'waiting' AND role != 'other')
                  OR EXISTS (SELECT 1 FROM drops WHERE state IN ('received','validated','rejected'))
                  OR EXISTS (SELECT 1 FROM drops WHERE state = 'converted' AND (
                    NOT EXISTS (SELECT 1 FROM deliveries WHERE deliveries.drop_id = drops.id
                        AND state NOT IN ('published','failed','cancelled'))
                    OR EXISTS (SELECT 1 FROM deliveries WHERE deliveries.drop_id = drops.id
                        AND state NOT IN ('published','failed','cancelled')
                        AND (not_before IS NULL OR not_before <= ?))))
                  OR EXISTS (SELECT 1 FROM deliveries d WHERE d.state = 'published'
                    AND NOT EXISTS (SELECT 1 FROM post_checks c WHERE c.delivery_id = d.id))
                THEN 1 ELSE 0 END AS n
                """, [.real(limit)]) == 1
        }
    }
}
