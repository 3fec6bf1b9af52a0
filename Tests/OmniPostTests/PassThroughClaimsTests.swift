import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// Issue 30 (r16), on a running pipeline: the stages' empty claims are reads now (`Ledger.worthClaiming`),
/// and nothing waits for it. Every loop has looked and found nothing before each drop comes; each drop
/// is still validated, converted, published, read back and filed at once — never left to the 30 s safety
/// net — and the write transactions a drop costs are its own steps, not empty claims.
@Suite struct PassThroughClaimsTests {
    @Test(.timeLimit(.minutes(3))) func dropsComingAfterEmptyLooksArePublishedAndFiledAtOnce() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url.appendingPathComponent("p"), targets: "targets: [folder:nas]")
        try config.paths.createAll()
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        let statements = SQLStatementCount.watch(path: config.paths.ledger.path)
        defer { SQLStatementCount.unwatch(path: config.paths.ledger.path) }
        let p = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        try await stopping(p) {
            let runner = Task { try await p.run(once: false) }
            defer { runner.cancel() }
            // Every loop has taken its first look, found nothing and gone to sleep.
            try await Task.sleep(for: .seconds(1))
            statements.reset()
            let ledger = p.context.ledger
            var drops: [DropRecord] = []
            for i in 0..<3 {
                let came = ContinuousClock.now
                try FirstReadBackTests.distinct(clip, i).write(to: config.paths.inbox.appendingPathComponent("c\(i).mp4"))
                try Data("title: after an empty look \(i)\n".utf8).write(to: config.paths.inbox.appendingPathComponent("c\(i).yaml"))
                let drop = try await RetryTests.until(seconds: 60) { try ledger.drops().first { $0.clipPath == "c\(i).mp4" && $0.state.isTerminal } }
                let took = ContinuousClock.now - came
                #expect(drop.state == .archived, "c\(i): \(drop.state) \(drop.reasonCode ?? "")")
                // Settle (200 ms) and the steps: seconds at most on a loaded machine; a stage left to the
                // safety net would take 30 s.
                #expect(took < .seconds(20), "c\(i) filed \(took) after it came")
                drops.append(drop)
            }
            for d in drops {
                let deliveries = try ledger.deliveries(forDrop: d.id)
                #expect(deliveries.map(\.state) == [.published], "\(d.id)")
                // Entered for its read-back (the folder's first read made with the post).
                #expect(try ledger.postCheck(deliveryId: try #require(deliveries.first?.id)) != nil, "\(d.id)")
                #expect(FileManager.default.fileExists(atPath: config.paths.outbox.appendingPathComponent("\(d.id).result.json").path))
            }
        }
        let texts = statements.byText
        let writes = texts.filter { $0.key.hasPrefix("BEGIN IMMEDIATE") }.values.reduce(0, +)
        let reads = texts.filter { $0.key.hasPrefix("BEGIN DEFERRED") }.values.reduce(0, +)
        // Each drop's own steps write (its two files, the drop, validation's and conversion's claims and
        // moves, the upload's claim, session, checkpoint and post, the filing's claim and move): 13–14 a
        // drop here; the empty claims made it ~26 before (bench, r15). Not a timing: a count of commits.
        #expect(writes <= 3 * 17, "\(writes) write transactions for 3 drops (\(reads) reads)")
    }
}
