import Foundation

extension LedgerSQL {
    /// Inserts `record` (its `id` left to the table) unless a unique key already holds its values:
    /// the new row's id, or nil when another row — written by another host a moment ago, perhaps — was
    /// there first. Both backends decide it in the statement (`ON CONFLICT DO NOTHING`); on PostgreSQL a
    /// rival insert not yet committed is waited for and then counts as there first.
    package func insertIfAbsent<R: Encodable>(_ record: R, into table: String) throws -> Int64? {
        var columns = try SQLRecordColumns.of(record)
        columns.removeAll { $0.name == "id" && $0.value == .null }
        let names = columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
        return try row(
            "INSERT INTO \(table) (\(names)) VALUES (\(sqlMarks(columns.count))) ON CONFLICT DO NOTHING RETURNING id", columns.map(\.value)
        )?.int("id")
    }
}
