import Foundation
import OmniPostCore
import OmniPostLedger
#if canImport(Glibc)
    import Glibc
#endif

/// A drop's file where it was taken: its folder reached from the inbox folder's descriptor one part at a
/// time without following a link, and the entry itself `lstat`ed there. Every use of a user's file after
/// it was taken — reading a slideshow's images, filing the originals away — starts here, never from a
/// path re-resolved through the inbox: a subfolder swapped for a link to elsewhere (with files of the
/// same names) then leads nowhere, instead of to the outside files.
struct TakenFile {
    let rel: String
    let folder: BeneathDirectory
    let name: String
    /// What the entry is now, not followed.
    let st: stat

    /// Where a drop's file is, from the inbox.
    enum Place {
        case here(TakenFile)
        /// Nothing by that name in a real folder of the inbox.
        case gone
        /// A folder on the way is a link (or not a folder): nothing there is the drop's.
        case unreachable(String)
    }

    static func locate(_ rel: String, in inbox: BeneathDirectory) -> Place {
        let parts = rel.split(separator: "/").map(String.init)
        guard let name = parts.last, !parts.contains(".."), !parts.contains(".") else { return .unreachable("'\(rel)' does not name a file inside the inbox") }
        let folderRel = parts.dropLast().joined(separator: "/")
        let folder: BeneathDirectory
        do { folder = try inbox.subdirectory(folderRel, create: false) } catch let e as BeneathDirectory.Failure {
            if e.errno == ENOENT { return .gone }
            return .unreachable(e.isLink ? "its folder \(folderRel) is now a link (or not a folder), not the folder it was taken from" : "\(e)")
        } catch {
            return .unreachable("\(error)")
        }
        guard let st = folder.lstat(name) else { return .gone }
        return .here(TakenFile(rel: rel, folder: folder, name: name, st: st))
    }

    /// How the entry differs from the ledger's row for it (inode, size, mtime), or nil when it is that file.
    func change(from row: FileRecord) -> String? {
        let mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        if Int64(st.st_ino) != row.inode { return "it was replaced by another file" }
        if Int64(st.st_size) != row.size { return "it changed size (\(row.size) → \(st.st_size) bytes)" }
        // Within a microsecond is the same time: a recorded mtime may have gone through `Date` (whose
        // reference-date arithmetic rounds below that); a rewrite moves it by far more.
        if abs(mtime - row.mtime) > 1e-6 { return "it was written to again" }
        return nil
    }
}

extension PipelineContext {
    /// The inbox folder, opened once for a stage's step (it is the operator's configuration).
    func openInbox() throws -> BeneathDirectory {
        do { return try BeneathDirectory(path: paths.inbox.path) } catch { throw OmniError(.archiveIO, "\(error)") }
    }

    /// The ledger's row for a drop's file: the one the drop took, or — for a file it only names (a cover
    /// image) — the newest the watcher recorded at that path.
    func takenRow(_ drop: DropRecord, path: String, rows: [FileRecord]? = nil) throws -> FileRecord? {
        if let row = try (rows ?? ledger.files(ofDrop: drop.id)).first(where: { $0.path == path }) { return row }
        return try ledger.waitingFiles(atAny: [path]).max { ($0.id ?? 0) < ($1.id ?? 0) }
    }

    /// A name in the drop's work folder for the drop's file `rel`, made from a descriptor opened where the
    /// file was taken and checked against its ledger row: a hard link (or a checked copy) that nobody
    /// else can change. ffmpeg reads this, never the inbox path. Throws `SourceChanged` when the file is
    /// not the one taken (its folder swapped for a link, the file replaced or gone).
    func pinnedInput(_ drop: DropRecord, rel: String, inbox: BeneathDirectory, rows: [FileRecord]) throws -> String {
        try pinnedInput(drop, rel: rel, inbox: inbox, rows: rows, copying: true)!
    }

    /// `pinnedInput`; with `copying` false, nil where the work folder cannot hard-link it (a clip is not
    /// copied whole only to be read once: it is then read by its path, checked before and after).
    func pinnedInput(_ drop: DropRecord, rel: String, inbox: BeneathDirectory, rows: [FileRecord], copying: Bool) throws -> String? {
        let taken: TakenFile
        switch TakenFile.locate(rel, in: inbox) {
        case .here(let t): taken = t
        case .gone: throw SourceChanged(reason: "\(rel) is gone from where it was taken; nothing was read")
        case .unreachable(let why): throw SourceChanged(reason: "\(rel) was not read: \(why)")
        }
        if let row = try takenRow(drop, path: rel, rows: rows), let why = taken.change(from: row) {
            throw SourceChanged(reason: "\(rel) changed after it was taken (\(why)); nothing was read")
        }
        if taken.st.st_mode & S_IFMT == S_IFLNK {
            // A link the drop took as it is (its folders checked above): read where it leads only if that
            // is inside the inbox, as validation did — `path_escape` otherwise.
            return try InboxPaths.resolveInside(inbox: paths.inbox.path, relative: rel)
        }
        guard BeneathDirectory.isRegular(taken.st) else { throw SourceChanged(reason: "\(rel) is no longer a regular file; nothing was read") }
        let fd: Int32
        do { fd = try taken.folder.openExpected(taken.name, expected: taken.st) } catch let e as OmniError {
            throw SourceChanged(reason: "\(rel) was not read: \(e.message)")
        }
        let pinned: PinnedFile
        do { pinned = try PinnedFile(adopting: fd, path: inboxPath(rel)) } catch let e as OmniError {
            throw SourceChanged(reason: "\(rel) was not read: \(e.message)")
        }
        let work = paths.work.appendingPathComponent(drop.id).path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        do { return try pinned.privateName(in: work, name: taken.name, copying: copying) } catch let e as OmniError where e.code == .sourceChanged {
            throw SourceChanged(reason: "\(rel) was not read: it changed after it was taken")
        }
    }

    /// Removes the private names `pinnedInput` made for a drop once ffmpeg is done with them: a hard link
    /// left in work/ would give the original a second link, and the archive files such a file as a copy.
    func removePinnedInputs(_ drop: DropRecord) {
        let work = paths.work.appendingPathComponent(drop.id)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? [] where name.hasPrefix(".omnipost-private-") {
            try? FileManager.default.removeItem(at: work.appendingPathComponent(name))
        }
    }
}
