import Foundation
import OmniPostCore
import OmniPostLedger

/// The table `make demo` ends with: drop, target, state, remote id / URL (or the reason).
public enum SummaryTable {
    public static func render(ledger: Ledger, since: Date?) throws -> String {
        let drops = try ledger.drops().filter { since == nil || $0.createdAt >= since!.timeIntervalSince1970 }
        var rows: [[String]] = [["DROP", "TARGET", "STATE", "REMOTE ID / URL or REASON"]]
        for d in drops {
            let deliveries = try ledger.deliveries(forDrop: d.id)
            if deliveries.isEmpty {
                rows.append([d.id, "-", d.state.rawValue, [d.reasonLocation, d.reasonCode, d.reasonMessage].compactMap { $0 }.joined(separator: " ")])
            }
            for x in deliveries {
                let what = x.state == .published ? "\(x.remoteId ?? "") \(x.remoteUrl ?? "")" : [x.errorCode, x.errorMessage].compactMap { $0 }.joined(separator: ": ")
                rows.append([d.id, x.target, x.state.rawValue, what])
            }
        }
        if rows.count == 1 { return "(no drops)" }
        let widths = (0..<3).map { c in rows.map { $0[c].count }.max() ?? 0 }
        // Every cell may carry user text (a file name, a platform's message): controls shown, not obeyed.
        rows = rows.map { $0.map { TerminalText.escape($0) } }
        return rows.map { r in
            (0..<3).map { r[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + r[3]
        }.joined(separator: "\n")
    }
}
