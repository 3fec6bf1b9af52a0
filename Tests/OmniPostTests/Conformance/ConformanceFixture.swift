import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// A registry module that brings its conformance fixture. Each platform's fixture sits beside its tests
/// (`Platforms/<Platform>/<Platform>Conformance.swift`) and is found by casting the registry's modules, so
/// adding a platform edits no shared list; a module that does not conform fails
/// `ConformanceTests.everyRegistryEntryHasAFixture`.
protocol ConformanceSubject: PlatformModule {
    static var conformance: ConformanceFixture { get }
}

/// What one platform brings to the conformance suite: how big a file to send and in what parts, how
/// to make its adapter quick (short polls), and — per scenario — how to make its sandbox produce the
/// case, or why the case does not exist for it. The scenarios themselves are written once
/// (`ConformanceTests`); a platform never writes its own copy of them.
struct ConformanceFixture: Sendable, CustomTestStringConvertible {
    /// A scenario this platform takes part in, or the reason it has no such case. Never a silent skip:
    /// `ConformanceTests.everyScenarioIsRunOrSaysWhyNot` lists each reason.
    enum Support<T: Sendable>: Sendable {
        case fixture(T)
        case notApplicable(String)

        var value: T? { if case .fixture(let v) = self { return v } else { return nil } }
        var reason: String? { if case .notApplicable(let r) = self { return r } else { return nil } }
    }

    /// A part cut mid-transfer: the fault that cuts it, and the route (`requestCounts` key) that carries
    /// parts with how many requests it takes with the one part sent twice.
    struct Cut: Sendable {
        var faults: SandboxState.Faults
        var route: String
        var requests: Int
        /// The platform keeps what arrived before the cut (YouTube, tus): the client goes on from its
        /// offset, re-sending less than a part. Otherwise the cut part is dropped and sent again whole.
        var keepsWhatArrived = false
    }

    /// An upload's bytes redirected (`redirect_chunks`, answered before the body is read): the route that
    /// carries them, and how many requests it takes with its first answered `307` and sent again.
    struct Redirect: Sendable {
        var route: String
        var requests: Int
    }

    /// A permanent refusal: the fault that makes it, the route asked (exactly once), and the platform's
    /// own words that must reach the message.
    struct Refusal: Sendable {
        var faults: SandboxState.Faults
        var route: String
        var says: String
    }

    /// A 429: the fault that makes it, and when the platform's answer says to come back (its
    /// Retry-After, a reset time, the next quota day), judged between before the request and after it.
    struct RateLimit: Sendable {
        var faults: SandboxState.Faults
        var waitsUntil: @Sendable (_ at: Date, _ t0: Date, _ t1: Date) -> Bool

        /// `rateLimitInits` answered with `Retry-After` (or a reset) `seconds` away.
        static func after(_ seconds: Int) -> RateLimit {
            RateLimit(faults: .init(rateLimitInits: 1, rateLimitRetryAfterS: seconds)) { at, t0, t1 in waitIsAbout(at, Double(seconds), from: t0, to: t1) }
        }

        /// Meta's Graph API: no Retry-After, but `estimated_time_to_regain_access` in whole minutes.
        static var graphMinute: RateLimit {
            RateLimit(faults: .init(rateLimitInits: 1, rateLimitRetryAfterS: 60)) { at, t0, t1 in waitIsAbout(at, 60, from: t0, to: t1) }
        }

        /// A daily quota: back at the next midnight UTC.
        static let nextMidnightUTC = RateLimit(faults: .init(rateLimitInits: 1)) { at, t0, _ in
            var cal = Calendar(identifier: .gregorian)
            cal.timeZone = TimeZone(identifier: "UTC")!
            return cal.component(.hour, from: at) == 0 && cal.component(.minute, from: at) == 0 && at > t0 && at.timeIntervalSince(t0) <= 86_405
        }
    }

    /// Credentials lost and given back while a delivery holds a session.
    struct Revocation: Sendable {
        var revoke: @Sendable (ConformanceRig) async throws -> Void
        var restore: @Sendable (ConformanceRig) async throws -> Void
    }

    /// A processing failure: the fault for one the platform documents as transient (a new session or
    /// container is made, one post) and the fault for one that is final (permanent, its reason said).
    struct Processing: Sendable {
        var retryable: Support<SandboxState.Faults>
        var final: SandboxState.Faults
        var says: String
    }

    /// Reading a published post back (issue 25): how this platform's sandbox shows each case, or why it
    /// has none. The scenarios are `ConformanceReadBackTests`.
    struct ReadBackCases: Sendable {
        /// The platform takes the post down after it was shown (its moderation). Default: the sandbox's
        /// `takeDown` of the post under the id the publish call answered.
        var takeDown: @Sendable (ConformanceRig, PublishOutcome) async throws -> Void = { rig, out in
            await rig.state.takeDown(platform: rig.fixture.name, id: out.remoteId)
        }
        /// A post the platform never shows (`postFates: ["hidden"]`).
        var hidden: Support<Void> = .fixture(())
        /// The platform makes it private by itself (`postFates: ["locked"]`).
        var locked: Support<Void> = .notApplicable("its documentation describes no post the platform makes private by itself")
        /// The platform's own privacy word shown instead of the one posted (`postFates: [word]`).
        var mismatch: Support<String> = .notApplicable("its read names no privacy: a post is as public as the platform makes it")
        /// The same read carries the post's numbers (views, likes…), which grow as the sandbox's clock moves.
        var counts = false
    }

    let module: any PlatformModule.Type
    var name: String { module.descriptor.name }
    var testDescription: String { name }
    /// `startRoute` requests for one post.
    var starts: Int { startRoute == nil ? 0 : startsPerPost }

    /// The file sent: at least two parts where the platform uploads in parts.
    var size: Int64
    var chunkSize: Int64 = 4 * 1_048_576
    var meta: PublishMetadata = ConformanceFixture.defaultMeta
    /// What of `meta` must arrive in the post's text (title, caption, object key, file name).
    var says: String = "Conformance clip"
    /// What a sidecar must say besides a title for this platform to take a post (Bilibili: a tag), for
    /// the scenarios that run a pipeline.
    var sidecarExtra: String = ""
    /// Account settings written in the pipeline file (a command's `run`), beyond what sandbox mode fills in.
    var accountYAML: @Sendable (TempDir) throws -> String = { _ in "" }
    /// The adapter as the registry makes it, with its waits shortened for a test.
    var adapter: @Sendable (AdapterSettings) -> any PlatformAdapter
    /// Anything the platform needs on the job besides the file (Reddit's poster).
    var prepare: @Sendable (inout UploadJob, TempDir) throws -> Void = { _, _ in }
    /// The route that starts an upload (counted once for one post).
    var startRoute: String?
    /// How many times `startRoute` is asked for one post (Reddit leases the video and its poster).
    var startsPerPost = 1
    /// Whether `startRoute` is itself the request that carries the whole file (Bluesky's uploadVideo):
    /// sent again after a power cut lost what it answered, which the platform defines as safe.
    var startCarriesTheFile = false
    /// The route that makes the post (asked once, even across a lost reply).
    var postRoute: String?
    /// The token endpoint's route, for a refresh counted once.
    var tokenRoute: String?
    /// Whether the sandbox counts every byte it keeps in `bytesReceived` (false: the target writes
    /// elsewhere, a folder or a program).
    var countsBytes = true
    /// Bytes the sandbox keeps besides the file's for one post (Reddit's poster).
    var extraBytes: Int64 = 0
    /// The route that makes each kind of follow-up (a subtitle track, a playlist entry), asked once even
    /// across a lost answer; a platform whose descriptor lists follow-ups names one for each (`aFollowUpSurvivesAKill`).
    var followUpRoutes: [FollowUp.Kind: String] = [:]

    var cut: Support<Cut>
    /// Where the redirect class is shown (`ConformanceRedirectTests`); nil: `cut`'s route and count (a
    /// redirected request keeps nothing, as a cut one that drops its part). Set where the cut keeps what
    /// arrived (its count differs), and where there is no cut: why no request of ours carries the bytes.
    var redirect: Support<Redirect>? = nil
    /// Where the redirect class is shown on the request that starts an upload (`ConformanceStartRedirectTests`);
    /// nil: `startRoute`'s, where there is one. Set only to say why no request of ours starts an upload.
    var startRedirect: Support<Void>? = nil
    var restart: Support<Void> = .fixture(())
    var uncertain: Support<Void> = .fixture(())
    /// How the platform forgets an unfinished upload (its documented session lifetime passed, a restart of theirs).
    var forget: Support<@Sendable (SandboxState) async -> Void>
    var rateLimit: Support<RateLimit> = .fixture(.after(7))
    /// How every access token the platform issued is made to lapse mid-upload.
    var expireTokens: Support<@Sendable (SandboxState) async -> Void> = .fixture({ await $0.expireAccessTokens() })
    var revocation: Support<Revocation> = .fixture(ConformanceFixture.oauthRevocation)
    var refusal: Support<Refusal>
    /// Rewrites a saved session so that, by the platform's documented lifetime, it has lapsed (X's
    /// `expires_after_secs`), or makes the sandbox's clock pass it: the upload is started afresh.
    var lapse: Support<@Sendable (ConformanceRig, String) async throws -> String>
    var processing: Support<Processing>
    /// A pipeline-level failure of this target that `retry` brings back (`aRetryPublishesOnlyTheFailedTargetOnce`).
    var pipelineFailure: Support<SandboxState.Faults>
    /// How the sandbox shows the read-back cases; a target whose descriptor reads nothing back says why there.
    var readBack = ReadBackCases()
    var redirectCase: Support<Redirect> {
        if let redirect { return redirect }
        switch cut {
        case .fixture(let c): return .fixture(Redirect(route: c.route, requests: c.requests))
        // A cut's reason is not a redirect's: left empty, `everyScenarioIsRunOrSaysWhyNot` asks for one.
        case .notApplicable: return .notApplicable("")
        }
    }
    /// The start route a redirect is answered on, or why there is none.
    var startRedirectCase: Support<String> {
        if let reason = startRedirect?.reason { return .notApplicable(reason) }
        // No start route and no reason: left empty, `everyScenarioIsRunOrSaysWhyNot` asks for one.
        return startRoute.map { .fixture($0) } ?? .notApplicable("")
    }
    var readBackCases: Support<ReadBackCases> { module.descriptor.readBack.reason.map { .notApplicable($0) } ?? .fixture(readBack) }

    static let defaultMeta = PublishMetadata(
        title: "Conformance clip", description: "sent exactly once", tags: ["conformance"],
        privacy: .public, publishAt: nil, options: [:])

    /// An OAuth account: the person removes the app's access (every token dies), then authorizes again.
    static let oauthRevocation = Revocation(
        revoke: { rig in await rig.state.revoke(account: rig.accountKey) },
        restore: { rig in
            await rig.server.registerAccount(
                platform: rig.fixture.name, name: "brand", clientID: rig.account.clientID,
                clientSecret: rig.account.clientSecret, refreshToken: "rt-again")
            try await rig.store.save(account: rig.accountKey, accessToken: "", expiresAt: .distantPast, refreshToken: "rt-again")
        })

    static let mib: Int64 = 1_048_576
    static let quick = PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000)

    /// Every registry entry that brings a fixture, in registry order.
    static let all: [ConformanceFixture] = PlatformRegistry.platforms.compactMap { ($0 as? any ConformanceSubject.Type)?.conformance }

    /// The platform forgot an unfinished upload (its session's lifetime passed while the daemon was down).
    static let forgets: Support<@Sendable (SandboxState) async -> Void> = .fixture({ await $0.forgetUnfinishedUploads() })
}
