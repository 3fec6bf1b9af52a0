import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
@testable import OmniPostSandbox
import Testing

/// `host_roles:` in the running daemon (issue 27): a host without `convert` never claims a conversion,
/// one with `convert` alone converts and never uploads. Real clips, real ffmpeg, the embedded sandbox.
@Suite struct HostRolesTests {
    @Test(.timeLimit(.minutes(4))) func eachHostClaimsOnlyTheWorkOfItsRoles() async throws {
        let dir = try TempDir()
        let clip = try Clips.make(width: 720, height: 1280, seconds: 2)
        let ingest = try TestPipelines.config(root: dir.url, extra: "host: edge\nhost_roles: [ingest, upload]", targets: "targets: [youtube:main]")
        try TestPipelines.drop(clip, as: "roles", sidecar: "title: roles\nprivacy: public\n", into: ingest)

        // The ingest-and-upload host: the drop is made and checked, then waits for a host that converts.
        let first = try await Pipeline.open(config: ingest, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        let dropId = try await running(first) {
            let ledger = first.context.ledger
            let drop = try await RetryTests.until(seconds: 60) { try ledger.drops().first { $0.state == .validated } }
            try await Task.sleep(for: .seconds(3))
            #expect(try ledger.drop(drop.id)?.state == .validated, "never converted by a host without the convert role")
            #expect(try ledger.heldClaims().isEmpty)
            #expect(try !ledger.events(forDrop: drop.id).contains { $0.stage == "convert" })
            return drop.id
        }

        // The convert-only host: it converts the drop and uploads nothing.
        let convert = try TestPipelines.config(root: dir.url, extra: "host: render\nhost_roles: [convert]", targets: "targets: [youtube:main]")
        let second = try await Pipeline.open(config: convert, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        try await running(second) {
            let ledger = second.context.ledger
            _ = try await RetryTests.until(seconds: 90) { try ledger.drop(dropId)?.state == .converted ? true : nil }
            try await Task.sleep(for: .seconds(2))
            let deliveries = try ledger.deliveries(forDrop: dropId)
            #expect(!deliveries.isEmpty && deliveries.allSatisfy { $0.state == .ready }, "\(deliveries.map { "\($0.target) \($0.state)" })")
            #expect(await second.sandbox?.state.allVideos().isEmpty == true, "nothing uploaded by a host without the upload role")
        }
    }
}
