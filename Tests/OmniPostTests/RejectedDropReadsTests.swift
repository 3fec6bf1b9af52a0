import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// What a rejected lone sidecar costs the ledger (issue 30), counted on a real run — watcher, pairing,
/// validation, filing, status file — through the statements the ledger's connections trace
/// (`SQLStatementCount`): the drop's file rows are read once by validation and once with the filing's
/// claim (five times before: each version check read them again), its deliveries with that claim and its
/// status file's drop and deliveries in one read. Every answer is what it was: the reason code, its
/// report, the original beside it, the final status file.
@Suite struct RejectedDropReadsTests {
    @Test(.timeLimit(.minutes(3))) func aRejectedLoneSidecarReadsItsRowsOnceAStage() async throws {
        let dir = try TempDir()
        let c = try TestPipelines.config(root: dir.url.appendingPathComponent("p"), targets: "targets: [youtube:main]", missing: "defaults")
        try c.paths.createAll()
        let inbox = c.paths.inbox.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        // The bench's three kinds: bytes that are no text, a clip that never comes, YAML broken at line 2.
        let kinds: [(Data, ReasonCode)] = [
            (Data((0..<300).map { UInt8(0x80 + ($0 * 29) % 0x7f) }), .manifestSyntax),
            (Data("title: never coming\ntags: [bench]\n".utf8), .missingClip),
            (Data("title: broken\ndescription: \"never closed\ntags: [a, b\n".utf8), .manifestSyntax)
        ]
        let n = 12
        for i in 0..<n { try kinds[i % 3].0.write(to: inbox.appendingPathComponent("s\(i).yaml")) }
        let statements = SQLStatementCount.watch(path: c.paths.ledger.path)
        defer { SQLStatementCount.unwatch(path: c.paths.ledger.path) }
        // Counted from the run's start: the schema's migrations at open are no drop's.
        let p = try await TestPipelines.runOnce(c, timeout: .seconds(150), before: { _ in statements.reset() })
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            #expect(drops.count == n)
            for d in drops {
                let path = try #require(d.sidecarPath)
                let i = try #require(Int(path.dropFirst("bad/s".count).dropLast(".yaml".count)))
                #expect(d.state == .failed, "\(path): \(d.state)")
                #expect(d.reasonCode == kinds[i % 3].1.rawValue, "\(path): \(d.reasonCode ?? "none")")
                let report = try readJSON(c.paths.outboxFailed.appendingPathComponent("\(d.id).failure.json"))
                #expect((report["reason"] as? [String: Any])?["code"] as? String == d.reasonCode, "\(d.id)")
                #expect(FileManager.default.fileExists(atPath: c.paths.failed.appendingPathComponent("\(d.id)/\(path)").path), "\(d.id)")
                // Its status file, written from the one read of the drop and its deliveries: done, naming the report.
                let status = try readJSON(c.paths.outbox.appendingPathComponent("\(d.id).status.json"))
                #expect(status["state"] as? String == "failed" && status["stage"] as? String == "done", "\(d.id): \(status)")
                #expect(status["result"] as? String == "failed/\(d.id).failure.json", "\(d.id): \(status)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: inbox.path).isEmpty)
        }
        // The status writer's reads of a drop with its deliveries, its last writes at the stop included: one a
        // drop on a quiet machine, more when a filing outlasts the writer's grace under load (the file is then
        // written as it stands, then filed).
        let statusReads = p.context.statusFiles.reads
        #expect(statusReads >= n)
        let texts = statements.byText
        func count(_ sql: String) -> Int { texts[sql, default: 0] }
        let rowsOfDrop = count("SELECT * FROM files WHERE drop_id = ? ORDER BY path")
        let deliveriesOfDrop = count("SELECT * FROM deliveries WHERE drop_id = ? ORDER BY id")
        // Validation's one read, and the filing's claim's.
        #expect(rowsOfDrop == 2 * n, "file rows read \(rowsOfDrop) times for \(n) drops")
        // The filing's claim, and each of the status writer's reads with its drop (two before as well, in three reads).
        #expect(deliveriesOfDrop == n + statusReads, "deliveries read \(deliveriesOfDrop) times for \(n) drops, \(statusReads) status reads")
        // The status file's drop and deliveries in one read: no read of a drop's deliveries on its own.
        #expect(
            count("SELECT * FROM drops WHERE id = ?") <= 2 * n + statusReads,
            "\(count("SELECT * FROM drops WHERE id = ?")) reads of a drop for \(n) drops, \(statusReads) status reads")
    }
}
