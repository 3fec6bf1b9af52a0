import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Verified live (issue 25), once for every platform: a published post is read back through the
/// platform's own read endpoint and judged by the one `ReadBackVerdict` — shown as asked, never shown,
/// taken down after it was shown, locked private, shown in another privacy. Each case comes from the
/// sandbox answering as the platform documents (`Faults.postFates`, `SandboxState.takeDown`).
@Suite struct ConformanceReadBackTests {
    static let fixtures = ConformanceFixture.all
    static let reading = fixtures.filter { $0.readBackCases.value != nil }

    @Test func everyReadBackCaseIsRunOrSaysWhyNot() {
        for f in Self.fixtures {
            guard let cases = f.readBackCases.value else {
                #expect(f.readBackCases.reason?.isEmpty == false, "\(f.name): a target that reads nothing back says why")
                print("conformance: \(f.name) readBack not applicable: \(f.readBackCases.reason ?? "")")
                continue
            }
            for case (let scenario, let reason?) in [("hidden", cases.hidden.reason), ("locked", cases.locked.reason), ("mismatch", cases.mismatch.reason)] {
                #expect(!reason.isEmpty, "\(f.name) \(scenario): a case left out says why")
                print("conformance: \(f.name) readBack \(scenario) not applicable: \(reason)")
            }
        }
        // The platform that documents the lock has it.
        #expect(Self.fixtures.first { $0.name == "youtube" }?.readBack.locked.value != nil)
    }

    static func read(_ rig: ConformanceRig, _ out: PublishOutcome, asked: Privacy = .public) async throws -> Sighting {
        let ref = PostRef(remoteId: out.remoteId, url: out.url, asked: asked)
        let seen = try await rig.adapter().readBack([ref])
        return try #require(seen[out.remoteId], "the read answers for \(out.remoteId): \(seen)")
    }

    static func judge(_ s: Sighting, _ out: PublishOutcome, seenBefore: Bool = false, lastRead: Bool = false) -> ReadBackVerdict {
        ReadBackVerdict.judge(s, asked: PostRef(remoteId: out.remoteId, url: out.url, asked: .public), platform: "p", seenBefore: seenBefore, lastRead: lastRead)
    }

    @Test(.timeLimit(.minutes(5)), arguments: reading)
    func aPostIsShownAsAskedAndItsNumbersGrow(_ f: ConformanceFixture) async throws {
        let cases = try #require(f.readBackCases.value)
        try await ConformanceRig.with(f) { rig in
            let out = try await rig.deliver()
            let first = try await Self.read(rig, out)
            guard case .verified(let seen) = Self.judge(first, out) else {
                Issue.record("\(f.name): \(first) is not verified")
                return
            }
            #expect(!seen.says.isEmpty)
            guard cases.counts else { return }
            let before = try #require(seen.metrics, "\(f.name): the read carries the post's numbers")
            await rig.state.advanceClock(by: 86_400)
            guard case .seen(let later) = try await Self.read(rig, out), let after = later.metrics else {
                Issue.record("\(f.name): a day later the post is not read with its numbers")
                return
            }
            let grew = (after.views ?? after.likes ?? 0) > (before.views ?? before.likes ?? 0)
            #expect(grew, "\(f.name): \(before) → \(after)")
            #expect((after.likes ?? 0) >= (before.likes ?? 0) && (after.comments ?? 0) >= (before.comments ?? 0))
        }
    }

    @Test(.timeLimit(.minutes(5)), arguments: reading)
    func aPostTakenDownAfterItWasShownIsRemovedByThePlatform(_ f: ConformanceFixture) async throws {
        let cases = try #require(f.readBackCases.value)
        try await ConformanceRig.with(f) { rig in
            let out = try await rig.deliver()
            guard case .verified = Self.judge(try await Self.read(rig, out), out) else {
                Issue.record("\(f.name): not verified before the take-down")
                return
            }
            try await cases.takeDown(rig, out)
            let after = try await Self.read(rig, out)
            guard case .failed(let code, let sentence) = Self.judge(after, out, seenBefore: true) else {
                Issue.record("\(f.name): \(after) after a take-down")
                return
            }
            #expect(code == .removedByPlatform, "\(f.name): \(sentence)")
        }
    }

    @Test(.timeLimit(.minutes(5)), arguments: reading.filter { $0.readBack.hidden.value != nil })
    func aPostNeverShownIsNotVisibleAfterTheLastRead(_ f: ConformanceFixture) async throws {
        try await ConformanceRig.with(f, faults: .init(postFates: ["hidden"])) { rig in
            let out = try await rig.deliver()
            let s = try await Self.read(rig, out)
            guard case .notYet = Self.judge(s, out) else {
                Issue.record("\(f.name): \(s) is not 'not yet'")
                return
            }
            guard case .failed(let code, _) = Self.judge(try await Self.read(rig, out), out, lastRead: true) else {
                Issue.record("\(f.name): the last read did not fail")
                return
            }
            #expect(code == .notVisible)
        }
    }

    @Test(.timeLimit(.minutes(5)), arguments: reading.filter { $0.readBack.locked.value != nil })
    func aPostThePlatformLockedIsLockedPrivate(_ f: ConformanceFixture) async throws {
        try await ConformanceRig.with(f, faults: .init(postFates: ["locked"])) { rig in
            let out = try await rig.deliver()
            let s = try await Self.read(rig, out)
            guard case .failed(let code, let sentence) = Self.judge(s, out) else {
                Issue.record("\(f.name): \(s) is not locked")
                return
            }
            #expect(code == .lockedPrivate, "\(sentence)")
        }
    }

    @Test(.timeLimit(.minutes(5)), arguments: reading.filter { $0.readBack.mismatch.value != nil })
    func aPostShownInAnotherPrivacyIsAMismatch(_ f: ConformanceFixture) async throws {
        let word = try #require(f.readBack.mismatch.value)
        try await ConformanceRig.with(f, faults: .init(postFates: [word])) { rig in
            let out = try await rig.deliver()
            let s = try await Self.read(rig, out)
            guard case .failed(let code, let sentence) = Self.judge(s, out) else {
                Issue.record("\(f.name): \(s) is no mismatch")
                return
            }
            #expect(code == .privacyMismatch, "\(sentence)")
        }
    }
}
