import Foundation
import Logging
import OmniPostCore

/// A platform reached by driving its creator pages: the recipe says what to click, this adapter runs
/// it in a fresh headless Chromium per post (the account's profile folder and sealed cookies), one
/// browser at a time. A new browser-driven platform is a recipe and a descriptor; nothing here names one.
///
/// Exactly once: the session is recorded before the file is chosen (`uploading`) and again right
/// before publish is clicked (`publishing`, with the content list as it was). A post counts only when
/// the account's content list shows a new item with its title; an outcome the page did not confirm is
/// settled by reading that list, never by publishing again.
package struct RecipeAdapter: PlatformAdapter {
    package let settings: AdapterSettings
    package let browser: BrowserSettings
    package var platform: String { settings.account.platform }
    package var schedulesNatively: Bool { false }

    package init(_ settings: AdapterSettings) {
        self.settings = settings
        self.browser = settings.browser ?? .standalone
    }

    /// What the ledger keeps of a browser post (the engine's persisted session).
    struct Session: Codable {
        /// `uploading`: publish was not clicked yet, so no post can exist. `publishing`: it may.
        var phase: String
        var title: String
        var duration: String?
        /// The content list before publish was clicked: an item already there is not this post.
        var before: [ContentItem]
    }

    var account: AccountConfig { settings.account }

    /// The account's pacing (`min_gap:`, `jitter:` under it; 60 s and 30 s unless written).
    var pacing: BrowserGate.Pacing {
        BrowserGate.Pacing(
            gap: (try? account.setting("min_gap")?.duration()) ?? .seconds(60),
            jitter: (try? account.setting("jitter")?.duration()) ?? .seconds(30))
    }

    func post(for job: UploadJob) -> RecipePost {
        let m = job.metadata
        let caption = ([m.description] + [m.tags.map { "#" + $0 }.joined(separator: " ")]).filter { !$0.isEmpty }.joined(separator: " ")
        return RecipePost(file: job.filePath, title: m.title, description: m.description, caption: caption, tags: m.tags, cover: job.coverPath)
    }

    package func publish(
        _ job: UploadJob, checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void, progress: @escaping @Sendable (Int64, Int64) -> Void
    ) async throws -> PublishOutcome {
        let recipe = try recipe()
        let p = post(for: job)
        let size = job.size
        let item = try await session(job, recipe: recipe, posting: true) { runner in
            let before = try await runner.listed()
            func record(_ phase: String) async throws {
                let s = Session(phase: phase, title: p.title, duration: p.duration, before: before)
                let text = String(decoding: try JSONEncoder().encode(s), as: UTF8.self)
                try await checkpoint(UploadCheckpoint(session: text, confirmedOffset: phase == "publishing" ? size : 0, bytesSent: 0))
            }
            try await record("uploading")
            return try await runner.post(p, before: before) {
                try await record("publishing")
                progress(size, size)
            }
        }
        return outcome(item, recipe: recipe, size: size)
    }

    /// The post as the content list showed it; its address is the list's, with the item's id.
    func outcome(_ item: ContentItem, recipe: Recipe, size: Int64, reconciled: Bool = false) -> PublishOutcome {
        let id = item.id ?? item.title
        var o = PublishOutcome(remoteId: id, url: recipe.address(recipe.contentList.page, base: recipe.base(for: account)) + "#" + id, bytesSent: size)
        o.reconciled = reconciled
        return o
    }

    package func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let text = job.session, let s = try? JSONDecoder().decode(Session.self, from: Data(text.utf8)) else { return .notStarted }
        // Publish was never clicked: nothing can have been posted.
        if s.phase != "publishing" { return .notStarted }
        let recipe = try recipe()
        var wanted = post(for: job)
        wanted.title = s.title
        wanted.duration = s.duration
        let p = wanted
        let found = try await session(job, recipe: recipe, posting: false) { runner in try await runner.find(p, before: s.before) }
        if let found { return .published(outcome(found, recipe: recipe, size: job.size, reconciled: true)) }
        throw DeliveryError(
            .permanent, .uncertainPost,
            "publish was clicked but the account's content list does not show '\(s.title)'; it is not published again — look at the account, then `omnipost retry` if it is not there"
        )
    }

    func recipe() throws -> Recipe {
        do { return try RecipeCatalog.recipe(for: account) } catch let e as OmniError {
            throw DeliveryError(.permanent, .recipeInvalid, "\(e.location.map { "\($0): " } ?? "")\(e.message)")
        }
    }

    /// A browser for `job`'s account: its cookies put in, `body` run with a runner on its page, its
    /// cookies read back and stored, and Chromium closed. A failure is classified, with the page's
    /// screenshot and HTML saved beside the failure report.
    /// `posting`: the session may post, so the account's pacing applies (reading the list does not wait).
    func session<T: Sendable>(_ job: UploadJob, recipe: Recipe, posting: Bool, _ body: @escaping @Sendable (RecipeRunner) async throws -> T) async throws -> T {
        let key = account.key
        guard let jar = try await loadCookies(), !jar.cookies.isEmpty else {
            throw DeliveryError(.reauthenticate, .authRevoked, "\(key) has no browser session: \(Self.fix(key))")
        }
        let browser = self.browser, base = recipe.base(for: account)
        // Across hosts first (another host may be posting this account, or inside its gap), then this
        // host's browser slot and pacing; the shared gap starts when this post ends, with its own jitter.
        if posting, let pacer = browser.pacer {
            let end: @Sendable (Duration) -> Void
            let pacing = self.pacing
            do { end = try await pacer.begin(account: key, minGap: pacing.gap) } catch let e as OmniError { throw DeliveryError(.retryNow, e.code, e.message) }
            let gap = pacing.gap + .milliseconds(Int64.random(in: 0...max(0, Int64(pacing.jitter.seconds * 1000))))
            do {
                let v = try await sessionOnGate(key, jar: jar, browser: browser, base: base, recipe: recipe, posting: posting, job: job, body)
                end(gap)
                return v
            } catch {
                end(gap)
                throw error
            }
        }
        return try await sessionOnGate(key, jar: jar, browser: browser, base: base, recipe: recipe, posting: posting, job: job, body)
    }

    /// The session itself, once this host's gate lets it run.
    private func sessionOnGate<T: Sendable>(
        _ key: String, jar: CookieJar, browser: BrowserSettings, base: String, recipe: Recipe, posting: Bool, job: UploadJob,
        _ body: @escaping @Sendable (RecipeRunner) async throws -> T
    ) async throws -> T {
        let logger = settings.logger
        return try await browser.gate.turn(account: key, pacing: posting ? pacing : nil) {
            do {
                let (v, cost) = try await BrowserSession.with(profile: browser.profile(for: key), executable: browser.executable, timeouts: browser.timeouts) { s in
                    try await s.page.setCookies(jar.cookies)
                    let runner = RecipeRunner(recipe: recipe, page: s.page, base: base)
                    do {
                        let v = try await body(runner)
                        try await self.saveCookies(s.page)
                        return v
                    } catch {
                        let saved = await self.evidence(s.page, job: job)
                        if (error as? RecipeFailure)?.code != "auth_revoked" { try? await self.saveCookies(s.page) }
                        throw self.classify(error, evidence: saved)
                    }
                }
                // What a browser session costs, for a NAS owner sizing memory (docs/recipes.md).
                logger.info(
                    "browser session closed",
                    metadata: [
                        "omnipost.account": "\(key)", "omnipost.browser.peak_bytes": "\(cost.peakRSS)",
                        "omnipost.browser.seconds": "\(String(format: "%.2f", cost.seconds))"
                    ])
                return v
            } catch let e as DeliveryError {
                throw e
            } catch let e as OmniError {
                throw DeliveryError(.retryNow, e.code, e.message)
            } catch {
                throw classify(error, evidence: nil)
            }
        }
    }

    static func fix(_ key: String) -> String {
        "log in with `omnipost accounts add <pipeline.yaml> \(key)` (a QR code to scan) or store cookies with `omnipost accounts import-cookies <pipeline.yaml> \(key) <file>`"
    }

    func classify(_ error: any Error, evidence: String?) -> DeliveryError {
        let seen = evidence.map { " (screenshot and page: \($0))" } ?? ""
        if let e = error as? DeliveryError { return e }
        if let f = error as? RecipeFailure {
            let msg = f.message + seen
            switch f.code {
            case "auth_revoked": return DeliveryError(.reauthenticate, .authRevoked, "\(msg); \(Self.fix(account.key))")
            case "needs_human": return DeliveryError(.permanent, .needsHuman, "\(msg); solve it in a browser signed in as \(account.key), then `omnipost retry`")
            case "recipe_broken": return DeliveryError(.permanent, .recipeBroken, "\(msg); the page changed: fix the recipe (\(recipeFile)) or override it (docs/recipes.md)")
            case "rejected_by_platform": return DeliveryError(f.transient ? .retryNow : .permanent, .rejectedByPlatform, msg)
            case "rate_limited": return DeliveryError(.retryAt(Date().addingTimeInterval(1800)), .rateLimited, msg)
            case "uncertain_post": return DeliveryError(.permanent, .uncertainPost, msg)
            default: return DeliveryError(.retryNow, .platformError, msg)
            }
        }
        // The browser itself: it did not start, a command had no answer, the page did not load.
        return DeliveryError(.retryNow, .platformError, "the browser session failed: \(error)\(seen)")
    }

    /// `accounts check` and the daemon's checks (at start, ahead of a due post): the upload page opens
    /// logged in and the recipe's first anchors are there — a lapsed session or a redesigned page is
    /// known hours before a post, with the command that fixes it.
    package func health() async throws -> AccountIdentity {
        let recipe = try recipe()
        let job = UploadJob(
            deliveryId: 0, filePath: "", size: 0, metadata: PublishMetadata(title: "", description: "", tags: [], privacy: .public, publishAt: nil, options: [:]),
            session: nil, confirmedOffset: 0)
        let found = try await session(job, recipe: recipe, posting: false) { runner in try await runner.check() }
        return AccountIdentity(id: account.key, name: "logged in; \(found) anchor(s) of \(recipe.file) found")
    }

    var recipeFile: String { (try? account.setting("recipe")?.string()) ?? "the bundled recipes/\(platform).yaml" }

    /// Saves the page's screenshot and HTML as `<drop>.<platform>-<account>.png/.html` beside the
    /// failure report; returns the PNG's path (nil when nothing could be saved).
    func evidence(_ page: BrowserPage, job: UploadJob) async -> String? {
        guard let folder = browser.evidence else { return nil }
        let stem = "\(job.drop?.dropId ?? (job.deliveryId == 0 ? "check" : "delivery-\(job.deliveryId)")).\(account.platform)-\(account.name)"
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let png = folder.appendingPathComponent(stem + ".png")
            try await page.screenshot().write(to: png, options: .atomic)
            try Data(try await page.html().utf8).write(to: folder.appendingPathComponent(stem + ".html"), options: .atomic)
            return png.path
        } catch {
            return nil
        }
    }

    func loadCookies() async throws -> CookieJar? {
        guard let store = browser.cookies else { return nil }
        do { return try await store.load(account: account.key) } catch let e as OmniError {
            throw DeliveryError(.reauthenticate, e.code, "\(account.key): \(e.message)")
        }
    }

    /// The browser's cookies after a session replace the stored ones (a platform renews its session
    /// cookie as it is used).
    func saveCookies(_ page: BrowserPage) async throws {
        guard let store = browser.cookies else { return }
        let now = try await page.cookies()
        if !now.isEmpty { try await store.save(account: account.key, jar: CookieJar(cookies: now)) }
    }
}
