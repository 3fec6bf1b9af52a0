import AsyncHTTPClient
import Foundation
import Logging
import NIOSSL
import OmniPostCore
import OmniPostIngest
import OmniPostLedger
import OmniPostMedia
import OmniPostPlatforms
import Synchronization

/// One running pipeline: its folders, ledger, watcher, stage workers, adapters and (in embedded
/// mode) the stand-ins for the platforms they talk to, started through the `PlatformEmbedding` it was handed. Stages never call each other; they meet in the ledger and ring
/// a shared doorbell when they move work on.
package final class Pipeline: Sendable {
    package let context: PipelineContext
    /// The stand-ins for the platforms this pipeline talks to (`sandbox: embedded`), and what started them
    /// (a reload opens the next pipeline with the same).
    package let embedded: (any EmbeddedPlatforms)?
    package let embedding: (any PlatformEmbedding)?
    /// The daemon's HTTP listener (`http:`), when configured.
    package let listener: HTTPListener?
    /// One token provider per account, shared by its adapters and the account checks.
    let tokens: [String: TokenProvider]
    package let watcher: InboxWatcher
    let http: HTTPClient
    /// The client that follows no redirect, for an upload's bytes and every S3 request (`UploadRedirect`).
    let uploads: HTTPClient

    /// Builds and starts the parts that must exist before work flows (folders, ledger, sandbox).
    package static func open(
        config: PipelineConfig, logger: Logger, progress: ProgressSink = .silent, clock: any WallClock = SystemClock(),
        profiles: ProfileCatalog? = nil, backoff: Backoff = Backoff(), mountinfo: String? = nil,
        embedding: (any PlatformEmbedding)? = nil, reusing running: (any EmbeddedPlatforms)? = nil
    ) async throws -> Pipeline {
        var config = config
        // Every platform the file names checked against this build's, endpoints filled in.
        try PlatformRegistry.resolve(&config)
        try config.paths.createAll()
        let pipelineName = config.name
        let statusFiles = DropStatusFiles()
        // Every committed transition rings the stage that takes up what it made (WorkRings), not all seven.
        let wakeup = Wakeup()
        // The SQLite file in the root, or the shared PostgreSQL ledger `ledger:` names (docs/several-hosts.md).
        let ledger = try Ledger.open(config, clock: clock) { e in
            if let line = ProgressFormat.line(e) { progress.line(line) }
            TransitionLog.log(e, pipeline: pipelineName, to: logger)
            statusFiles.changed(e.dropId)
            if let topic = WorkRings.topic(of: e) { wakeup.ring(topic) }
        }
        var sandbox: (any EmbeddedPlatforms)? = nil
        if let embedding = try config.embedding(embedding) {
            // A reload keeps the stand-ins it had (their uploads in progress, their posts); a start takes up
            // the ones the last run left (their ports, tokens and sessions, kept in their folder).
            let s = try await embedding.start(&config, reusing: running)
            progress.line("  sandbox             listening on \(s.address)")
            sandbox = s
        }
        let tls = try Self.tlsConfiguration(config.upload)
        // A call's own timeout ends when the answer's head arrives; a body that then stalls (or a server
        // that stops reading what we send) would hold its slot for ever. Five idle minutes end it as a
        // network error — long enough for a slow local captions model, short of a hang.
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(10), read: .seconds(300), write: .seconds(300))))
        // A second client beside it, the same TLS, timeouts and event loops, that never follows a redirect:
        // AsyncHTTPClient's redirect setting is per client, and whether it follows one depends on the body
        // (a small or plain-HTTP part is sent again to wherever `Location` points, a large HTTPS one is not),
        // so the same redirect answered differently by size and scheme. Every request an adapter sends to
        // its platform (`AdapterSettings.api` and `.parts`: the session, the parts, the finish, the polls,
        // the post, a read-back; `TusClient`; Vimeo's and Bluesky's own calls) and every S3 request (SigV4
        // signs the Host: a followed S3 redirect is always refused; the S3 inbox's downloads too) go through
        // it — one client, so an upload's requests share a connection — and a 3xx naming a `Location` is one
        // failure (`UploadRedirect.refuse`). Token endpoints, the captions model and a webhook's POST keep
        // the client that follows, where a redirect can be legitimate. Handed over in `AdapterSettings` (one
        // field, the settings already carry `http` and `tls`) rather than a redirect flag on every call.
        let uploads = UploadRedirect.client(tls: tls)
        // From here a failure (a credentials key that cannot be read, a ledger that refuses) is answered as
        // the error it is: the HTTP client is shut down and the sandbox stopped, not freed while open —
        // which traps.
        var listener: HTTPListener? = nil
        do {
            // The listener first: in sandbox mode the links it signs carry the port it was given.
            var served: ServedMedia? = nil
            if let h = config.http {
                let media =
                    config.mediaHost?.served == true
                    ? (folder: config.paths.root.appendingPathComponent("media"), signer: MediaLinkSigner(key: try sealer(config).derivedKey(for: "media links")))
                    : nil
                if let media { MediaLinkSigner.sweep(folder: media.folder, olderThan: Int(config.mediaHost!.linkTTL.seconds) + 600) }
                let l = try await HTTPListener.acquire(h, pipeline: config.name, media: media, logger: logger)
                listener = l
                if let media {
                    served = ServedMedia(folder: media.folder, base: h.publicURL ?? "http://\(h.isLoopback ? h.host : "127.0.0.1"):\(l.port)", signer: media.signer)
                }
                progress.line("  http                listening on \(h.host):\(l.port)" + (h.publicURL.map { " (\($0))" } ?? ""))
            }
            let (adapters, tokens) = try makeAdaptersAndTokens(
                config: config, ledger: ledger, http: http, uploads: uploads, backoff: backoff, served: served)
            // Work a killed process held is taken up now, not when its lease would have expired.
            // A process that crashed (rather than being killed) left a marker: the drops it held are charged a
            // crash, and one that crashed the daemon twice is quarantined instead of crashing it again.
            // This host's leases are named by `host:` (its machine name by default); ones an earlier version
            // wrote under the machine's full name are released too.
            let work = config.paths.work
            var deadPids: [Int32] = []
            for host in Set([config.host.name, ProcessInfo.processInfo.hostName]) {
            try ledger.releaseDeadLeases(
                host: host,
                isAlive: { pid in
                    let alive = kill(pid, 0) == 0 || errno == EPERM
                    if !alive { deadPids.append(pid) }
                    return alive
                }, crashed: { pid in CrashMarker.crashed(dir: work, pid: pid) })
            }
            for pid in deadPids { CrashMarker.clear(dir: work, pid: pid) }
            CrashMarker.install(dir: work)
            let ctx = PipelineContext(
                config: config, ledger: ledger,
                profiles: try (profiles ?? ProfileCatalog.bundled()).overlaid(with: config.overrides),
                adapters: adapters,
                logger: logger, wakeup: wakeup, progress: progress, tools: ToolRunner(),
                owner: Self.owner(host: config.host.name), backoff: backoff, arriving: ArrivingFiles(writing: PendingFiles()),
                statusFiles: statusFiles)
            let watcher = InboxWatcher(
                inbox: config.paths.inbox, config: config.watch, logger: logger, mountinfo: mountinfo,
                pending: ctx.arriving.writing)
            progress.line("  inbox               \(config.paths.inbox.path) (\(watcher.mode.rawValue), \(watcher.fsType))")
            listener?.attach(ctx, watcher: watcher)
            return Pipeline(context: ctx, embedded: sandbox, embedding: embedding, listener: listener, watcher: watcher, http: http, uploads: uploads, tokens: tokens)
        } catch {
            await listener?.release(pipeline: config.name, context: nil)
            try? await http.shutdown()
            try? await uploads.shutdown()
            await sandbox?.stop()
            ledger.close()
            throw error
        }
    }

    /// The lease owner of everything this process claims: `host:pid:tag`, the host as `host:` names it
    /// (docs/several-hosts.md), so the ledger says which host holds what.
    static func owner(host: String) -> String { "\(host):\(getpid()):\(UUID().uuidString.prefix(8))" }

    /// Every target's adapter, with its account's sealed credentials. Credentials are sealed in the
    /// ledger; the pipeline file's refresh token seeds an account once, and again only when it changes
    /// (the user authorized anew).
    /// The system's trusted CAs, and `upload.ca_file`'s (the sandbox's in sandbox mode).
    package static func tlsConfiguration(_ upload: UploadConfig) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = upload.caFile {
            do { tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(ca.path))] } catch {
                throw OmniError(.configInvalid, "upload.ca_file \(ca.path) could not be read as PEM certificates: \(error)")
            }
        }
        return tls
    }

    /// Where the daemon serves media from, and how its links are made (`media_host: {serve: true}`).
    package struct ServedMedia: Sendable {
        package var folder: URL
        package var base: String
        package var signer: MediaLinkSigner
    }

    static func sealer(_ config: PipelineConfig) throws -> Sealer {
        try Sealer.load(file: config.credentials.keyFile ?? config.paths.root.appendingPathComponent("secret.key"), env: config.credentials.keyEnv)
    }

    package static func makeAdapters(
        config: PipelineConfig, ledger: Ledger, http: HTTPClient, uploads: HTTPClient? = nil, backoff: Backoff = Backoff(),
        served: ServedMedia? = nil
    ) throws -> [String: any PlatformAdapter] {
        try makeAdaptersAndTokens(config: config, ledger: ledger, http: http, uploads: uploads, backoff: backoff, served: served).adapters
    }

    /// The adapters, and the one token provider per account they share (the daemon's account checks
    /// refresh through the same one: two refreshing one rotating token would kill it).
    static func makeAdaptersAndTokens(
        config: PipelineConfig, ledger: Ledger, http: HTTPClient, uploads: HTTPClient? = nil, backoff: Backoff = Backoff(),
        served: ServedMedia? = nil
    ) throws -> (adapters: [String: any PlatformAdapter], tokens: [String: TokenProvider]) {
        var adapters: [String: any PlatformAdapter] = [:]
        var providers: [String: TokenProvider] = [:]
        let sealer = try sealer(config)
        let store = LedgerTokenStore(ledger: ledger, keys: KeyRing(config: config))
        let browser = BrowserSettings.pipeline(config, ledger: ledger)
        // Only accounts that authorize with OAuth keep a refresh token (a bucket's keys, an app password
        // and a folder have none: sandbox mode's made-up one is not stored for them).
        for (key, account) in config.accounts where !account.refreshToken.isEmpty && PlatformRegistry.descriptor(account.platform)?.oauth != nil {
            try ledger.seedToken(account: key, seedHash: Sealer.fingerprint(account.refreshToken), refreshToken: try sealer.seal(account.refreshToken))
        }
        for t in config.targets {
            guard let account = config.accounts[t.accountKey] else { continue }
            let tokens = providers[t.accountKey] ?? TokenProvider(account: account, http: http, store: store)
            providers[t.accountKey] = tokens
            var settings = AdapterSettings(
                account: account, tokens: tokens, http: http, uploads: uploads, chunkSize: config.upload.chunkSize,
                maxAttempts: Self.triesPerAttempt, requestTimeout: config.upload.requestTimeout, backoff: backoff)
            settings.tls = try tlsConfiguration(config.upload)
            settings.browser = browser
            settings.names = LedgerRemoteNames(ledger: ledger)
            if let h = config.mediaHost {
                let ttl = Int(h.linkTTL.seconds)
                if let s3 = h.s3 {
                    var bucket = S3Bucket(s3, http: settings.uploads)
                    bucket.settingsBlock = "`media_host: s3:`"
                    settings.mediaHost = MediaHost(bucket: bucket, linkTTL: ttl)
                } else if let served {
                    settings.mediaHost = MediaHost(store: .served(folder: served.folder, base: served.base, signer: served.signer), linkTTL: ttl)
                }
            }
            adapters[t.name] = PlatformRegistry.makeAdapter(platform: t.platform, settings: settings)
        }
        return (adapters, providers)
    }

    init(
        context: PipelineContext, embedded: (any EmbeddedPlatforms)?, embedding: (any PlatformEmbedding)?, listener: HTTPListener?,
        watcher: InboxWatcher, http: HTTPClient, uploads: HTTPClient, tokens: [String: TokenProvider] = [:]
    ) {
        self.uploads = uploads
        self.listener = listener
        self.tokens = tokens
        self.context = context
        self.embedded = embedded
        self.embedding = embedding
        self.watcher = watcher
        self.http = http
    }

    /// Runs every stage until cancelled — or, with `once`, until everything in the inbox has reached
    /// a final state (deliveries deferred more than a minute stay queued in the ledger for the next run).
    package func run(once: Bool) async throws {
        let ctx = context
        // Only the loops of this host's roles run (`host_roles:`; all three by default).
        let stages: [(HostConfig.Role, any Stage)] = [
            (.ingest, AssembleStage(ctx: ctx)), (.ingest, ValidateStage(ctx: ctx)), (.ingest, ValidateStage(ctx: ctx, lane: .small)),
            (.convert, ConvertStage(ctx: ctx)), (.convert, ConvertStage(ctx: ctx, lane: .quick)), (.ingest, ArchiveStage(ctx: ctx)),
            (.ingest, ArchiveStage(ctx: ctx, lane: .rejectedAlone)),
            (.upload, VerifyStage(ctx: ctx))
        ]
        let upload = UploadStage(ctx: ctx)
        let watcher = watcher
        // Which way each inbox is watched is part of the record: `status` shows it.
        try ctx.ledger.note(
            .watching, stage: .watch, detail: "\(watcher.inbox) mode=\(watcher.mode.rawValue) fs=\(watcher.fsType)",
            data: .watching(inbox: watcher.inbox, mode: watcher.mode.rawValue, fs: watcher.fsType))
        // ffmpeg runs a killed daemon left behind: still burning CPU on output nobody will use.
        let orphans = OrphanReaper.reap(work: ctx.paths.work.path)
        if !orphans.isEmpty {
            try ctx.ledger.note(
                .orphansKilled, stage: .startup,
                detail: orphans.map { "ffmpeg pid \($0.pid) of dead pid \($0.ownerPid) → \(($0.output as NSString).lastPathComponent)" }.joined(separator: "; "))
        }
        // Quotas may have changed since the holds were set (a raised limit, a reload): the queue's own
        // holds are read again under the quotas now in force.
        let released = try ctx.ledger.reevaluateQuotaHolds(reason: "the pipeline started with its current quotas")
        if released > 0 { ctx.progress.line("  queue               \(released) deliveries held by a quota looked at again under the current quotas") }
        let cleaned = try WorkReconciler.reconcile(work: ctx.paths.work, ledger: ctx.ledger)
        if cleaned.removed > 0 {
            ctx.logger.info("cleaned work/ after an earlier run", metadata: ["omnipost.removed": "\(cleaned.removed)", "omnipost.kept": "\(cleaned.kept)"])
        }
        let arriving = ArrivalCheck(ctx: ctx, limit: max(watcher.settle * 10, ctx.config.sidecar.grace))
        // The S3 inbox hands its pairs to the folder inbox; a run `once` polls it before and files after.
        // Its bucket's requests are SigV4-signed too: on the client that follows no redirect.
        let s3Inbox = try ctx.config.s3Inbox.map { try S3Inbox(ctx: ctx, config: $0, http: uploads) }
        if once, let s3Inbox { try await s3Inbox.step() }
        // The process's one timer serves this pipeline from before its loops start: the stage loops' safety
        // net, the watcher's root, the notifier's minute.
        SafetyNet.process.join(ctx, watcher: ctx.config.host.may(.ingest) ? watcher : nil)
        defer { SafetyNet.process.leave(ctx) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await HostHeartbeat(ctx: ctx, http: self.http).run() }
            if ctx.config.host.may(.ingest) { group.addTask {
                await watcher.run(
                    .init(
                        onComplete: { fact in
                            Self.record(fact, ctx: ctx)
                        },
                        onGone: { rel in
                            try? ctx.ledger.markFileGone(path: rel)
                        },
                        onRenamed: { r in
                            let dir = r.dir.isEmpty ? "" : r.dir + "/"
                            if r.new.isEmpty {
                                try? ctx.ledger.note(
                                    .unreadableName, stage: .watch,
                                    detail: "\(dir)\(r.escaped): the name is not UTF-8 and the file could not be renamed; rename it by hand")
                                ctx.progress.line("  watch               \(dir)\(r.escaped): the name is not UTF-8 and could not be renamed; rename it by hand")
                                return
                            }
                            try? ctx.ledger.note(
                                .renamed, stage: .watch,
                                detail: "\(dir)\(r.escaped) → \(dir)\(r.new): the name was not UTF-8, read as Latin-1")
                            ctx.progress.line("  watch               renamed \(dir)\(r.escaped) to \(dir)\(r.new) (the name was not UTF-8; read as Latin-1)")
                        },
                        isWhole: { fact in
                            await arriving.isWhole(fact)
                        }))
            } }
            for (role, stage) in stages where ctx.config.host.may(role) {
                group.addTask { await Self.loop(stage, role: role, ctx: ctx) }
            }
            if ctx.config.host.may(.upload) { group.addTask { await upload.run() } }
            group.addTask { await Self.watchLedger(ctx) }
            if !once { group.addTask { await IdleMemory.run(ctx) } }
            group.addTask { await ctx.statusFiles.run(ctx) }
            let inotify = watcher.mode == .inotify
            if ctx.config.host.may(.ingest) {
            group.addTask { await FolderMarkers(ctx: ctx).run(inotify: inotify, pollEvery: max(ctx.config.watch.pollInterval, .seconds(5))) }
            }
            group.addTask { await ApprovalWatch(ctx: ctx).run() }
            if !once, ctx.config.host.may(.ingest), let s3Inbox { group.addTask { await s3Inbox.run() } }
            if !once {
                let watch = AccountWatch(ctx: ctx, tokens: tokens, http: http)
                group.addTask { await watch.run() }
            }
            if let notify = ctx.config.notify {
                let notifier = Notifier(ctx: ctx, config: notify, http: http)
                group.addTask { await notifier.run() }
            }
            if once {
                group.addTask {
                    while !Task.isCancelled {
                        try await Task.sleep(for: .milliseconds(200))
                        if try await self.isQuiet() { return }
                    }
                }
                // The quiescence monitor is the only task that returns by itself.
                try await group.next()
                group.cancelAll()
                if let s3Inbox { try await s3Inbox.step() }
            } else {
                try await group.waitForAll()
            }
        }
    }

    /// The watcher's one fact: a complete file, recorded in the ledger; stages are rung if it is new.
    static func record(_ fact: FileFact, ctx: PipelineContext) {
        do {
            let recorded = try ctx.ledger.recordFile(
                path: fact.relPath, size: fact.size, mtime: fact.mtime, inode: fact.inode,
                role: DropNaming.role(of: fact.relPath), gaveUpWaiting: ctx.arriving.takeNote(fact.relPath))
            if recorded.isNew {
                // The same path, changed, while a drop that took it is still in flight: that drop had a
                // file still being written. It is withdrawn (if nothing of it went out yet) and its
                // sidecar waits again, to pair with the finished file — or, when the sidecar is what was
                // rewritten, its clip waits again to pair with the sidecar's newest version.
                if let (old, drop) = recorded.supersedes {
                    try ctx.withdraw(
                        drop.id, stage: "watch", reason: "\(fact.relPath) changed after it was taken (\(old.size) → \(fact.size) bytes); it comes in again as a new drop",
                        retireClip: old.role == .clip)
                }
                retryCorrected(fact.relPath, ctx: ctx)
                ctx.wakeup.ring(.files)
            }
        } catch {
            ctx.logger.error("could not record a file", metadata: ["omnipost.file": "\(fact.relPath)", "error": "\(error)"])
        }
    }

    /// A sidecar moved back into the inbox where a failed drop's sidecar was (corrected, most likely):
    /// that drop is retried as `omnipost retry` does — its clip comes back from failed/ to pair with the
    /// corrected sidecar, and published targets are skipped. A drop that cannot be retried is left as is.
    /// Only a drop refused for its sidecar (the reason points into it), within the last week, whose clip
    /// is not in the inbox (a new clip of that name being copied in is there already, and is never met by
    /// the old one moved back over it).
    static func retryCorrected(_ rel: String, ctx: PipelineContext) {
        guard DropNaming.role(of: rel) == .sidecar, let drop = try? ctx.ledger.failedDrop(withSidecar: rel),
            drop.reasonLocation?.hasPrefix(rel) == true, ctx.now.timeIntervalSince1970 - drop.updatedAt < 7 * 86400,
            let clip = drop.clipPath, !FileManager.default.fileExists(atPath: ctx.inboxPath(clip))
        else { return }
        do {
            let lines = try ctx.control(who: "a corrected sidecar").retry(drop.id, corrected: rel)
            ctx.progress.line("  \(drop.id)  \(rel) came back: \(lines.joined(separator: "; "))")
        } catch {
            ctx.logger.info(
                "a sidecar came back for a failed drop that was not retried",
                metadata: ["omnipost.drop": "\(drop.id)", "omnipost.file": "\(rel)", "why": "\(error)"])
        }
    }

    /// Nothing pending in the inbox, no file waiting to be paired, no drop in flight.
    package func isQuiet() async throws -> Bool {
        guard await watcher.pendingCount == 0 else { return false }
        // A batch being reported has files neither listed as candidates nor yet recorded (the watcher
        // awaits each record while its count already reads 0): not quiet until the batch is through.
        guard !context.arriving.writing.busy else { return false }
        guard try !context.ledger.anyWaitingToPair() else { return false }
        // A post just published is read back before `--once` ends, while its next read is due within a minute.
        guard try context.ledger.pendingVerifications(horizon: 60) == 0 else { return false }
        return try context.ledger.activeDropCount(horizon: 60) == 0
    }

    /// Chunk-level tries inside one attempt before the stage's backoff, attempt count and breaker take over.
    static let triesPerAttempt = 3

    /// Longest an idle stage sleeps without being rung. On a shared ledger other hosts' writes and lapsed
    /// leases are seen only by looking (and `watchLedger` asks each second anyway). On this host's own
    /// SQLite ledger every change rings (our transitions through `WorkRings`, other processes' through
    /// `LedgerDoorbell`) and a stage names the earliest time its work is due — a drop's lease running out
    /// included (`Ledger.nextLeaseExpiry`: the validate lanes did not count it, and `--once` once waited for
    /// ever, `ExactlyOnceTests`' quarantine). Work can still come due that no stage names, so a safety net
    /// stays on both: a missed ring or deadline costs at most this long, never a stuck drop. On this host's
    /// SQLite ledger it is the process's one `SafetyNet`, which rings a pipeline's loops (`look`) only when
    /// its ledger holds open work; on the shared ledger (or a loop run without the net, as tests do) each
    /// loop's own timed wait on `DeadlineTimer`.
    static let idleSleep: Duration = .seconds(30)

    /// How long a loop with nothing due sleeps unless rung: for ever, when the process's safety net looks for it.
    static func idlePause(_ ctx: PipelineContext) -> Duration? { SafetyNet.process.serves(ctx) ? nil : idleSleep }

    static func loop(_ stage: any Stage, role: HostConfig.Role = .ingest, ctx: PipelineContext) async {
        // Its own work, and the safety net's round finding work open.
        let topic = stage.rungBy.union(.look)
        while !Task.isCancelled {
            var pause = idlePause(ctx)
            let ticket = ctx.wakeup.ticket(topic)
            // A host that lost the ledger claims nothing until its heartbeat reaches it again (and rings).
            guard ctx.mayClaim(role) else {
                // Waited for the ticket's own topic: a ticket of one topic against any ring never matched,
                // and the loop spun while the ledger was lost.
                await ctx.wakeup.wait(after: ticket, for: topic, timeout: ctx.config.host.heartbeat)
                continue
            }
            ctx.liveness.enter(stage.loopName)
            do {
                if try await stage.step() { continue }
                if let due = try stage.nextDeadline() {
                    let untilDue = Duration.milliseconds(max(10, Int64(due.timeIntervalSince(ctx.now) * 1000) + 10))
                    pause = pause.map { min($0, untilDue) } ?? untilDue
                }
            } catch is CancellationError where Task.isCancelled {
                ctx.liveness.leave(stage.loopName)
                return
            } catch {
                // One bad unit of work never stops the daemon; the lease lets it be retried.
                ctx.logger.error("stage step failed", metadata: ["omnipost.stage": "\(stage.name)", "error": "\(error)"])
                pause = .seconds(1)
            }
            // Waiting for work is not being stuck.
            ctx.liveness.leave(stage.loopName)
            await ctx.wakeup.wait(after: ticket, for: topic, timeout: pause)
        }
    }

    /// How often the ledger is asked whether another process changed it.
    static let ledgerLook: Duration = .seconds(1)

    /// Rings the stages when another process wrote the ledger (`omnipost retry`, `cancel`, `accounts
    /// set-token`): what it asked for is taken up at once, not at the next idle timeout. Asked when the
    /// ledger's files change (`LedgerDoorbell`), else one `PRAGMA` a second; the stages wake only when
    /// something did change.
    static func watchLedger(_ ctx: PipelineContext) async {
        var last = (try? ctx.ledger.externalChangeCount()) ?? 0
        // A shared PostgreSQL ledger is written on other hosts, where no local file changes: asked each second.
        if ctx.config.sharedLedger == nil, let doorbell = LedgerDoorbell(ledger: ctx.config.paths.ledger) {
            let seen = Mutex(last)
            await doorbell.run {
                guard let now = try? ctx.ledger.externalChangeCount() else { return }
                if seen.withLock({ was in defer { was = now }; return was != now }) { ctx.wakeup.ring() }
            }
            return
        }
        while !Task.isCancelled {
            do { try await Task.sleep(for: ledgerLook) } catch { return }
            guard let now = try? ctx.ledger.externalChangeCount() else { continue }
            if now != last {
                last = now
                ctx.wakeup.ring()
            }
        }
    }

    /// Stops the listener, the HTTP client and (unless a reload keeps it) the embedded sandbox.
    package func close(keepingSandbox: Bool = false) async {
        // A burst's shared folders (inbox folders left, outbox/failed/) not yet synced: a daemon stopped
        // mid-burst, then powered off, keeps what it filed.
        context.sharedSyncs.flush(context.syncer)
        await listener?.release(pipeline: context.config.name, context: context)
        try? await http.shutdown()
        try? await uploads.shutdown()
        if !keepingSandbox { await embedded?.stop() }
        context.ledger.close()
    }
}
