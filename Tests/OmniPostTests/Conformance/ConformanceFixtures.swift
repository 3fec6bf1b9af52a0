import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Each registry entry's fixture: only how its sandbox is made to show each case. A platform added to
/// `PlatformRegistry.platforms` without one here fails `ConformanceTests.everyRegistryEntryHasAFixture`.
extension ConformanceFixture {
    static let mib: Int64 = 1_048_576
    static let quick = PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000)

    static let all: [ConformanceFixture] = [
        youtube, tiktok, x, linkedin, instagram, facebook, threads, vimeo, bluesky, reddit, folder, s3, command, webhook, tus,
    ]

    /// The platform forgot an unfinished upload (its session's lifetime passed while the daemon was down).
    static let forgets: Support<@Sendable (SandboxState) async -> Void> = .fixture({ await $0.forgetUnfinishedUploads() })

    static let youtube = ConformanceFixture(
        module: YouTubePlatform.self, size: 262_144 * 3 + 131_072, chunkSize: 262_144,
        adapter: { YouTubeAdapter($0) },
        startRoute: "youtube.init", tokenRoute: "oauth.token",
        cut: .fixture(.init(faults: .init(youtubeCutAfterBytes: 262_144 * 2 + 100 * 1024), route: "youtube.init", requests: 1, keepsWhatArrived: true)),
        forget: forgets,
        refusal: .fixture(.init(faults: .init(failInits: [400]), route: "youtube.init", says: "400")),
        lapse: .notApplicable("a resumable session URI is good for about a week and YouTube answers 404 for one it forgot — the forgotten case (expiredSession) is that one"),
        processing: .notApplicable("the sandbox's YouTube publishes on the last chunk: processing failures are not modelled yet"),
        pipelineFailure: .fixture(.init(failInits: [400])))

    static let tiktok = ConformanceFixture(
        module: TikTokPlatform.self, size: 12 * mib + 12_345, chunkSize: 5 * mib,
        adapter: { TikTokAdapter($0, poll: quick) },
        startRoute: "tiktok.init", tokenRoute: "tiktok.token",
        cut: .fixture(.init(faults: .init(failChunks: [503]), route: "tiktok.put", requests: 3)),
        forget: forgets,
        refusal: .fixture(.init(faults: .init(failInits: [400]), route: "tiktok.init", says: "400")),
        lapse: .notApplicable("TikTok's upload_url lasts an hour and the platform answers for one it forgot — the forgotten case (expiredSession) is that one"),
        processing: .notApplicable("the sandbox's TikTok publishes on the last chunk: FAILED fail_reason values are not modelled yet"),
        pipelineFailure: .fixture(.init(failInits: [400])))

    static let x = ConformanceFixture(
        module: XPlatform.self, size: 9 * mib + 123,
        adapter: { XAdapter($0, defaultPollWait: .milliseconds(200)) },
        startRoute: "x.init", postRoute: "x.tweet", tokenRoute: "x.token",
        cut: .fixture(.init(faults: .init(failChunks: [503]), route: "x.append", requests: 4)),
        forget: forgets,
        refusal: .fixture(.init(faults: .init(failInits: [400]), route: "x.init", says: "400")),
        lapse: .fixture({ _, saved in
            // INIT's expires_after_secs is kept with the session: the resume comes after it.
            guard var s = XAdapter.Session(persisted: saved) else { return saved }
            #expect(s.expiresAt != nil, "INIT's expires_after_secs is kept with the session")
            s.expiresAt = Date().timeIntervalSince1970 - 1
            return s.persisted
        }),
        processing: .fixture(.init(retryable: .notApplicable("X documents no transient processing state: a failed media id is final"),
                                   final: .init(failProcessing: "Unsupported video codec: prores"), says: "Unsupported video codec")),
        pipelineFailure: .fixture(.init(failProcessing: "the platform could not process the video")))

    static let linkedin = ConformanceFixture(
        module: LinkedInPlatform.self, size: 9 * mib + 77,
        adapter: { LinkedInAdapter($0, poll: quick) },
        startRoute: "linkedin.init", postRoute: "linkedin.post", tokenRoute: "linkedin.token",
        cut: .fixture(.init(faults: .init(failChunks: [503]), route: "linkedin.put", requests: 4)),
        forget: forgets,
        rateLimit: .fixture(.nextMidnightUTC),
        refusal: .fixture(.init(faults: .init(failInits: [400]), route: "linkedin.init", says: "400")),
        lapse: .notApplicable("LinkedIn's part URLs carry their own expiry and the platform refuses a lapsed one — the forgotten case (expiredSession) is that one"),
        processing: .fixture(.init(retryable: .notApplicable("LinkedIn documents PROCESSING_FAILED as final"),
                                   final: .init(failProcessing: "the video could not be processed"), says: "could not be processed")),
        pipelineFailure: .fixture(.init(failProcessing: "the platform could not process the video")))

    static let instagram = ConformanceFixture(
        module: InstagramPlatform.self, size: 9 * mib + 5,
        adapter: { InstagramAdapter($0, poll: quick) },
        startRoute: "instagram.container", postRoute: "instagram.publish", tokenRoute: "meta.token",
        cut: .fixture(.init(faults: .init(failChunks: [503]), route: "instagram.rupload", requests: 4)),
        forget: forgets,
        rateLimit: .fixture(.graphMinute),
        refusal: .fixture(.init(faults: .init(failInits: [400]), route: "instagram.container", says: "400")),
        lapse: .notApplicable("a container lasts 24 h and the Graph API answers for one past it — the forgotten case (expiredSession) is that one"),
        // Instagram's error-code table: 2207053 "unknown upload error" says make a new container; 2207026 (format) is the media's.
        processing: .fixture(.init(retryable: .fixture(.init(failProcessing: "Error: Media upload has failed with error code 2207053")),
                                   final: .init(failProcessing: "Error: Media upload has failed with error code 2207026"), says: "2207026")),
        pipelineFailure: .fixture(.init(failProcessing: "the platform could not process the video")))

    static let facebook = ConformanceFixture(
        module: FacebookPlatform.self, size: 9 * mib + 9,
        adapter: { FacebookAdapter($0, poll: quick) },
        startRoute: "facebook.start", postRoute: "facebook.finish", tokenRoute: "meta.token",
        cut: .fixture(.init(faults: .init(failChunks: [503]), route: "facebook.rupload", requests: 4)),
        forget: forgets,
        rateLimit: .fixture(.graphMinute),
        expireTokens: .notApplicable("a Page token made from a long-lived user token does not expire; a 401/190 on the upload host is an invalidated session, auth_revoked (FacebookTests)"),
        refusal: .fixture(.init(faults: .init(failInits: [400]), route: "facebook.start", says: "400")),
        lapse: .notApplicable("an upload session is answered for by the Graph API when it lapsed — the forgotten case (expiredSession) is that one"),
        processing: .fixture(.init(retryable: .notApplicable("pending: the sandbox's transient processing errors"),
                                   final: .init(failProcessing: "the video could not be processed"), says: "could not be processed")),
        pipelineFailure: .fixture(.init(failProcessing: "the platform could not process the video")))

    static let threads = ConformanceFixture(
        module: ThreadsPlatform.self, size: 2 * mib + 3,
        adapter: { ThreadsAdapter($0, poll: quick) },
        startRoute: "threads.container", postRoute: "threads.publish", tokenRoute: "threads.token",
        // The bytes go to the media host and Threads fetches them: the sandbox counts both.
        countsBytes: false,
        cut: .notApplicable("Threads fetches the video itself: a fetch cut mid-transfer is its retryable processing case (FAILED_DOWNLOADING_VIDEO)"),
        forget: .notApplicable("Threads fetches the video itself from the media host: there is no upload session on Threads to forget"),
        rateLimit: .fixture(.graphMinute),
        expireTokens: .notApplicable("a Threads long-lived token lasts 60 days and is refreshed in its last 7 (ThreadsTests)"),
        refusal: .fixture(.init(faults: .init(failInits: [400]), route: "threads.container", says: "400")),
        lapse: .notApplicable("a container lasts 24 h; the fetch happens at once — ThreadsTests covers a container made again"),
        processing: .fixture(.init(retryable: .fixture(.init(failFetches: 1)),
                                   final: .init(failProcessing: "the video could not be processed"), says: "could not be processed")),
        pipelineFailure: .fixture(.init(failProcessing: "the platform could not process the video")))

    static let vimeo = ConformanceFixture(
        module: VimeoPlatform.self, size: 9 * mib + 1,
        adapter: { VimeoAdapter($0, poll: quick, transcodeTimeout: .seconds(20)) },
        startRoute: "vimeo.create",
        // The cut PATCH keeps half its 4 MiB; the remaining 7 MiB go in two more.
        cut: .fixture(.init(faults: .init(failChunks: [503]), route: "tus.patch", requests: 3, keepsWhatArrived: true)),
        forget: forgets,
        expireTokens: .notApplicable("Vimeo's access tokens do not expire: there is nothing to refresh"),
        revocation: .fixture(.init(revoke: { rig in await rig.state.revoke(account: rig.accountKey) },
                                   restore: { rig in await rig.state.registerStaticToken(try rig.account.text("access_token") ?? "", account: rig.accountKey) })),
        refusal: .fixture(.init(faults: .init(failInits: [400]), route: "vimeo.create", says: "400")),
        lapse: .notApplicable("a Vimeo upload link lasts 24 h and tus answers 404/410 for one past it — the forgotten case (expiredSession) is that one"),
        processing: .fixture(.init(retryable: .notApplicable("Vimeo documents a failed transcode as final"),
                                   final: .init(failProcessing: "the video could not be transcoded"), says: "could not transcode")),
        pipelineFailure: .fixture(.init(failInits: [400])))

    static let bluesky = ConformanceFixture(
        module: BlueskyPlatform.self, size: 300_000,
        meta: PublishMetadata(title: "Conformance clip", description: "sent exactly once", tags: ["conformance"], privacy: .public, publishAt: nil,
                              options: ["alt": "a test pattern"]),
        adapter: { BlueskyAdapter($0, poll: quick, pollTimeout: .seconds(10)) },
        startRoute: "bluesky.uploadVideo", postRoute: "bluesky.createRecord", tokenRoute: "bluesky.refreshSession",
        cut: .fixture(.init(faults: .init(failChunks: [503]), route: "bluesky.uploadVideo", requests: 2)),
        forget: .notApplicable("the video service keeps the blob; a job it forgot is published from the same record key (BlueskyTests)"),
        expireTokens: .fixture({ await $0.expireBlueskyAccessTokens() }),
        revocation: .fixture(.init(
            revoke: { rig in await rig.state.revokeBlueskyAppPassword(account: rig.accountKey) },
            restore: { rig in await rig.state.registerBluesky(account: rig.accountKey, handle: try rig.account.text("handle") ?? "",
                                                              appPassword: try rig.account.text("app_password") ?? "") })),
        refusal: .fixture(.init(faults: .init(failInits: [400]), route: "bluesky.createRecord", says: "400")),
        lapse: .notApplicable("an uploaded blob is kept by the PDS for as long as a record may reference it"),
        processing: .fixture(.init(retryable: .notApplicable("pending: the video service's transient job failures"),
                                   final: .init(failProcessing: "the video could not be processed"), says: "could not be processed")),
        pipelineFailure: .fixture(.init(failProcessing: "the platform could not process the video")))

    static let reddit = ConformanceFixture(
        module: RedditPlatform.self, size: 300_000,
        meta: PublishMetadata(title: "Conformance clip", description: "sent exactly once", tags: ["conformance"], privacy: .public, publishAt: nil,
                              options: ["subreddit": "r/oceans"]),
        adapter: { RedditAdapter($0, resultTimeout: .seconds(10), settleWindow: .seconds(5), poll: quick) },
        prepare: { job, dir in
            let poster = dir.file("poster.jpg")
            if !FileManager.default.fileExists(atPath: poster.path) { try Data([0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 7, count: 500)).write(to: poster) }
            job.coverPath = poster.path
        },
        startRoute: "reddit.lease", startsPerPost: 2, tokenRoute: "reddit.token", extraBytes: 504,
        cut: .fixture(.init(faults: .init(failChunks: [503]), route: "reddit.media", requests: 3)),
        forget: .notApplicable("an uploaded asset is Reddit's to keep; a restart after the upload only submits (RedditTests)"),
        refusal: .fixture(.init(faults: .init(failInits: [400]), route: "reddit.lease", says: "400")),
        lapse: .notApplicable("the upload lease is used at once; a restart after it only submits"),
        processing: .fixture(.init(retryable: .notApplicable("Reddit documents a failed media as final"),
                                   final: .init(failProcessing: "the video could not be processed"), says: "could not be processed")),
        pipelineFailure: .fixture(.init(failProcessing: "the platform could not process the video")))

    static let folder = ConformanceFixture(
        module: FolderPlatform.self, size: 3 * mib + 512 * 1024, chunkSize: mib,
        says: "conformance",
        adapter: { FolderPlatform.makeAdapter($0) },
        countsBytes: false,
        cut: .notApplicable("a local copy has no connection to cut; a copy interrupted part-way resumes (restart)"),
        uncertain: .notApplicable("no reply to lose: the copy is named by a local link, and a restart finds it by sha256"),
        forget: .notApplicable("a folder forgets nothing: the partial file stays until the copy is named"),
        rateLimit: .notApplicable("a folder has no rate limit (a full disk waits instead)"),
        expireTokens: .notApplicable("a folder has no credentials"),
        revocation: .notApplicable("a folder has no credentials"),
        refusal: .notApplicable("a folder refuses nothing it could be asked once about; a missing folder is a setting's error (FolderTests)"),
        lapse: .notApplicable("a folder's partial file has no lifetime"),
        processing: .notApplicable("a folder does not process"),
        pipelineFailure: .notApplicable("a folder has no failure a sandbox can inject; FolderTests covers a copy that cannot be made"))

    static let s3 = ConformanceFixture(
        module: S3Platform.self, size: 11 * mib + 11, chunkSize: 5 * mib,
        says: "conformance",
        adapter: { S3Platform.makeAdapter($0) },
        startRoute: "s3.create",
        cut: .fixture(.init(faults: .init(failChunks: [503]), route: "s3.part", requests: 4)),
        forget: forgets,
        expireTokens: .notApplicable("S3 keys do not expire: every request is signed afresh"),
        revocation: .notApplicable("pending: a revoked access key holding a multipart upload"),
        refusal: .fixture(.init(faults: .init(failInits: [403]), route: "s3.create", says: "403")),
        lapse: .notApplicable("a multipart upload lives until it is aborted or a lifecycle rule removes it — that is the forgotten case (expiredSession)"),
        processing: .notApplicable("a bucket does not process what it stores"),
        pipelineFailure: .fixture(.init(failInits: [403])))

    static let command = ConformanceFixture(
        module: CommandPlatform.self, size: 300_000,
        says: "conformance",
        accountYAML: { dir in
            // A program that "posts" by copying the file it is handed into posted/, answering with its id.
            let script = dir.file("post.sh")
            try Data("""
                #!/bin/sh
                for last; do :; done
                cp "$last" '\(dir.file("posted").path)/conformance.mp4'
                echo '{"id": "c-1", "url": "file:///posted/conformance.mp4"}'
                """.utf8).write(to: script)
            chmod(script.path, 0o755)
            return "    run: [\(script.path)]\n"
        },
        adapter: { CommandPlatform.makeAdapter($0) },
        countsBytes: false,
        cut: .notApplicable("the program is handed the whole file: there is no part to cut"),
        restart: .notApplicable("the program is handed the whole file: there is no confirmed part to resume from"),
        uncertain: .notApplicable("the program decides: a re-run is told `retry: true` (CommandTargetTests)"),
        forget: .notApplicable("the program keeps no session OmniPost holds"),
        rateLimit: .notApplicable("a program says 'try later' by its exit code (CommandTargetTests)"),
        expireTokens: .notApplicable("a program holds its own credentials"),
        revocation: .notApplicable("a program holds its own credentials"),
        refusal: .notApplicable("a program's refusals are its exit codes (CommandTargetTests)"),
        lapse: .notApplicable("the program keeps no session OmniPost holds"),
        processing: .notApplicable("the program does its own processing"),
        pipelineFailure: .notApplicable("the program's failures are its exit codes (CommandTargetTests)"))

    static let webhook = ConformanceFixture(
        module: WebhookPlatform.self, size: 300_000,
        adapter: { WebhookPlatform.makeAdapter($0) },
        // One request is the whole delivery; a repeat carries the same Idempotency-Key and is not taken twice.
        countsBytes: false,
        cut: .fixture(.init(faults: .init(failChunks: [503]), route: "webhook.post", requests: 2)),
        restart: .notApplicable("one request carries the document: there is no confirmed part to resume from"),
        forget: .notApplicable("a receiver keeps no session"),
        rateLimit: .fixture(.init(faults: .init(failChunks: [429])) { at, t0, t1 in waitIsAbout(at, 7, from: t0, to: t1) }),
        expireTokens: .notApplicable("a webhook signs with a shared secret that does not expire"),
        revocation: .notApplicable("a webhook signs with a shared secret: a changed one is a 401 the receiver says (WebhookTests)"),
        refusal: .fixture(.init(faults: .init(failChunks: [422]), route: "webhook.post", says: "422")),
        lapse: .notApplicable("a receiver keeps no session"),
        processing: .notApplicable("a receiver does not process"),
        pipelineFailure: .fixture(.init(failChunks: [422])))

    static let tus = ConformanceFixture(
        module: TusPlatform.self, size: 3 * mib + 512 * 1024, chunkSize: mib,
        adapter: { TusPlatform.makeAdapter($0) },
        startRoute: "tus.create",
        // The cut PATCH keeps half its 1 MiB; the remaining 3 MiB go in three more.
        cut: .fixture(.init(faults: .init(failChunks: [503]), route: "tus.patch", requests: 4, keepsWhatArrived: true)),
        forget: forgets,
        expireTokens: .notApplicable("a tus server here takes no credentials"),
        revocation: .notApplicable("a tus server here takes no credentials"),
        refusal: .fixture(.init(faults: .init(failInits: [413]), route: "tus.create", says: "413")),
        lapse: .notApplicable("tus says an upload's expiry in Upload-Expires and answers 404/410 past it — the forgotten case (expiredSession) is that one"),
        processing: .notApplicable("a tus server does not process"),
        pipelineFailure: .fixture(.init(failInits: [413])))
}
