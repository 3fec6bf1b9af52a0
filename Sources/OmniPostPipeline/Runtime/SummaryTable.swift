import Foundation
import OmniPostCore
import OmniPostLedger

/// The table `make demo` and `status` end with: drop, delivery number (what `omnipost retry` takes),
/// target, state (a conversion under way with its %), remote id / URL (or the reason).
package enum SummaryTable {
    package static func render(ledger: Ledger, since: Date?, filter: StatusFilter = .all) throws -> String {
        var drops = try ledger.drops().filter { since == nil || $0.createdAt >= since!.timeIntervalSince1970 }.filter(filter.keeps)
        var rows: [[String]] = [["DROP", "ID", "TARGET", "STATE", "REMOTE ID / URL or REASON"]]
        var picked: [(DropRecord, [DeliveryRecord])] = []
        // Newest last, as before; `limit` keeps the newest drops that pass the filter.
        for d in drops.reversed() {
            if let limit = filter.limit, picked.count >= limit { break }
            let deliveries = try ledger.deliveries(forDrop: d.id).filter { filter.keeps(d, $0) }
            if deliveries.isEmpty, !(filter.keeps(d, nil) && filter.target == nil) { continue }
            picked.append((d, deliveries))
        }
        drops = []
        for (d, deliveries) in picked.reversed() {
            if deliveries.isEmpty {
                rows.append([d.id, "-", "-", try state(of: d, ledger: ledger), [d.reasonLocation, d.reasonCode, d.reasonMessage].compactMap { $0 }.joined(separator: " ")])
            }
            for x in deliveries {
                let what = x.state == .published ? "\(x.remoteId ?? "") \(x.remoteUrl ?? "")" : [x.errorCode, x.errorMessage].compactMap { $0 }.joined(separator: ": ")
                rows.append([d.id, x.id.map { "\($0)" } ?? "-", x.target, x.state.rawValue, what])
            }
        }
        if rows.count == 1 { return "(no drops)" }
        let widths = (0..<4).map { c in rows.map { $0[c].count }.max() ?? 0 }
        // Every cell may carry user text (a file name, a platform's message): controls shown, not obeyed.
        rows = rows.map { $0.map { TerminalText.escape($0) } }
        return rows.map { r in
            (0..<4).map { r[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + r[4]
        }.joined(separator: "\n")
    }

    /// A drop's state, and for one being converted now, how far ffmpeg is (its last progress note).
    static func state(of d: DropRecord, ledger: Ledger) throws -> String {
        guard d.state == .validated, (d.leaseExpiry ?? 0) > ledger.clock.now().timeIntervalSince1970 else { return d.state.rawValue }
        let progress = try ledger.events(forDrop: d.id).last { $0.kind == .progress && $0.eventStage == .convert }
        return "converting" + (progress?.detail.map { " \($0)" } ?? "")
    }
}
