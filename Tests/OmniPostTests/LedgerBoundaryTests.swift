import Foundation
import GRDB
import OmniPostCore
@testable import OmniPostLedger
import Testing

/// The ledger's typed boundary (issue 23, outcome 5): named claims, a validated drop's plan in one
/// transaction, documents decoded in one place, events' facts as data, and the database itself refusing
/// a state outside its set — with a ledger written before all this migrating with every row intact.
@Suite struct LedgerBoundaryTests {
    func ledger(_ dir: TempDir) throws -> Ledger { try Ledger(path: dir.file("ledger.sqlite").path) }

    func delivery(_ drop: String, _ target: String, plan: PlanKind = .pass, state: DeliveryState = .planned) -> DeliveryRecord {
        DeliveryRecord(
            dropId: drop, target: target, platform: String(target.split(separator: ":")[0]), account: "main", profile: "any",
            state: state, plan: plan, planDetail: nil, specKey: nil, metadataJson: "{}", contentSha256: drop, notBefore: nil, now: 1)
    }

    /// Makes a drop from real waiting files (the way the watcher does) and moves it to `state`.
    func drop(
        _ l: Ledger, _ id: String, clipBytes: Int64 = 10, to state: DropState = .received,
        deliveries: [DeliveryRecord] = []
    ) throws {
        // A distinct inode per name: the same inode, size and mtime under another name would be a rename.
        let inode = id.utf8.reduce(Int64(7)) { ($0 &* 31 &+ Int64($1)) & 0xFF_FFFF }
        try l.recordCompleteFile(path: "\(id).mp4", size: clipBytes, mtime: 1, inode: inode, role: .clip)
        let ids = try l.waitingFiles(atAny: ["\(id).mp4"]).compactMap(\.id)
        #expect(try l.createDrop(DropRecord(id: id, pipeline: "p", stem: id, clipPath: "\(id).mp4", sidecarPath: nil, now: l.now), fileIDs: ids))
        if state == .received { return }
        try l.transitionDrop(id, from: .received, to: .validated, stage: "validate", inserting: deliveries)
        if state == .validated { return }
        try l.transitionDrop(id, from: .validated, to: state, stage: "convert")
    }

    @Test func eachStageClaimsOnlyTheDropsItsNameSays() throws {
        let dir = try TempDir()
        let l = try ledger(dir)
        // Validation's small lane passes over a large clip; the any lane takes it.
        try drop(l, "big", clipBytes: 1 << 30)
        try drop(l, "small", clipBytes: 1 << 10)
        #expect(try l.claimDropToValidate(owner: "w", after: nil, lane: .clipsAtMost(256 << 20))?.drop.id == "small")
        #expect(try l.claimDropToValidate(owner: "w", after: nil, lane: .clipsAtMost(256 << 20)) == nil)
        #expect(try l.claimDropToValidate(owner: "w", after: nil)?.drop.id == "big")
        // Conversion's quick lane passes over a drop with a transcode planned.
        try drop(l, "slow", to: .validated, deliveries: [delivery("slow", "youtube:main", plan: .transcode)])
        try drop(l, "quick", to: .validated, deliveries: [delivery("quick", "youtube:main", plan: .remux)])
        #expect(try l.claimDropToConvert(owner: "w", lane: .quick)?.id == "quick")
        #expect(try l.claimDropToConvert(owner: "w", lane: .quick) == nil)
        #expect(try l.claimDropToConvert(owner: "w")?.id == "slow")
        // Archiving waits until every delivery of a converted drop is final.
        try drop(l, "going", to: .converted, deliveries: [delivery("going", "youtube:main", state: .ready)])
        try drop(l, "done", to: .converted, deliveries: [delivery("done", "youtube:main", state: .cancelled)])
        #expect(try l.claimDropReadyToArchive(owner: "w")?.id == "done")
        #expect(try l.claimDropReadyToArchive(owner: "w") == nil)
        try drop(l, "bad")
        try l.transitionDrop("bad", from: .received, to: .rejected, stage: "validate")
        #expect(try l.claimRejectedDrop(owner: "w")?.id == "bad")
    }

    /// A validated drop's plan is one transaction: a session another drop took over first refuses it all —
    /// no delivery inserted, the drop still received, the session where it was.
    @Test func aPlanWhoseHandoverIsRefusedLeavesNothingBehind() throws {
        let dir = try TempDir()
        let l = try ledger(dir)
        try drop(l, "old", to: .validated, deliveries: [delivery("old", "tiktok:main")])
        let old = try #require(try l.deliveries(forDrop: "old").first?.id)
        try l.write { db, _ in
            try db.execute(sql: "UPDATE deliveries SET state = 'failed', remote_session = 's1', session_policy = 'handover' WHERE id = ?", arguments: [old])
        }
        try drop(l, "new1")
        try drop(l, "new2")
        try l.transitionDrop(
            "new1", from: .received, to: .validated, stage: "validate",
            handovers: [SessionHandover(from: old, target: "tiktok:main", session: "s1")], inserting: [delivery("new1", "tiktok:main")])
        #expect(try l.delivery(old)?.remoteSession == nil)
        #expect(throws: OmniError.self) {
            try l.transitionDrop(
                "new2", from: .received, to: .validated, stage: "validate",
                handovers: [SessionHandover(from: old, target: "tiktok:main", session: "s1")], inserting: [delivery("new2", "tiktok:main")])
        }
        #expect(try l.drop("new2")?.state == .received)
        #expect(try l.deliveries(forDrop: "new2").isEmpty)
        #expect(try l.deliveries(forDrop: "new1").count == 1)
    }

    @Test func theDatabaseRefusesAStateOutsideItsSet() throws {
        let dir = try TempDir()
        let l = try ledger(dir)
        try drop(l, "d1", to: .validated, deliveries: [delivery("d1", "youtube:main")])
        for sql in [
            "UPDATE drops SET state = 'published'", "UPDATE deliveries SET state = 'archived'",
            "UPDATE deliveries SET plan = 'copy'", "UPDATE deliveries SET session_policy = 'forget'"
        ] {
            #expect(throws: DatabaseError.self, "\(sql)") { try l.write { db, _ in try db.execute(sql: sql) } }
        }
        #expect(try l.drop("d1")?.state == .validated)
        #expect(try l.deliveries(forDrop: "d1").map(\.state) == [.planned])
    }

    /// A JSON column is read in one place: a document that does not decode says which column it is.
    @Test func documentsRoundTripAndABrokenOneNamesItsColumn() throws {
        var d = delivery("d1", "youtube:main")
        struct Meta: Codable, Equatable { var title: String; var tags: [String] }
        try d.setMetadata(Meta(title: "Walk", tags: ["a", "b"]))
        #expect(try d.metadata(as: Meta.self) == Meta(title: "Walk", tags: ["a", "b"]))
        #expect(try d.renditionSpec(as: Meta.self) == nil)
        d.metadataJson = "{\"title\": 1}"
        let bad = #expect(throws: OmniError.self) { try d.metadata(as: Meta.self) }
        #expect(bad?.message.contains("deliveries.metadata_json") == true)
        var drop = DropRecord(id: "d1", pipeline: "p", stem: "a", clipPath: nil, sidecarPath: nil, now: 1)
        #expect(try drop.manifest == nil)
        drop.manifestJson = "[]"
        let broken = #expect(throws: OmniError.self) { try drop.manifest }
        #expect(broken?.message.contains("drops.manifest_json") == true)
    }

    /// A ledger written by the previous version (the v1…v9 migrations, rows as that code wrote them)
    /// opens with every row intact, the CHECKs in place, and the facts its events kept in their
    /// sentences moved to `data`, where the readers now look.
    @Test func aV9LedgerMigratesWithItsRowsIntactAndItsEventFactsAsData() throws {
        let dir = try TempDir()
        let path = dir.file("ledger.sqlite").path
        let old = try DatabaseQueue(path: path)
        try Ledger.migrator.migrate(old, upTo: "v9")
        try old.write { db in
            try db.execute(
                sql: """
                    INSERT INTO files(path, size, mtime, inode, role, state, drop_id, completed_at) VALUES ('a.mp4', 10, 1, 7, 'clip', 'taken', 'd1', 1);
                    INSERT INTO drops(id, pipeline, stem, clip_path, state, manifest_json, probe_json, created_at, updated_at, finished_at, crashes, clip_identity)
                      VALUES ('d1', 'p', 'a', 'a.mp4', 'archived', '{"title":"Walk"}', '{"duration_s":2}', 1, 5, 5, 1, '1:7:10:1');
                    INSERT INTO drops(id, pipeline, stem, clip_path, state, created_at, updated_at) VALUES ('d2', 'p', 'b', 'b.mp4', 'converted', 2, 2);
                    INSERT INTO deliveries(drop_id, target, platform, account, profile, state, plan, metadata_json, content_sha256, remote_session,
                      confirmed_offset, remote_id, attempts, created_at, updated_at, bytes_sent, priority, gate, session_policy)
                      VALUES ('d1', 'youtube:main', 'youtube', 'main', 'youtube', 'published', 'transcode', '{"title":"Walk"}', 'abc', NULL,
                      10, 'v1', 1, 1, 5, 10, 3, NULL, NULL);
                    INSERT INTO deliveries(drop_id, target, platform, account, profile, state, plan, metadata_json, content_sha256, remote_session,
                      created_at, updated_at, session_policy) VALUES ('d2', 'tiktok:main', 'tiktok', 'main', 'tiktok', 'failed', 'pass', '{}', 'def',
                      'upload-1', 2, 2, 'handover');
                    INSERT INTO attempts(delivery_id, number, owner, account, started_at, finished_at, outcome) VALUES (1, 1, 'h:1:a', 'youtube:main', 1, 5, 'published');
                    INSERT INTO events(at, drop_id, target, stage, to_state, detail) VALUES (3, 'd1', 'youtube:main', 'convert', 'rendered', 'seconds=1.250 kind=transcode');
                    INSERT INTO events(at, stage, to_state, detail) VALUES (4, 'watch', 'watching', '/srv/my inbox mode=inotify fs=ext4');
                    INSERT INTO events(at, drop_id, stage, from_state, to_state, detail) VALUES (5, 'd1', 'archive', 'converted', 'archived', 'archive/2026/11/21/d1');
                    INSERT INTO events(at, stage, to_state, detail) VALUES (6, 'accounts', 'check_failed', 'tiktok:main (weekly check): invalid_grant');
                    INSERT INTO events(at, stage, to_state, detail) VALUES (7, 'convert', 'rendered', 'not the old format');
                    """)
        }
        // The columns v9 had: later migrations add their own (v20's quota round), which are not v9's rows.
        let tables = ["files", "drops", "deliveries", "attempts"]
        let columns = try old.read { db in
            try tables.map { t in try Row.fetchAll(db, sql: "PRAGMA table_info(\(t))").map { row -> String in row["name"] }.joined(separator: ", ") }
        }
        let before = try old.read { db in
            try zip(tables, columns).map { t, c in try Row.fetchAll(db, sql: "SELECT \(c) FROM \(t) ORDER BY rowid").map(\.description) }
        }
        try old.close()

        let l = try Ledger(path: path)
        let after = try l.read { db in
            try zip(tables, columns).map { t, c in try Row.fetchAll(db, sql: "SELECT \(c) FROM \(t) ORDER BY rowid").map(\.description) }
        }
        #expect(after == before)
        #expect(try l.drop("d1")?.crashes == 1 && l.drop("d1")?.clipIdentity == "1:7:10:1")
        #expect(try l.deliveries(forDrop: "d2").first?.sessionPolicy == .handover)
        #expect(try l.integrityCheck() == "ok")
        #expect(try l.read { db in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").count } == 0)
        // The indexes came back with the tables.
        let indexes = try l.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name") }
        #expect(Set(["drops_state", "drops_manifest_entry", "drops_fair", "deliveries_state", "deliveries_identity", "deliveries_slot"]).isSubset(of: Set(indexes)))

        let events = try l.events()
        #expect(events[0].data == .rendered(seconds: 1.25, work: "transcode"))
        #expect(events[1].data == .watching(inbox: "/srv/my inbox", mode: "inotify", fs: "ext4"))
        #expect(events[2].data == .filed(folder: "archive/2026/11/21/d1"))
        #expect(events[3].target == "tiktok:main" && events[3].kind == .checkFailed && events[3].eventStage == .accounts)
        // A sentence that never had the format keeps its text and gets no data.
        #expect(events[4].data == nil && events[4].detail == "not the old format")
        // The readers that parsed sentences before read the data now, old rows and new alike.
        #expect(try l.originalsFolder(dropId: "d1") == "archive/2026/11/21/d1")
        try l.note(.watching, stage: .watch, detail: "/srv/my inbox mode=poll fs=nfs", data: .watching(inbox: "/srv/my inbox", mode: "poll", fs: "nfs"))
        try l.note(.watching, stage: .watch, detail: "/srv/other mode=inotify fs=ext4", data: .watching(inbox: "/srv/other", mode: "inotify", fs: "ext4"))
        #expect(try l.watchModes().sorted() == ["/srv/my inbox mode=poll fs=nfs", "/srv/other mode=inotify fs=ext4"])
        // And the CHECKs hold on the migrated tables.
        #expect(throws: DatabaseError.self) { try l.write { db, _ in try db.execute(sql: "UPDATE drops SET state = 'gone' WHERE id = 'd2'") } }
    }
}
