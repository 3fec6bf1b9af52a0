import Foundation
import OmniPostCore
import OmniPostLedger

/// Writes one ledger table between two times as CSV (a header, then a record per row) or JSON (an array
/// of objects), page by page as the rows are read: a year of data never sits in memory at once.
package enum LedgerExport {
    package enum Format: String, Sendable, CaseIterable { case csv, json }

    /// Rows read per page.
    package static let page = 1000

    /// Returns how many rows were written.
    @discardableResult
    package static func write(
        _ table: Ledger.ExportTable, ledger: Ledger, from: Date, to: Date, format: Format, pageSize: Int = page, to out: (String) throws -> Void
    ) throws -> Int {
        let columns = table.columns
        var cursor: Int64? = 0
        var count = 0
        switch format {
        case .csv: try out(CSV.line(columns))
        case .json: try out("[")
        }
        while let after = cursor {
            let (rows, next) = try ledger.exportPage(table, from: from.timeIntervalSince1970, to: to.timeIntervalSince1970, after: after, limit: pageSize)
            var chunk = ""
            for row in rows {
                switch format {
                case .csv: chunk += CSV.line(row.map(csvText))
                case .json:
                    let fields = zip(columns, row).map { "\(jsonString($0)):\(jsonValue($1))" }.joined(separator: ",")
                    chunk += (count == 0 ? "\n{" : ",\n{") + fields + "}"
                }
                count += 1
            }
            if !chunk.isEmpty { try out(chunk) }
            cursor = next
        }
        if format == .json { try out(count == 0 ? "]\n" : "\n]\n") }
        return count
    }

    /// A value as its CSV field: nothing for null, numbers as Swift writes them (they read back exactly).
    package static func csvText(_ v: Ledger.ExportValue) -> String {
        switch v {
        case .null: return ""
        case .integer(let i): return String(i)
        case .real(let d): return String(d)
        case .text(let s): return s
        }
    }

    static func jsonValue(_ v: Ledger.ExportValue) -> String {
        switch v {
        case .null: return "null"
        case .integer(let i): return String(i)
        case .real(let d): return d.isFinite ? String(d) : "null"
        case .text(let s): return jsonString(s)
        }
    }

    static func jsonString(_ s: String) -> String {
        String(decoding: (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}
