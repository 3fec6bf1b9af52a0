import Foundation
import Hummingbird
import OmniPostCore

/// Everything the sandbox remembers: what every platform shares here — registered accounts and tokens,
/// published videos (with the sha256 of the bytes received), faults to inject, counters — and each
/// platform's own world (its upload sessions, containers, posts: `PlatformWorld`, declared in its folder
/// and reached as `self[W.self]`). One actor, so concurrent requests see a consistent world.
package actor SandboxState {
    package struct Account: Sendable, Codable {
        package var platform: String
        package var name: String
        package var clientID: String
        package var clientSecret: String
        package var refreshToken: String
        package var revoked = false
    }

    package struct Video: Sendable, Codable, Equatable {
        package var platform: String
        package var id: String
        package var account: String
        package var title: String
        package var description: String
        package var tags: [String]
        package var privacy: String
        package var publishAt: String?
        package var bytes: Int64
        package var sha256: String
        package var path: String
        package var receivedAt: Date
        package var thumbnailSha256: String? = nil
        /// YouTube's other stored fields, returned in the video resource.
        package var categoryId: String? = nil
        package var madeForKids: Bool? = nil
        package var containsSyntheticMedia: Bool? = nil
        package var defaultLanguage: String? = nil
        package var embeddable: Bool? = nil
        package var license: String? = nil
        /// How the bytes came: resumable, multipart or media (simple).
        package var uploadType: String? = nil
        /// YouTube's caption tracks (`captions.insert`).
        package var captions: [SandboxTextTrack]? = nil
        /// Comments under the post, in order — YouTube's top-level comments (`commentThreads.insert`),
        /// Instagram's, Facebook's, LinkedIn's, Reddit's: the id, the author (`name`) and the text.
        package var comments: [SandboxTextTrack]? = nil
    }

    package struct Faults: Sendable, Codable, Equatable {
        /// Cut the next YouTube PUT once its session holds this many bytes: the bytes up to there are kept,
        /// the request fails with 503 — what a dropped connection mid-chunk leaves behind.
        package var youtubeCutAfterBytes: Int64?
        /// Statuses to answer the next YouTube PUTs with, one each, before touching the body.
        package var youtubeFailPuts: [Int] = []
        /// Milliseconds every chunk PUT (YouTube and TikTok) takes before it is answered: a slow link, so a
        /// test's kills land mid-chunk.
        package var youtubePutDelayMs: Int = 0
        /// The next this-many YouTube `308 Resume Incomplete` answers name a new session URI in `Location`
        /// (the same session under `&moved=1`), as Google's upload service may: its official clients take
        /// it as the URI from then on (google-api-python-client's `_process_response`, the Java client's
        /// `MediaHttpUploader`). PUTs that arrive at it are counted as `youtube.put.moved`.
        package var youtubeMoveSessions: Int = 0
        /// Statuses to answer the next upload starts with (YouTube session POST, TikTok init), one each.
        package var failInits: [Int] = []
        /// Answer the next this-many upload starts with 429 and `Retry-After: rateLimitRetryAfterS`.
        package var rateLimitInits: Int = 0
        package var rateLimitRetryAfterS: Int = 2
        /// Milliseconds between committing an upload's last chunk (the video exists) and answering: a
        /// client killed in that window must find the post by reconciling, not post again.
        package var finalReplyDelayMs: Int = 0
        /// Rotating refresh tokens are single-use at once (X; providers with reuse detection): the old one
        /// dies the moment it is used, and presenting a used one again revokes the whole token family.
        package var strictRotation: Bool = false
        /// Milliseconds the token endpoint takes to answer: a real network's round trip (150–300 ms),
        /// which is what lets two concurrent refreshes overlap.
        package var tokenDelayMs: Int = 0
        /// Statuses to answer the next chunk requests (X APPEND, LinkedIn part PUT, TikTok chunk PUT, S3
        /// part, tus PATCH, Meta rupload, Bluesky's video upload, Reddit's media POST) with, one each, after
        /// the body was read and dropped: a transfer cut mid-part.
        package var failChunks: [Int] = []
        /// The next upload a platform processes fails, with this as the platform's reason.
        package var failProcessing: String? = nil
        /// How long a platform that processes after the upload (X, LinkedIn, Vimeo's transcode) takes before the media is ready.
        package var processingMs: Int = 0
        /// Answer the next this-many reads of an account itself (X's `/2/users/me`, its recent posts) with
        /// 429 and a reset `rateLimitRetryAfterS` away: the account's window, not an upload's.
        package var rateLimitReads: Int = 0
        /// The next this-many videos a platform fetches itself (Threads' `video_url`) fail mid-fetch, as when
        /// the serving daemon restarts: the container ends FAILED_DOWNLOADING_VIDEO.
        package var failFetches: Int = 0
        /// Statuses to answer the next requests that finish a post after its upload (Vimeo's tags) with, one
        /// each: 429 with Retry-After, any other as the platform's error.
        package var failFollowUps: [Int] = []
        /// The next this-many follow-ups (a subtitle track…) are made, and their answer lost (503), as when the
        /// client is killed after its request left: what reading back must find, so nothing is made twice.
        package var loseFollowUpReplies: Int = 0
        /// Statuses to answer the next chat completions with (the captions model), one each.
        package var failChats: [Int] = []
        /// What the next chat completions say instead of the text the sandbox's model writes, one each
        /// (an answer over a platform's limit, one that is not JSON).
        package var chatAnswers: [String] = []
        /// What becomes of the next posts read back, one each at a post's first read (`PostFate`): `hidden`
        /// (never shown), `removed` (shown once, then taken down), `locked` (made private by the platform),
        /// or a privacy word the platform shows instead of the one posted.
        package var postFates: [String] = []
        /// Where to send the next requests carrying an upload's bytes (every platform's part, segment,
        /// fragment or whole-file route; `ChunkRedirect` lists them): each answered `307 Temporary Redirect`
        /// with that `Location`, one each, before the body is read — a load balancer moving an upload
        /// elsewhere; an entry "303 <Location>" answers that 3xx instead.
        package var redirectChunks: [String] = []
        /// Where to send the next requests that start an upload (every route that takes `failInits`, and
        /// Bluesky's `uploadVideo`, its start), in `redirectChunks`' form, one each, before anything else is
        /// done for the request: the session, container or lease asked for somewhere else.
        package var redirectStarts: [String] = []

        package init(
            youtubeCutAfterBytes: Int64? = nil, youtubeFailPuts: [Int] = [], youtubePutDelayMs: Int = 0, failInits: [Int] = [],
            rateLimitInits: Int = 0, rateLimitRetryAfterS: Int = 2, finalReplyDelayMs: Int = 0,
            strictRotation: Bool = false, tokenDelayMs: Int = 0, failChunks: [Int] = [], failProcessing: String? = nil, processingMs: Int = 0,
            rateLimitReads: Int = 0, failFetches: Int = 0, failFollowUps: [Int] = [], failChats: [Int] = [], chatAnswers: [String] = [],
            postFates: [String] = [], redirectChunks: [String] = [], redirectStarts: [String] = []
        ) {
            self.postFates = postFates
            self.redirectChunks = redirectChunks
            self.redirectStarts = redirectStarts
            self.failChats = failChats
            self.chatAnswers = chatAnswers
            self.rateLimitReads = rateLimitReads
            self.failFetches = failFetches
            self.failFollowUps = failFollowUps
            self.failChunks = failChunks
            self.failProcessing = failProcessing
            self.processingMs = processingMs
            self.strictRotation = strictRotation
            self.tokenDelayMs = tokenDelayMs
            self.youtubeCutAfterBytes = youtubeCutAfterBytes
            self.youtubeFailPuts = youtubeFailPuts
            self.youtubePutDelayMs = youtubePutDelayMs
            self.failInits = failInits
            self.rateLimitInits = rateLimitInits
            self.rateLimitRetryAfterS = rateLimitRetryAfterS
            self.finalReplyDelayMs = finalReplyDelayMs
        }

        /// Every field optional on the wire: `POST /sandbox/faults {"finalReplyDelayMs": 300}` sets just that.
        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                youtubeCutAfterBytes: try c.decodeIfPresent(Int64.self, forKey: .youtubeCutAfterBytes),
                youtubeFailPuts: try c.decodeIfPresent([Int].self, forKey: .youtubeFailPuts) ?? [],
                youtubePutDelayMs: try c.decodeIfPresent(Int.self, forKey: .youtubePutDelayMs) ?? 0,
                failInits: try c.decodeIfPresent([Int].self, forKey: .failInits) ?? [],
                rateLimitInits: try c.decodeIfPresent(Int.self, forKey: .rateLimitInits) ?? 0,
                rateLimitRetryAfterS: try c.decodeIfPresent(Int.self, forKey: .rateLimitRetryAfterS) ?? 2,
                finalReplyDelayMs: try c.decodeIfPresent(Int.self, forKey: .finalReplyDelayMs) ?? 0,
                strictRotation: try c.decodeIfPresent(Bool.self, forKey: .strictRotation) ?? false,
                tokenDelayMs: try c.decodeIfPresent(Int.self, forKey: .tokenDelayMs) ?? 0,
                failChunks: try c.decodeIfPresent([Int].self, forKey: .failChunks) ?? [],
                failProcessing: try c.decodeIfPresent(String.self, forKey: .failProcessing),
                processingMs: try c.decodeIfPresent(Int.self, forKey: .processingMs) ?? 0,
                rateLimitReads: try c.decodeIfPresent(Int.self, forKey: .rateLimitReads) ?? 0,
                failFetches: try c.decodeIfPresent(Int.self, forKey: .failFetches) ?? 0,
                failFollowUps: try c.decodeIfPresent([Int].self, forKey: .failFollowUps) ?? [],
                failChats: try c.decodeIfPresent([Int].self, forKey: .failChats) ?? [],
                chatAnswers: try c.decodeIfPresent([String].self, forKey: .chatAnswers) ?? [],
                postFates: try c.decodeIfPresent([String].self, forKey: .postFates) ?? [],
                redirectChunks: try c.decodeIfPresent([String].self, forKey: .redirectChunks) ?? [],
                redirectStarts: try c.decodeIfPresent([String].self, forKey: .redirectStarts) ?? [])
            youtubeMoveSessions = try c.decodeIfPresent(Int.self, forKey: .youtubeMoveSessions) ?? 0
        }
    }

    /// What is happening right now, for tests that aim a kill: chunk PUTs being served, and finished
    /// uploads whose reply is still held back.
    package struct Stats: Sendable, Codable {
        package var putsInFlight = 0
        package var finalRepliesPending = 0
        /// Requests answered 429 by a per-token rate limit.
        package var rateLimited = 0
    }
    package private(set) var stats = Stats()
    func putStarted() { stats.putsInFlight += 1 }
    func putEnded() { stats.putsInFlight -= 1 }

    /// Serves one chunk PUT, counted in `stats` while it runs (whatever way it ends).
    nonisolated func servingPut(_ body: () async throws -> Response) async throws -> Response {
        await putStarted()
        do {
            let r = try await body()
            await putEnded()
            return r
        } catch {
            await putEnded()
            throw error
        }
    }

    /// An injected answer for an upload start: a status to fail with, or a 429 with its Retry-After.
    enum InitFault { case status(Int), rateLimited(Int) }
    func takeInitFault() -> InitFault? {
        if faults.rateLimitInits > 0 {
            faults.rateLimitInits -= 1
            return .rateLimited(faults.rateLimitRetryAfterS)
        }
        return faults.failInits.isEmpty ? nil : .status(faults.failInits.removeFirst())
    }

    /// An injected failure for the next chunk request (`failChunks`), if any.
    func takeChunkFault() -> Int? { faults.failChunks.isEmpty ? nil : faults.failChunks.removeFirst() }
    /// Whether the next YouTube 308 names a new session URI (`youtubeMoveSessions`).
    func takeYouTubeMove() -> Bool {
        guard faults.youtubeMoveSessions > 0 else { return false }
        faults.youtubeMoveSessions -= 1
        return true
    }
    /// Where the next request of `queue`'s kind is redirected (`redirectChunks`, `redirectStarts`), if anywhere.
    func takeRedirect(_ queue: ChunkRedirect.Queue) -> String? {
        switch queue {
        case .chunks: return faults.redirectChunks.isEmpty ? nil : faults.redirectChunks.removeFirst()
        case .starts: return faults.redirectStarts.isEmpty ? nil : faults.redirectStarts.removeFirst()
        }
    }

    /// An injected failure for the next follow-up request (`failFollowUps`), if any.
    func takeFollowUpFault() -> Int? { faults.failFollowUps.isEmpty ? nil : faults.failFollowUps.removeFirst() }
    func takeChatFault() -> Int? { faults.failChats.isEmpty ? nil : faults.failChats.removeFirst() }
    func takeChatAnswer() -> String? { faults.chatAnswers.isEmpty ? nil : faults.chatAnswers.removeFirst() }

    /// An injected processing failure for the next processed upload (`failProcessing`), if any.
    func takeProcessingFault() -> String? {
        defer { faults.failProcessing = nil }
        return faults.failProcessing
    }

    /// Holds the reply to a finished upload for `finalReplyDelayMs`, counted in `stats` meanwhile. Clearing
    /// the fault lets a held reply go within 50 ms: a test can hold a reply far longer than the client's
    /// limit (so a starved timer cannot let it through) and still stop its server at once.
    func holdFinalReply() async {
        let ms = faults.finalReplyDelayMs
        guard ms > 0 else { return }
        stats.finalRepliesPending += 1
        let until = ContinuousClock.now + .milliseconds(ms)
        while faults.finalReplyDelayMs > 0, ContinuousClock.now < until, !Task.isCancelled {
            try? await Task.sleep(for: min(.milliseconds(50), until - ContinuousClock.now))
        }
        stats.finalRepliesPending -= 1
    }

    struct Token: Codable { var account: String; var expires: Date }

    package let root: URL
    package var accessTokenLifetime: TimeInterval
    package var sessionLifetime: TimeInterval
    var accounts: [String: Account] = [:] { didSet { changed() } }  // by refresh token
    /// A rotated-out refresh token stays valid until its successor is first used (new → old), so a
    /// client that crashed before storing the new token can still refresh with the old one.
    var retiring: [String: String] = [:] { didSet { changed() } }
    /// Refresh tokens already used under strict rotation, with the account they belonged to.
    var usedRefreshTokens: [String: String] = [:] { didSet { changed() } }
    var tokens: [String: Token] = [:] { didSet { changed() } }
    /// Platform user ids (X's numeric id, LinkedIn's member `sub`), one per account, made on first use.
    var userIDs: [String: String] = [:] { didSet { changed() } }
    var consents: [String: Consent] = [:]
    /// What capture receivers got (`/sandbox/capture/<name>`), and which are down.
    package private(set) var captured: [String: [(title: String?, body: String)]] = [:]
    var captureDown = Set<String>()
    func capture(_ name: String, title: String?, body: String) { captured[name, default: []].append((title, body)) }
    package func setCaptureDown(_ name: String, _ down: Bool) { if down { captureDown.insert(name) } else { captureDown.remove(name) } }
    var deviceCodes: [String: DeviceAuthorization] = [:]
    var deviceInterval = 5
    var deviceLifetime = 1800
    var deviceSlowDowns = 0
    var oauthCodes: [String: OAuthCode] = [:]
    /// `host:port` of the HTTPS listener, when there is one (Reddit's media host).
    var secureHost: String?
    func setSecureHost(_ h: String) { secureHost = h }
    /// Serializes requests per upload session (YouTube session id, TikTok publish id).
    nonisolated let sessionLocks = KeyedLock()
    var videos: [Video] = [] { didSet { changed() } }
    package var faults = Faults()
    /// Requests seen per route, for tests that assert what a client did.
    package private(set) var requestCounts: [String: Int] = [:]
    package private(set) var bytesReceived: Int64 = 0

    /// Where a persistent sandbox keeps what must survive a restart (`SandboxState+Persistence`); nil: memory only.
    let snapshotFile: URL?

    /// Each platform's own world, by its type: the sandbox's shared part never names one.
    private var worlds: [ObjectIdentifier: any PlatformWorld] = [:]

    /// The world of type `W`, made empty on first use. A change to a `KeptWorld` is written to the
    /// snapshot, as a change to the shared state is.
    subscript<W: PlatformWorld>(_ world: W.Type) -> W {
        get { worlds[ObjectIdentifier(W.self)] as? W ?? W() }
        _modify {
            let key = ObjectIdentifier(W.self)
            // Taken out while it changes, so the change is made in place rather than on a copy.
            var w = worlds.removeValue(forKey: key) as? W ?? W()
            defer {
                worlds[key] = w
                if W.self is any KeptWorld.Type { changed() }
            }
            yield &w
        }
    }

    /// The kept worlds, for the snapshot.
    var keptWorlds: [any KeptWorld] { worlds.values.compactMap { $0 as? any KeptWorld } }

    package init(root: URL, accessTokenLifetime: TimeInterval = 3600, sessionLifetime: TimeInterval = 7 * 86400, persistent: Bool = false) {
        self.root = root
        self.accessTokenLifetime = accessTokenLifetime
        self.sessionLifetime = sessionLifetime
        snapshotFile = persistent ? root.appendingPathComponent("state.json") : nil
        if let snapshotFile, let snap = Self.readSnapshot(snapshotFile) {
            accounts = snap.accounts
            retiring = snap.retiring
            usedRefreshTokens = snap.usedRefreshTokens
            tokens = snap.tokens
            userIDs = snap.userIDs
            for w in snap.worlds { worlds[ObjectIdentifier(type(of: w))] = w }
            videos = snap.videos
        }
    }

    package func register(_ account: Account) {
        accounts[account.refreshToken] = account
        SandboxPlatforms.named(account.platform)?.registered(account, state: self)
    }

    package func revoke(refreshToken: String) { accounts[refreshToken]?.revoked = true }

    /// Revokes every refresh token of `platform:name` (the user removed the app's access).
    package func revoke(account key: String) {
        for (rt, a) in accounts where "\(a.platform):\(a.name)" == key { accounts[rt]?.revoked = true }
        tokens = tokens.filter { $0.value.account != key }
    }

    package func setFaults(_ f: Faults) { faults = f }

    /// What an account's owner hands a platform besides an app and a refresh token (keys, a token, a
    /// password, a secret), by the names its settings give them; the platform's sandbox takes it.
    package func grant(platform: String, account: String, _ credentials: [String: String]) {
        SandboxPlatforms.named(platform)?.grant(credentials, account: account, state: self)
    }

    /// Every unfinished upload expires now, on every platform that has such a thing, as if the client had
    /// been away past its lifetime.
    package func expireUnfinishedUploads() {
        for p in SandboxPlatforms.all { p.expireUnfinishedUploads(state: self) }
    }

    /// Request times per rate-limited key (route + token), for the platforms' per-token limits.
    var rateWindows: [String: [Date]] = [:]

    /// Counts one request under `key`: nil when it is within `limit` per `window` seconds, or the
    /// seconds until it would be (what Retry-After says).
    func rateLimit(_ key: String, limit: Int, window: Double) -> Int? {
        let now = Date()
        var times = (rateWindows[key] ?? []).filter { now.timeIntervalSince($0) < window }
        if times.count >= limit {
            rateWindows[key] = times
            stats.rateLimited += 1
            return max(1, Int((window - now.timeIntervalSince(times[0])).rounded(.up)))
        }
        times.append(now)
        rateWindows[key] = times
        return nil
    }

    /// Requests counted under `key` in the last `window` seconds.
    func rateWindowCount(_ key: String, window: Double) -> Int {
        let now = Date()
        return (rateWindows[key] ?? []).filter { now.timeIntervalSince($0) < window }.count
    }

    /// The token endpoint's round trip (`tokenDelayMs`).
    func tokenDelay() async {
        let ms = faults.tokenDelayMs
        if ms > 0 { try? await Task.sleep(for: .milliseconds(ms)) }
    }

    package func setAccessTokenLifetime(_ t: TimeInterval) { accessTokenLifetime = t }

    /// Ends every access token now, as a platform does when it rotates its keys: clients must refresh.
    package func expireAccessTokens() { tokens.removeAll() }

    package func setSessionLifetime(_ t: TimeInterval) { sessionLifetime = t }

    package func allVideos() -> [Video] { videos }

    /// How many videos carry these exact bytes: the exactly-once check.
    package func postCount(sha256: String) -> Int { videos.filter { $0.sha256 == sha256 }.count }

    func count(_ route: String) { requestCounts[route, default: 0] += 1 }

    func addReceived(_ n: Int64) { bytesReceived += n }

    // MARK: OAuth

    enum RefreshResult { case ok(String, Int), invalidClient, invalidGrant }

    func refresh(clientID: String, clientSecret: String, refreshToken: String) -> RefreshResult {
        guard let a = accounts[refreshToken], !a.revoked else { return .invalidGrant }
        guard a.clientID == clientID, a.clientSecret == clientSecret else { return .invalidClient }
        let token = "sbx." + Self.randomID(32)
        tokens[token] = Token(account: "\(a.platform):\(a.name)", expires: Date().addingTimeInterval(accessTokenLifetime))
        return .ok(token, Int(accessTokenLifetime))
    }

    /// The account a bearer token belongs to, if it is valid and unexpired.
    func account(forBearer header: String?) -> String? {
        guard let header, header.hasPrefix("Bearer ") else { return nil }
        let t = String(header.dropFirst(7))
        guard let tok = tokens[t], tok.expires > Date() else { return nil }
        return tok.account
    }

    /// The platform's id for an account, the same every time it is asked.
    func userID(_ account: String, length: Int = 19, alphabet: String = "0123456789") -> String {
        if let id = userIDs[account] { return id }
        let id = (alphabet.first == "0" ? "1" : "") + SandboxState.randomID(alphabet.first == "0" ? length - 1 : length, alphabet: alphabet)
        userIDs[account] = id
        return id
    }

    func account(userID: String) -> String? { userIDs.first { $0.value == userID }?.key }

    static func randomID(_ n: Int, alphabet: String = "abcdefghijklmnopqrstuvwxyz0123456789") -> String {
        let chars = Array(alphabet)
        return String((0..<n).map { _ in chars.randomElement()! })
    }
}
