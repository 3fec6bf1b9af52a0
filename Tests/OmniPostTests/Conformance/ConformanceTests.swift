import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Every platform and destination in the registry through the same scenarios (issue 23, outcome 4):
/// the scenario is written once here, each platform brings only its fixture (`Platforms/<Platform>/<Platform>Conformance.swift`).
/// A case a platform does not have is said so in its fixture, with the reason — listed by
/// `everyScenarioIsRunOrSaysWhyNot`, never skipped in silence.
@Suite struct ConformanceTests {
    static let fixtures = ConformanceFixture.all

    @Test func everyRegistryEntryHasAFixture() {
        for module in PlatformRegistry.platforms {
            let subject = module as? any ConformanceSubject.Type
            #expect(subject != nil, "\(module.descriptor.name): \(module) needs `extension \(module): ConformanceSubject` (Platforms/<Platform>/<Platform>Conformance.swift)")
            #expect(subject.map { ObjectIdentifier($0.conformance.module) == ObjectIdentifier(module) } != false, "\(module)'s fixture names another module")
        }
        #expect(Self.fixtures.map(\.name) == PlatformRegistry.platforms.map { $0.descriptor.name })
    }

    /// What each platform does not take part in, and why: printed, so a reader of the run sees it.
    @Test func everyScenarioIsRunOrSaysWhyNot() {
        for f in Self.fixtures {
            let reasons: [(String, String?)] = [
                ("cutPart", f.cut.reason), ("redirect", f.redirectCase.reason), ("startRedirect", f.startRedirectCase.reason),
                ("restart", f.restart.reason), ("uncertain", f.uncertain.reason),
                ("expiredSession", f.forget.reason),
                ("rateLimit", f.rateLimit.reason), ("refresh", f.expireTokens.reason), ("revoked", f.revocation.reason),
                ("refusal", f.refusal.reason), ("sessionLapsed", f.lapse.reason), ("processing", f.processing.reason),
                ("retryableProcessing", f.processing.value?.retryable.reason),
                ("retry", f.pipelineFailure.reason)
            ]
            for case (let scenario, let reason?) in reasons {
                #expect(!reason.isEmpty, "\(f.name) \(scenario): a case left out says why")
                print("conformance: \(f.name) \(scenario) not applicable: \(reason)")
            }
        }
    }

    // MARK: a. a good post

    @Test(.timeLimit(.minutes(5)), arguments: fixtures)
    func aGoodPostArrivesWholeOnce(_ f: ConformanceFixture) async throws {
        try await ConformanceRig.with(f) { rig in
            let cps = CheckpointLog()
            let out = try await rig.deliver(checkpoint: { cps.add($0) })
            let posts = try await rig.posts()
            #expect(posts.count == 1, "\(posts.map(\.id))")
            #expect(posts.first?.sha256 == rig.sha256)
            #expect(posts.first?.text.contains(f.says) == true, "\(posts.first?.text ?? "")")
            #expect(!out.remoteId.isEmpty && !out.reconciled)
            if f.countsBytes { #expect(await rig.state.bytesReceived == rig.size + f.extraBytes) }
            // The session is made durable before a byte moves (where there is one), and offsets only grow.
            let offsets = cps.all.map(\.confirmedOffset)
            #expect(offsets == offsets.sorted())
            #expect(await rig.count(f.startRoute) == f.starts)
            #expect(await rig.count(f.postRoute) == (f.postRoute == nil ? 0 : 1))
        }
    }

    // MARK: b. a part cut mid-transfer

    @Test(.timeLimit(.minutes(5)), arguments: fixtures.filter { $0.cut.value != nil })
    func aCutPartIsSentAgainOnceAndPostedOnce(_ f: ConformanceFixture) async throws {
        let cut = try #require(f.cut.value)
        try await ConformanceRig.with(f, faults: cut.faults) { rig in
            try await rig.deliver()
            let posts = try await rig.posts()
            #expect(posts.count == 1 && posts.first?.sha256 == rig.sha256)
            let requests = await rig.count(cut.route)
            #expect(requests == cut.requests, "\(requests) requests to \(cut.route)")
            // A part read and dropped (`failChunks`) leaves nothing kept twice; a cut that keeps what
            // arrived (YouTube's) is continued from the platform's offset: less than one part again.
            let resent = await rig.state.bytesReceived - rig.size - f.extraBytes
            if !f.countsBytes {
            } else if !cut.keepsWhatArrived {
                #expect(resent == 0, "kept \(resent) bytes twice")
            } else {
                #expect(resent >= 0 && resent < f.chunkSize, "re-sent \(resent) bytes")
            }
        }
    }

    // MARK: c. restart resume

    @Test(.timeLimit(.minutes(5)), arguments: fixtures.filter { $0.restart.value != nil })
    func aRestartResumesFromItsCheckpointWithoutResendingConfirmedParts(_ f: ConformanceFixture) async throws {
        try await ConformanceRig.with(f) { rig in
            let saved = try await Self.crashAfterFirstPart(rig)
            let before = await rig.state.bytesReceived
            let out = try await rig.deliver(session: saved.session, offset: saved.confirmedOffset)
            let posts = try await rig.posts()
            #expect(posts.count == 1 && posts.first?.sha256 == rig.sha256)
            #expect(
                posts.first.map { out.remoteId.contains($0.id) || $0.id.contains(out.remoteId) || f.name == "folder" || f.name == "s3" } == true,
                "\(out.remoteId) vs \(posts.map(\.id))")
            #expect(await rig.count(f.startRoute) == f.starts, "the upload was not started again")
            if f.countsBytes {
                let sent = await rig.state.bytesReceived - before
                #expect(sent == rig.size - saved.confirmedOffset, "sent \(sent) after a checkpoint at \(saved.confirmedOffset) of \(rig.size)")
            }
        }
    }

    // MARK: d. a kill in the uncertain window

    @Test(.timeLimit(.minutes(5)), arguments: fixtures.filter { $0.uncertain.value != nil })
    func aKillInTheUncertainWindowIsReconciledToOnePost(_ f: ConformanceFixture) async throws {
        try await ConformanceRig.with(f, faults: .init(finalReplyDelayMs: 4000)) { rig in
            guard let cps = try await Self.killedWithTheFinalReplyHeld(rig) else { return }
            let saved = try #require(cps.last, "a session was checkpointed before the last request")
            let before = await rig.state.bytesReceived
            let out = try await rig.deliver(session: saved.session, offset: saved.confirmedOffset)
            let posts = try await rig.posts()
            #expect(posts.count == 1 && posts.first?.sha256 == rig.sha256)
            #expect(out.reconciled || f.postRoute == nil, "found, not made again")
            #expect(await rig.count(f.postRoute) == (f.postRoute == nil ? 0 : 1), "the post was asked for once")
            #expect(await rig.count(f.startRoute) == f.starts)
            // Nothing is kept twice: bytes the platform had are never sent again. (Which request's reply
            // is held is the platform's: Vimeo's create comes first, and its lost answer is found by
            // listing the account's videos before the bytes go.)
            let total = await rig.state.bytesReceived
            if f.countsBytes { #expect(total == rig.size + f.extraBytes, "\(total - before) bytes after the kill, \(total) in all") }
        }
    }

    // MARK: d'. a power cut: only what was synced survives

    /// A power cut, unlike a killed process, loses every commit after the last one synced to disk. What
    /// a platform may make a post of (a session, a phase, a marker) is synced before the request
    /// (`UploadCheckpoint.durable`); a part's offset is not. Resumed from the last synced checkpoint,
    /// the kill in the uncertain window still ends in one post, asked for once.
    @Test(.timeLimit(.minutes(5)), arguments: fixtures.filter { $0.uncertain.value != nil })
    func aPowerCutInTheUncertainWindowStillEndsInOnePost(_ f: ConformanceFixture) async throws {
        try await ConformanceRig.with(f, faults: .init(finalReplyDelayMs: 4000)) { rig in
            guard let cps = try await Self.killedWithTheFinalReplyHeld(rig) else { return }
            #expect(cps.all.first?.durable == true, "the first record of an upload (its session or marker) is synced")
            let synced = try #require(cps.all.last { $0.durable }, "a record was synced before the last request")
            let out = try await rig.deliver(session: synced.session, offset: synced.confirmedOffset)
            let posts = try await rig.posts()
            #expect(posts.count == 1 && posts.first?.sha256 == rig.sha256, "\(posts.map(\.id))")
            #expect(out.reconciled || f.postRoute == nil, "found, not made again")
            #expect(await rig.count(f.postRoute) == (f.postRoute == nil ? 0 : 1), "the post was asked for once")
            #expect(await rig.count(f.startRoute) == f.starts, "no second upload was started")
        }
    }

    /// The same after a confirmed part: the offset is lost with the power, the session is not, and the
    /// resume asks the platform or sends the part again — one post.
    @Test(.timeLimit(.minutes(5)), arguments: fixtures.filter { $0.restart.value != nil })
    func aPowerCutAfterAPartResumesTheSyncedSession(_ f: ConformanceFixture) async throws {
        try await ConformanceRig.with(f) { rig in
            let cps = try await interrupted { try await rig.deliver(checkpoint: $0) } at: { $0.confirmedOffset > 0 }
            let synced = try #require(cps.all.last { $0.durable }, "the session was synced before its first byte")
            try await rig.deliver(session: synced.session, offset: synced.confirmedOffset)
            let posts = try await rig.posts()
            #expect(posts.count == 1 && posts.first?.sha256 == rig.sha256)
            #expect(await rig.count(f.postRoute) == (f.postRoute == nil ? 0 : 1), "the post was asked for once")
            // Where the start is the whole file's request (Bluesky), what it answered was lost with the
            // power: it is sent again, and the video service answers `already_exists` with the same blob.
            #expect(await rig.count(f.startRoute) == f.starts * (f.startCarriesTheFile ? 2 : 1), "the synced session was resumed, not started again")
        }
    }

    // MARK: e. an upload session the platform forgot

    @Test(.timeLimit(.minutes(5)), arguments: fixtures.filter { $0.forget.value != nil && $0.restart.value != nil })
    func anUploadSessionThePlatformForgotStartsAfresh(_ f: ConformanceFixture) async throws {
        let forget = try #require(f.forget.value)
        try await ConformanceRig.with(f) { rig in
            let saved = try await Self.crashAfterFirstPart(rig)
            await forget(rig.state)
            try await rig.deliver(session: saved.session, offset: saved.confirmedOffset)
            let posts = try await rig.posts()
            #expect(posts.count == 1 && posts.first?.sha256 == rig.sha256)
            if f.startRoute != nil { #expect(await rig.count(f.startRoute) == 2 * f.startsPerPost, "a new upload was started") }
        }
    }

    // MARK: f. 429 with Retry-After

    @Test(.timeLimit(.minutes(5)), arguments: fixtures.filter { $0.rateLimit.value != nil })
    func aRateLimitIsWaitedForAsThePlatformSays(_ f: ConformanceFixture) async throws {
        let limit = try #require(f.rateLimit.value)
        try await ConformanceRig.with(f, faults: limit.faults) { rig in
            let t0 = Date()
            do {
                try await rig.deliver()
                Issue.record("a 429 went unnoticed")
            } catch let e as DeliveryError {
                guard case .retryAt(let when) = e.kind else { Issue.record("\(e)"); return }
                #expect(e.code == .rateLimited)
                #expect(limit.waitsUntil(when, t0, Date()), "back \(when.timeIntervalSince(t0)) s later")
            }
            #expect(try await rig.posts().isEmpty)
            // Asked again when the time comes: one post.
            try await rig.deliver()
            #expect(try await rig.posts().count == 1)
        }
    }

    // MARK: g. a token refused mid-upload

    @Test(.timeLimit(.minutes(5)), arguments: fixtures.filter { $0.expireTokens.value != nil })
    func aTokenRefusedMidUploadIsRefreshedOnceAndTheUploadGoesOn(_ f: ConformanceFixture) async throws {
        let expire = try #require(f.expireTokens.value)
        try await ConformanceRig.with(f) { rig in
            let state = rig.state
            let expired = Flag()
            // Mid-upload (after the first confirmed part), the platform ends every access token it issued.
            try await rig.deliver(checkpoint: { cp in if cp.confirmedOffset > 0, expired.set() { await expire(state) } })
            #expect(expired.isSet)
            let posts = try await rig.posts()
            #expect(posts.count == 1 && posts.first?.sha256 == rig.sha256)
            #expect(await rig.count(f.startRoute) == f.starts, "the upload went on, not started again")
            if let token = f.tokenRoute {
                // One refresh at the start (or a login), one after the refusal: never a refresh per request.
                let refreshes = await rig.count(token)
                #expect(refreshes <= 2, "\(refreshes) refreshes")
            }
        }
    }

    // MARK: h. a revoked account holding a session

    @Test(.timeLimit(.minutes(5)), arguments: fixtures.filter { $0.revocation.value != nil && $0.restart.value != nil })
    func aRevokedAccountHoldingASessionIsReauthenticateThenResumed(_ f: ConformanceFixture) async throws {
        let revocation = try #require(f.revocation.value)
        try await ConformanceRig.with(f) { rig in
            let saved = try await Self.crashAfterFirstPart(rig)
            try await revocation.revoke(rig)
            let e = try await #require(throws: DeliveryError.self) {
                try await rig.deliver(session: saved.session, offset: saved.confirmedOffset)
            }
            #expect(e.kind == .reauthenticate && e.code == .authRevoked, "\(e)")
            #expect(try await rig.posts().isEmpty)
            // The person authorizes again; the held session is resumed (or reconciled): one post.
            try await revocation.restore(rig)
            try await rig.deliver(session: saved.session, offset: saved.confirmedOffset)
            let posts = try await rig.posts()
            #expect(posts.count == 1 && posts.first?.sha256 == rig.sha256)
            #expect(await rig.count(f.startRoute) == f.starts, "the held session was used, not a new one")
        }
    }

    // MARK: i. a permanent refusal

    @Test(.timeLimit(.minutes(5)), arguments: fixtures.filter { $0.refusal.value != nil })
    func aPermanentRefusalIsAskedOnceAndSaysThePlatformsReason(_ f: ConformanceFixture) async throws {
        let refusal = try #require(f.refusal.value)
        try await ConformanceRig.with(f, faults: refusal.faults) { rig in
            let e = try await #require(throws: DeliveryError.self) { try await rig.deliver() }
            #expect(e.kind == .permanent, "\(e)")
            #expect(e.message.contains(refusal.says) || e.httpStatus.map(String.init) == refusal.says, "\(e)")
            let asked = await rig.count(refusal.route)
            #expect(asked == 1, "asked \(asked) times")
            #expect(try await rig.posts().isEmpty)
        }
    }

    // MARK: j. an upload session past its documented lifetime

    @Test(.timeLimit(.minutes(5)), arguments: fixtures.filter { $0.lapse.value != nil })
    func anUploadSessionPastItsLifetimeIsStartedAfresh(_ f: ConformanceFixture) async throws {
        let lapse = try #require(f.lapse.value)
        try await ConformanceRig.with(f) { rig in
            let saved = try await Self.crashAfterFirstPart(rig)
            let lapsed = try await lapse(rig, saved.session)
            let before = await rig.state.bytesReceived
            try await rig.deliver(session: lapsed, offset: saved.confirmedOffset)
            let posts = try await rig.posts()
            #expect(posts.count == 1 && posts.first?.sha256 == rig.sha256)
            #expect(await rig.count(f.startRoute) == 2 * f.startsPerPost, "a new upload was started")
            // Every byte went to the new session: none to the lapsed one.
            if f.countsBytes { #expect(await rig.state.bytesReceived - before == rig.size) }
        }
    }

    // MARK: k. processing failures

    @Test(.timeLimit(.minutes(5)), arguments: fixtures.filter { $0.processing.value?.retryable.value != nil })
    func aProcessingErrorDocumentedAsTransientIsRetriedWithANewSession(_ f: ConformanceFixture) async throws {
        let faults = try #require(f.processing.value?.retryable.value)
        try await ConformanceRig.with(f, faults: faults) { rig in
            let cps = CheckpointLog()
            do {
                try await rig.deliver(checkpoint: { cps.add($0) })
            } catch let e as DeliveryError {
                // Where the post was asked for before processing (Facebook's finish) or the adapter is not on
                // the engine, the new session is the upload stage's next attempt: retry-now, never permanent,
                // and that attempt reconciles the failed session to "not started" and uploads anew.
                #expect(e.kind == .retryNow, "\(e)")
                let saved = try #require(cps.last)
                try await rig.deliver(session: saved.session, offset: saved.confirmedOffset)
            }
            let posts = try await rig.posts()
            #expect(posts.count == 1 && posts.first?.sha256 == rig.sha256)
            #expect(await rig.count(f.startRoute) == 2 * f.startsPerPost, "a new session or container was made")
        }
    }

    @Test(.timeLimit(.minutes(5)), arguments: fixtures.filter { $0.processing.value != nil })
    func aFinalProcessingErrorIsPermanentWithThePlatformsReason(_ f: ConformanceFixture) async throws {
        let p = try #require(f.processing.value)
        try await ConformanceRig.with(f, faults: p.final) { rig in
            let e = try await #require(throws: DeliveryError.self) { try await rig.deliver() }
            #expect(e.kind == .permanent, "\(e)")
            #expect(e.message.contains(p.says), "\(e)")
            #expect(try await rig.posts().isEmpty)
            #expect(await rig.count(f.startRoute) == f.starts, "not tried again within the attempt")
        }
    }

    /// Runs a delivery until its last request reached the platform with the reply held (the rig's
    /// `finalReplyDelayMs`), and the process dies there; the faults are then cleared. Returns what was
    /// checkpointed, or nil (an issue recorded) when no reply was ever held.
    static func killedWithTheFinalReplyHeld(_ rig: ConformanceRig) async throws -> CheckpointLog? {
        let cps = CheckpointLog()
        let run = Task { try await rig.deliver(checkpoint: { cps.add($0) }) }
        var waited = 0
        while await rig.state.stats.finalRepliesPending == 0 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
            if waited > 3000 { run.cancel(); _ = await run.result; Issue.record("the final reply was never held"); return nil }
        }
        run.cancel()
        _ = await run.result
        await rig.state.setFaults(.init())
        return cps
    }

    /// Stops a first attempt once a part is confirmed and checkpointed (the process dies there), and
    /// returns the last checkpoint.
    static func crashAfterFirstPart(_ rig: ConformanceRig) async throws -> UploadCheckpoint {
        try #require(
            try await interrupted {
                try await rig.deliver(checkpoint: $0)
            } at: {
                $0.confirmedOffset > 0
            }.last)
    }
}
