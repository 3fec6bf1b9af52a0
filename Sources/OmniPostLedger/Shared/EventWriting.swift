import Foundation

extension Ledger {
    /// Writes `event` to the audit trail inside the operation's transaction and keeps it, with its id,
    /// for the observer (told once the transaction has committed). Returns it as written.
    @discardableResult
    static func record(_ event: EventRecord, _ sql: any LedgerSQL, _ events: inout [EventRecord]) throws -> EventRecord {
        var e = event
        e.id = try sql.insert(e, into: "events")
        events.append(e)
        return e
    }
}
