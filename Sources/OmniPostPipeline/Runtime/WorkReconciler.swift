import Foundation
import OmniPostLedger

/// Startup clean-up of work/: a crash can leave half-written renditions (`.partial`) and folders of
/// drops that have since finished. Renditions of drops still in flight are kept — a rendition is only
/// renamed into place once verified, so those are reused rather than converted again.
enum WorkReconciler {
    @discardableResult
    static func reconcile(work: URL, ledger: Ledger) throws -> (removed: Int, kept: Int) {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: work.path) else { return (0, 0) }
        var removed = 0, kept = 0
        for name in entries {
            let dir = work.appendingPathComponent(name)
            let drop = try ledger.drop(name)
            let inFlight = drop.map { [.validated, .converted].contains($0.state) } ?? false
            if !inFlight {
                try? fm.removeItem(at: dir)
                removed += 1
                continue
            }
            for f in (try? fm.contentsOfDirectory(atPath: dir.path)) ?? [] where f.hasSuffix(".partial") {
                try? fm.removeItem(at: dir.appendingPathComponent(f))
                removed += 1
            }
            kept += 1
        }
        return (removed, kept)
    }
}
