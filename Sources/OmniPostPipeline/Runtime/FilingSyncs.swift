import Foundation
import OmniPostCore

/// The folders one filing changed, each synced once however many entries it gained (issue 30: a folder's
/// fsync per original moved, and another for the report, made most of a rejected drop's syncs), in the
/// order they were added. Review finding: a folder created for a filing (`failed/<drop>/`, a subfolder of
/// it) is an entry in its parent — the parent is synced too, or a power cut could keep the inbox name's
/// removal and lose the folder the original went to.
final class FilingSyncs {
    private let syncer: DirectorySyncer
    private var folders: [BeneathDirectory] = []
    private var seen: Set<String> = []

    init(_ syncer: DirectorySyncer) { self.syncer = syncer }

    func add(_ folder: BeneathDirectory) {
        if seen.insert(folder.path).inserted { folders.append(folder) }
    }

    /// A folder by path (the pipeline's own: `failed/`, an archive day).
    func add(path: String) throws {
        if !seen.contains(path) { add(try BeneathDirectory(path: path)) }
    }

    func syncAll() {
        for f in folders { syncer.sync(f) }
        folders.removeAll()
    }
}
