import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// What a delivery owes after its post (`FollowUp`), held to one scenario on every platform whose
/// descriptor lists follow-ups: the answer to one is lost — as when the daemon is killed after its
/// request left — and the next run finds it on the platform by reading back, sending nothing again.
@Suite struct FollowUpConformanceTests {
    static let fixtures = ConformanceFixture.all.filter { !$0.module.descriptor.followUps.isEmpty }

    @Test func everyPlatformWithFollowUpsNamesTheRouteThatMakesThem() {
        #expect(!Self.fixtures.isEmpty)
        for f in Self.fixtures {
            for kind in f.module.descriptor.followUps { #expect(f.followUpRoutes[kind] != nil, "\(f.name) takes \(kind): its fixture names its route") }
        }
    }

    @Test(.timeLimit(.minutes(2)), arguments: fixtures)
    func aFollowUpSurvivesAKill(_ f: ConformanceFixture) async throws {
        var faults = SandboxState.Faults()
        faults.loseFollowUpReplies = 1
        try await ConformanceRig.with(f, faults: faults) { rig in
            let post = try await rig.deliver()
            let owed = try f.module.descriptor.followUps.sorted { $0.rawValue < $1.rawValue }.map { try Self.followUp($0, rig.dir) }
            let log = MemoryFollowUpLog()
            let adapter = rig.adapter()
            await #expect(throws: DeliveryError.self) { _ = try await FollowUpRun.run(owed, on: post, adapter: adapter, log: log) }
            // The first one's request left and its answer was lost; the run stopped there.
            #expect(log.state(of: owed[0].key) == .intended)
            // The daemon again: each intent is settled by what the platform holds.
            let again = try await FollowUpRun.run(owed, on: post, adapter: adapter, log: log)
            #expect(again.found.count + again.made.count == owed.count && again.failed.isEmpty, "\(again)")
            #expect(again.found.contains(owed[0].key), "\(again)")
            // Once more: everything is made, nothing is asked.
            let third = try await FollowUpRun.run(owed, on: post, adapter: adapter, log: log)
            #expect(third.made.isEmpty && third.found.isEmpty)
            for kind in f.module.descriptor.followUps { #expect(await rig.count(f.followUpRoutes[kind]) == 1, "\(f.name) \(kind): made once") }
        }
    }

    static func followUp(_ kind: FollowUp.Kind, _ dir: TempDir) throws -> FollowUp {
        switch kind {
        case .subtitles:
            let file = dir.file("track.en.srt")
            try Data("1\n00:00:00,000 --> 00:00:01,000\nHello.\n".utf8).write(to: file)
            return .subtitles(file: file.path, format: .srt, language: "en", name: "English")
        case .playlist:
            return .playlist(PlaylistRef(name: "Conformance", createMissing: true), privacy: "public")
        case .firstComment:
            return .firstComment("First! Made once, across a kill.")
        }
    }
}

/// A follow-up log in memory: what the ledger keeps, for a test without one.
final class MemoryFollowUpLog: FollowUpLog, @unchecked Sendable {
    private let lock = NSLock()
    private var states: [String: FollowUpState] = [:]
    func state(of key: String) -> FollowUpState? { lock.withLock { states[key] } }
    func intend(_ f: FollowUp) { lock.withLock { states[f.key] = .intended } }
    func made(_ f: FollowUp, remoteId: String) { lock.withLock { states[f.key] = .made(remoteId: remoteId) } }
    func failed(_ f: FollowUp, why: String) { lock.withLock { states[f.key] = .failed(why) } }
}
