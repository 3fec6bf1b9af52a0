import Foundation
import GRDB
import OmniPostCore
import OmniPostMedia
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// Issue 30's cheap drops, the parts a figure does not show (what a drop costs is `make bench`'s,
/// BENCH_ONLY=drops): a sidecar parsed once per version yet never answered from an old version, inbox
/// paths resolved without realpath(3) of the whole path yet never let out of the inbox, the `files`
/// lookups on an index after v21 dropped two, and a rejected drop's filing folder named in one place.
@Suite struct DropReadsOnceTests {
    /// A version of a sidecar (device, inode, size, mtime, ctime) is parsed once: a second read is answered
    /// from the first parse. Rewritten in place to the same size with its mtime set back (as on a share
    /// whose mtimes tick every 2 s), it is a new version all the same — its ctime moved — and gets the new
    /// parse. Validation's read takes the entry out; a new size is a new version.
    @Test func aSidecarIsParsedOncePerVersion() throws {
        let dir = try TempDir()
        let url = try dir.write("s.yaml", "title: first\n")
        var st = stat()
        #expect(lstat(url.path, &st) == 0)
        let cache = SidecarCache()
        #expect(try cache.manifest(path: url.path, displayName: "s.yaml").title?.value == "first")
        #expect(try cache.manifest(path: url.path, displayName: "s.yaml").title?.value == "first")
        #expect(cache.parses == 1, "the second read is answered from the first parse")
        // Same length, same inode, mtime set back: only the ctime tells this version from the first.
        try Data("title: other\n".utf8).write(to: url, options: [])
        var times = [st.st_atim, st.st_mtim]
        #expect(utimensat(AT_FDCWD, url.path, &times, 0) == 0)
        var after = stat()
        #expect(lstat(url.path, &after) == 0)
        #expect(after.st_ino == st.st_ino && after.st_size == st.st_size && after.st_mtim.tv_sec == st.st_mtim.tv_sec && after.st_mtim.tv_nsec == st.st_mtim.tv_nsec)
        #expect(try cache.manifest(path: url.path, displayName: "s.yaml").title?.value == "other", "not a stale parse")
        #expect(cache.parses == 2)
        // The last read (validation's) takes the entry: a later read parses the file again.
        #expect(try cache.manifest(path: url.path, displayName: "s.yaml", taking: true).title?.value == "other")
        #expect(cache.parses == 2)
        #expect(try cache.manifest(path: url.path, displayName: "s.yaml").title?.value == "other")
        #expect(cache.parses == 3)
        // A new version (another size) is read anew, and a sidecar that does not parse keeps its error.
        try Data("title: [never closed\n".utf8).write(to: url)
        #expect(throws: OmniError.self) { try cache.manifest(path: url.path, displayName: "s.yaml") }
        do {
            _ = try cache.manifest(path: url.path, displayName: "s.yaml")
        } catch let e as OmniError {
            #expect(e.code == .manifestSyntax && e.location?.file == "s.yaml", "\(e)")
        }
        #expect(cache.parses == 4)
    }

    /// The clip-list cache tells versions apart the same way: a list rewritten in place to the same size
    /// with its mtime set back is read anew.
    @Test func aClipListRewrittenInPlaceWithItsMtimeSetBackIsReadAnew() throws {
        let dir = try TempDir()
        let url = try dir.write("clips.yaml", "clips:\n  - clip: a.mp4\n    title: one\n")
        var st = stat()
        #expect(lstat(url.path, &st) == 0)
        let cache = ClipListCache()
        #expect(try cache.load(path: url.path, displayName: "clips.yaml", maxEntries: 10).entries.first?.manifest.title?.value == "one")
        try Data("clips:\n  - clip: a.mp4\n    title: two\n".utf8).write(to: url, options: [])
        var times = [st.st_atim, st.st_mtim]
        #expect(utimensat(AT_FDCWD, url.path, &times, 0) == 0)
        #expect(try cache.load(path: url.path, displayName: "clips.yaml", maxEntries: 10).entries.first?.manifest.title?.value == "two")
    }

    /// The arrival check parses a UTF-8 sidecar through the cache; one still being written (a syntax error)
    /// is still arriving; bytes that are no UTF-8 are whole (validation answers them), as before.
    @Test func theArrivalCheckSharesTheParseAndStillTellsAHalfWrittenSidecar() throws {
        let dir = try TempDir()
        let cache = SidecarCache()
        let good = try dir.write("g.yaml", "title: good\n")
        #expect(ArrivalCheck.verdict(path: good.path, role: .sidecar, named: "g.yaml", sidecars: cache) == .complete)
        let half = try dir.write("h.yaml", "title: half\ntags: [a, b\n")
        guard case .incomplete = ArrivalCheck.verdict(path: half.path, role: .sidecar, named: "h.yaml", sidecars: cache) else {
            Issue.record("a sidecar cut short is still arriving")
            return
        }
        let junk = dir.file("j.yaml")
        try Data((0..<64).map { UInt8(0x80 + $0) }).write(to: junk)
        #expect(ArrivalCheck.verdict(path: junk.path, role: .sidecar, named: "j.yaml", sidecars: cache) == .complete)
        // Validation's read after it comes from the same parse (the entry is there to take): the bytes the
        // check read were parsed, the file not read and parsed again.
        let before = cache.parses
        #expect(try cache.manifest(path: good.path, displayName: "g.yaml", taking: true).title?.value == "good")
        #expect(cache.parses == before)
    }

    /// Bytes that are no UTF-8 with room after the bad byte for a whole character (junk, a file saved in
    /// Latin-1) are refused once, by the arrival check, with `Manifest.load`'s own error, which validation
    /// then takes from the cache: the file is read and refused once, not parsed as YAML in its lossy
    /// decoding and then read and refused again (issue 30: the dearest kind of rejected sidecar). Such a
    /// file is whole at once even where its lossy decoding would not parse as YAML (no byte to come can
    /// mend it); one that ends inside a character is looked at as before.
    @Test func aSidecarThatIsNoUTF8IsReadAndRefusedOnce() throws {
        let dir = try TempDir()
        let cache = SidecarCache()
        let junk = dir.file("j.yaml")
        try Data((0..<300).map { UInt8(0x80 + ($0 * 29) % 0x7f) }).write(to: junk)
        let latin1 = dir.file("l.yaml")
        try Data("title: caf".utf8 + [0xE9] + Data(" au lait\ntags: [a, b\n".utf8)).write(to: latin1)
        for (url, name) in [(junk, "j.yaml"), (latin1, "l.yaml")] {
            let before = cache.parses
            #expect(ArrivalCheck.verdict(path: url.path, role: .sidecar, named: name, sidecars: cache) == .complete, "\(name)")
            #expect(cache.parses == before + 1)
            // Validation's read is the kept refusal, word for word what reading the file gives.
            var kept: OmniError?, fresh: OmniError?
            do { _ = try cache.manifest(path: url.path, displayName: name, taking: true) } catch let e as OmniError { kept = e }
            do { _ = try Manifest.load(path: url.path, displayName: name) } catch let e as OmniError { fresh = e }
            #expect(cache.parses == before + 1, "\(name) was parsed again")
            #expect(kept?.code == .manifestSyntax && kept?.message == fresh?.message && kept?.location == fresh?.location, "\(String(describing: kept)) against \(String(describing: fresh))")
        }
        #expect(try #require(Manifest.check(path: latin1.path, displayName: "l.yaml").problems.first).location?.description == "l.yaml:1:11")
        // Cut short inside a character (its last byte opens a two-byte one): looked at as before — its
        // lossy decoding parses, so it is whole, and validation reads it.
        let cut = dir.file("c.yaml")
        try Data("title: caf".utf8 + [0xC3]).write(to: cut)
        #expect(ArrivalCheck.verdict(path: cut.path, role: .sidecar, named: "c.yaml", sidecars: cache) == .complete)
    }

    /// A path inside the inbox resolves to where realpath(3) says, the inbox reached through a link
    /// included; a subfolder or file that is a link out of the inbox is refused; and an inbox moved after
    /// its real path was remembered is asked again rather than refusing its files.
    @Test func inboxPathsResolveAsRealpathAndNeverOutside() throws {
        let dir = try TempDir()
        let fm = FileManager.default
        let real = dir.file("real-inbox"), outside = dir.file("outside")
        for d in [real.appendingPathComponent("sub"), outside] { try fm.createDirectory(at: d, withIntermediateDirectories: true) }
        try dir.write("real-inbox/sub/a.yaml", "title: a\n")
        try dir.write("outside/secret.yaml", "title: secret\n")
        let inbox = dir.file("inbox").path
        try fm.createSymbolicLink(atPath: inbox, withDestinationPath: real.path)
        let resolved = try InboxPaths.resolveInside(inbox: inbox, relative: "sub/a.yaml")
        #expect(resolved == InboxPaths.realPath(inbox + "/sub/a.yaml") && resolved.hasSuffix("real-inbox/sub/a.yaml"))
        // Links out of the inbox, as a folder on the way and as the file itself.
        try fm.createSymbolicLink(atPath: real.appendingPathComponent("away").path, withDestinationPath: outside.path)
        try fm.createSymbolicLink(atPath: real.appendingPathComponent("sub/s.yaml").path, withDestinationPath: outside.appendingPathComponent("secret.yaml").path)
        for rel in ["away/secret.yaml", "sub/s.yaml", "sub/../../outside/secret.yaml"] {
            #expect(throws: OmniError.self, "\(rel)") { try InboxPaths.resolveInside(inbox: inbox, relative: rel) }
        }
        // A link inside the inbox to a file inside it resolves to the file.
        try fm.createSymbolicLink(atPath: real.appendingPathComponent("l.yaml").path, withDestinationPath: real.appendingPathComponent("sub/a.yaml").path)
        #expect(try InboxPaths.resolveInside(inbox: inbox, relative: "l.yaml") == resolved)
        // The inbox link pointed elsewhere: its files there are inside it now.
        let moved = dir.file("moved-inbox")
        try fm.createDirectory(at: moved, withIntermediateDirectories: true)
        try dir.write("moved-inbox/b.yaml", "title: b\n")
        try fm.removeItem(atPath: inbox)
        try fm.createSymbolicLink(atPath: inbox, withDestinationPath: moved.path)
        #expect(try InboxPaths.resolveInside(inbox: inbox, relative: "b.yaml").hasSuffix("moved-inbox/b.yaml"))
    }

    /// After v21 dropped `files_state` and `files_path`, every lookup of a path's files is still on an
    /// index: SQLite's own query plan for each, on a real ledger, scans no table.
    @Test func theFilesLookupsStayOnAnIndexWithoutTheDroppedIndexes() throws {
        let dir = try TempDir()
        let ledger = try Ledger(path: dir.file("ledger.sqlite").path)
        let indexes = try ledger.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'files'") }
        #expect(!indexes.contains("files_state") && !indexes.contains("files_path") && indexes.contains("files_identity"), "\(indexes)")
        let live = Ledger.liveFile
        let lookups = [
            "SELECT COUNT(*) AS n FROM files WHERE path = 'a' AND state = 'taken' AND \(live) AND inode = 1 AND size = 2 AND mtime = 3",
            """
            SELECT files.* FROM files JOIN drops ON drops.id = files.drop_id
            WHERE files.path = 'a' AND files.state = 'taken' AND files.\(live) AND files.role IN ('clip','sidecar')
              AND drops.state NOT IN ('archived','failed','withdrawn','rejected') ORDER BY files.id DESC LIMIT 1
            """,
            "SELECT * FROM files WHERE state = 'taken' AND \(live) AND drop_id IS NOT NULL AND path IN ('a','b') ORDER BY id DESC LIMIT 1",
            "SELECT * FROM files WHERE path = 'a' AND state = 'waiting' LIMIT 1",
            "SELECT MIN(completed_at) AS t FROM files WHERE state = 'waiting' AND role != 'other'",
            "UPDATE files SET state = 'gone' WHERE state = 'waiting' AND path IN ('a','b')"
        ]
        for q in lookups {
            let plan = try ledger.read { db in try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + q).map { $0["detail"] as String? ?? "" } }
            #expect(!plan.contains { $0.hasPrefix("SCAN files") && !$0.contains("INDEX") }, "\(q): \(plan)")
        }
    }

    /// A rejected drop is claimed with its filing into the folder the archive stage names, and filed there:
    /// the ledger's filing, the original and the report beside it agree (the folder was once written both
    /// in the claim and in the stage).
    @Test func aRejectedDropIsFiledIntoTheFolderTheStageNames() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        try config.paths.createAll()
        let ledger = try Ledger(path: config.paths.ledger.path)
        let ctx = try HostHeartbeatTests.context(config, ledger)
        let url = config.paths.inbox.appendingPathComponent("r.yaml")
        try Data("title: [never closed\n".utf8).write(to: url)
        var st = stat()
        #expect(lstat(url.path, &st) == 0)
        try ledger.recordFile(
            path: "r.yaml", size: Int64(st.st_size), mtime: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9, inode: Int64(st.st_ino),
            role: .sidecar)
        let id = try #require(try ledger.waitingFiles(atAny: ["r.yaml"]).first?.id)
        let drop = DropRecord(id: "d-r", pipeline: "test", stem: "r", clipPath: nil, sidecarPath: "r.yaml", now: Date().timeIntervalSince1970)
        #expect(try ledger.createDrop(drop, fileIDs: [id]))
        try ledger.transitionDrop("d-r", from: .received, to: .rejected, stage: "validate") { $0.reasonCode = "manifest_syntax" }

        #expect(try await ArchiveStage(ctx: ctx, lane: .rejectedAlone).step())
        let folder = ArchiveStage.filingFolder(drop, outcome: .failed)
        #expect(folder == "failed/d-r")
        #expect(try ledger.filing(of: "d-r").map { "\($0.folder) \($0.done)" } == "\(folder) true")
        #expect(try ledger.drop("d-r")?.state == .failed)
        let filed = dir.url.appendingPathComponent(folder)
        #expect(FileManager.default.fileExists(atPath: filed.appendingPathComponent("r.yaml").path))
        #expect(FileManager.default.fileExists(atPath: filed.appendingPathComponent("d-r.failure.json").path))
        #expect(FileManager.default.fileExists(atPath: config.paths.outboxFailed.appendingPathComponent("d-r.failure.json").path))
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }
}
