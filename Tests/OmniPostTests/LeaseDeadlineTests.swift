import Foundation
import GRDB
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// Issue 30: a received drop held by a lease that nobody renews (its worker failed, or went away without
/// letting go) is validated when the lease runs out — the validate lanes name that moment as their next
/// deadline — and not up to 30 s later, when the loops' safety net would have found it.
@Suite struct LeaseDeadlineTests {
    @Test(.timeLimit(.minutes(2)))
    func aHeldDropIsValidatedWhenItsLeaseRunsOut() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url)
        try config.paths.createAll()
        // A lone sidecar, already recorded and made a drop (as the watcher and the pairing would have), held
        // by a worker of another host whose lease runs out in 1.5 s: nothing at start-up lets it go.
        try dir.write("inbox/lone.yaml", "title: its clip never comes\n")
        var st = stat()
        #expect(lstat(dir.file("inbox/lone.yaml").path, &st) == 0)
        let p = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        let ledger = p.context.ledger
        try ledger.recordFile(
            path: "lone.yaml", size: Int64(st.st_size), mtime: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9, inode: Int64(st.st_ino),
            role: .sidecar)
        let file = try #require(try ledger.waitingFiles().first { $0.path == "lone.yaml" })
        let drop = DropRecord(id: "lone-held", pipeline: config.name, stem: "lone", clipPath: nil, sidecarPath: "lone.yaml", now: Date().timeIntervalSince1970)
        #expect(try ledger.createDrop(drop, fileIDs: [try #require(file.id)]))
        let expiry = Date().timeIntervalSince1970 + 1.5
        try ledger.write { db, _ in
            try db.execute(sql: "UPDATE drops SET lease_owner = 'elsewhere:1:gone', lease_expiry = ? WHERE id = ?", arguments: [expiry, drop.id])
        }
        #expect(try ledger.nextLeaseExpiry(in: [.received]).map { abs($0.timeIntervalSince1970 - expiry) < 0.001 } == true)

        let validated = try await running(p) {
            try await RetryTests.until(seconds: 60) {
                try ledger.events(forDrop: drop.id).first { $0.stage == "validate" && $0.toState == DropState.rejected.rawValue }
            }
        }
        // Taken when the lease ran out — not before it (the lease held), and not at the 30 s safety net.
        #expect(validated.at >= expiry)
        #expect(validated.at - expiry < 10, "validated \(validated.at - expiry) s after the lease ran out")
        #expect(try ledger.drop(drop.id)?.reasonCode == ReasonCode.missingClip.rawValue)
    }
}
