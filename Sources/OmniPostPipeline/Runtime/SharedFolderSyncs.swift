import Foundation
import OmniPostCore

/// Folders every filing of a burst changes — the inbox folders the originals leave, and
/// outbox/failed/ where the failure reports get their first names — synced once for the filings of a burst (group
/// commit) rather than once each (issue 30: six fsyncs a rejected drop, two of them of the same folders
/// each time). Only what no guarantee waits on is deferred here: an original is already under its
/// synced name in its filing folder, beside its synced report, before its inbox name goes (`FilingSyncs`);
/// a power cut before this sync can only bring an inbox name back (a file already filed: the ledger knows
/// it as taken, it is no new drop) or lose the outbox's name of a report whose copy in the filing folder
/// is synced. Synced when an archive lane finds nothing more to file, and after every `most` filings.
final class SharedFolderSyncs: @unchecked Sendable {
    private let lock = NSLock()
    private var dirty: [(path: String, folder: BeneathDirectory)] = []
    private var filings = 0
    static let most = 32

    func add(_ folder: BeneathDirectory) {
        lock.withLock { if !dirty.contains(where: { $0.path == folder.path }) { dirty.append((folder.path, folder)) } }
    }

    /// A folder by path (outbox/failed/): opened only the first time in a burst.
    func add(path: String) {
        if lock.withLock({ dirty.contains { $0.path == path } }) { return }
        // A folder that cannot be opened now (descriptors run out) is synced by its path at once instead.
        if let folder = try? BeneathDirectory(path: path) { add(folder) } else { SafeFiles.fsyncDirectory(URL(fileURLWithPath: path)) }
    }

    /// One filing done: the folders are synced when `most` have been.
    func filed(_ syncer: DirectorySyncer) {
        if lock.withLock({ () -> Bool in
            filings += 1
            return filings >= Self.most
        }) {
            flush(syncer)
        }
    }

    func flush(_ syncer: DirectorySyncer) {
        let folders = lock.withLock {
            let out = dirty
            dirty.removeAll()
            filings = 0
            return out
        }
        for f in folders { syncer.sync(f.folder) }
    }
}
