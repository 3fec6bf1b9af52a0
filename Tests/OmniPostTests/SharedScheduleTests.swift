import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// The schedule shared across hosts (issue 27): `publish_at: next_slot` reads the slots taken and takes
/// the first free one. Two hosts on one PostgreSQL ledger validating next_slot drops at the same time —
/// the real validate stage on each, two pipelines on one root — never take one slot twice: the read and
/// the write of the drop's deliveries happen under the ledger's decisions lock.
@Suite(.enabled(if: PostgresServer.available, "PostgreSQL is not installed (make test installs it)"))
struct SharedScheduleTests {
    static let drops = 8

    @Test(.timeLimit(.minutes(5))) func twoHostsValidatingAtOnceNeverTakeOneSlotTwice() async throws {
        try await withPostgresDatabase { server, database in
            let dir = try TempDir()
            // A slot every hour, and TikTok (which cannot schedule natively): each drop is held to its slot,
            // its second target staggered 10 minutes after it.
            let slots = (0..<24).map { "\"\(String(format: "%02d", $0)):00\"" }.joined(separator: ", ")
            func config(_ host: String) throws -> PipelineConfig {
                try TestPipelines.config(
                    root: dir.url,
                    extra: """
                        host: \(host)
                        ledger: {url: '\(server.url(database))', password_file: '\(server.passwordFile.path)', pool_size: 4}
                        schedule: {zone: UTC, slots: [\(slots)], stagger: 10m}
                        """,
                    targets: "targets: [tiktok:main, tiktok:alt]", grace: "60s")
            }
            let a = try await Pipeline.open(config: try config("box-a"), logger: TestPipelines.logger, embedding: TestPipelines.embedding)
            try await stopping(a) {
                let b = try await Pipeline.open(config: try config("box-b"), logger: TestPipelines.logger, embedding: TestPipelines.embedding)
                try await stopping(b) {
                    let inbox = a.context.config.paths.inbox
                    for i in 0..<Self.drops {
                        // Each clip its own content (a title in its metadata), so none is a duplicate of another.
                        let clip = try Clips.make(width: 540, height: 960, seconds: 3, extra: ["-metadata", "title=slot\(i)"])
                        try Clips.copy(clip, to: inbox.appendingPathComponent("c\(i).mp4"))
                        try dir.write("inbox/c\(i).yaml", "title: clip \(i)\npublish_at: next_slot\n")
                        for (rel, role) in [("c\(i).mp4", FileRecord.Role.clip), ("c\(i).yaml", .sidecar)] {
                            let attrs = try FileManager.default.attributesOfItem(atPath: inbox.appendingPathComponent(rel).path)
                            _ = try a.context.ledger.recordCompleteFile(
                                path: rel, size: (attrs[.size] as! NSNumber).int64Value,
                                mtime: (attrs[.modificationDate] as! Date).timeIntervalSince1970,
                                inode: (attrs[.systemFileNumber] as! NSNumber).int64Value, role: role)
                        }
                    }
                    while try await AssembleStage(ctx: a.context).step() {}
                    #expect(try a.context.ledger.drops().count == Self.drops)
                    // Both hosts' validate workers (each host two, as the daemon runs) at once, until no drop is left.
                    let validated = try await withThrowingTaskGroup(of: Int.self) { group in
                        for (ctx, lane) in [(a.context, ValidateStage.Lane.any), (a.context, .small), (b.context, .any), (b.context, .small)] {
                            group.addTask {
                                var n = 0
                                while try await ValidateStage(ctx: ctx, lane: lane).step() { n += 1 }
                                return n
                            }
                        }
                        return try await group.reduce(into: [Int]()) { $0.append($1) }
                    }
                    #expect(validated.reduce(0, +) == Self.drops, "\(validated)")
                    let drops = try b.context.ledger.drops()
                    #expect(drops.allSatisfy { $0.state == .validated }, "\(drops.map { "\($0.state) \($0.reasonMessage ?? "")" })")
                    let deliveries = try b.context.ledger.allDeliveries()
                    #expect(deliveries.count == Self.drops * 2)
                    // One slot per drop, no slot taken by two drops, and the drops took the first free ones in order.
                    var slotOf: [String: Double] = [:]
                    for d in deliveries {
                        let slot = try #require(d.slotAt, "\(d.target) of \(d.dropId) has no slot")
                        #expect(slotOf[d.dropId].map { $0 == slot } ?? true, "one slot per drop")
                        slotOf[d.dropId] = slot
                    }
                    let taken = slotOf.values.sorted()
                    #expect(Set(taken).count == Self.drops, "a slot taken twice: \(taken.map { Date(timeIntervalSince1970: $0) })")
                    // Each took the first slot free when it decided: hourly slots one after another, none skipped.
                    #expect(zip(taken, taken.dropFirst()).allSatisfy { $1 - $0 == 3600 }, "\(taken)")
                    // The stagger holds within each drop: the second target 10 minutes after the slot.
                    for d in deliveries where d.target == "tiktok:alt" { #expect(d.notBefore == slotOf[d.dropId]! + 600, "\(d.dropId)") }
                    #expect(try b.context.ledger.takenSlots(from: 0) == Set(taken))
                }
            }
        }
    }
}
