import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// Uploads ready deliveries through their platform adapter, up to `upload.concurrency` at once (and the
/// per-platform and per-account caps). The queue gates — quotas, breakers, schedule — live in the
/// ledger's claim; this stage runs the attempt, records it, and decides what happens after a failure.
struct UploadStage: Sendable {
    let name = "upload"
    let ctx: PipelineContext
    /// How long a claimed upload may go without a checkpoint before another worker may take it over: on
    /// the shared ledger the host's lease (three heartbeats, renewed by the heartbeat while the host lives),
    /// so a dead host's uploads are taken over by the others that long after its last beat — a longer
    /// claim here outlived the heartbeat (it only lengthens) and left them for five minutes; on one
    /// machine's ledger, five minutes.
    var lease: Double { ctx.ledger.isShared ? ctx.config.host.leaseSeconds : 300 }

    /// Runs until cancelled, keeping up to `concurrency` uploads in flight. Each finished upload rings
    /// the doorbell, so a free slot is refilled at once.
    func run() async {
        let running = Counter()
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                // A slot or a delivery ready; or the safety net's round found work open.
                let ticket = ctx.wakeup.ticket([.ready, .look])
                // The claim loop comes round at least every idle sleep; one blocked on the ledger does not.
                ctx.liveness.enter(name, deadline: StageLiveness.loopDeadline)
                // A host that lost the ledger starts no upload until its heartbeat reaches it again.
                if running.value < ctx.config.upload.concurrency, ctx.mayClaim(.upload) {
                    do {
                        if let claim = try ctx.ledger.claimDelivery(owner: ctx.owner, lease: lease, gate: ctx.queueGate) {
                            running.add(1)
                            // In hand while its task runs: the heartbeat renews its lease until then, not after
                            // (on SQLite the heartbeat sleeps while nothing is held: this rings it).
                            let id = claim.delivery.id ?? 0
                            ctx.uploadsInHand.hold(id)
                            ctx.wakeup.ring(.held)
                            group.addTask {
                                await upload(claim)
                                ctx.uploadsInHand.letGo(id)
                                running.add(-1)
                                // A slot came free (the delivery's own transition rang archive and verify).
                                ctx.wakeup.ring(.ready)
                            }
                            continue
                        }
                    } catch {
                        ctx.logger.error("claiming an upload failed", metadata: ["error": "\(error)"])
                    }
                }
                // Sleep until rung (new work, a finished upload) or until the next deferred upload is due.
                var pause = Pipeline.idlePause(ctx)
                if let due = try? ctx.ledger.nextDeliveryDue() {
                    let untilDue = Duration.milliseconds(max(10, Int64((due - ctx.now.timeIntervalSince1970) * 1000) + 10))
                    pause = pause.map { min($0, untilDue) } ?? untilDue
                }
                ctx.liveness.leave(name)
                await ctx.wakeup.wait(after: ticket, for: [.ready, .look], timeout: pause)
            }
            ctx.liveness.leave(name)
        }
    }

    func upload(_ claim: ClaimedDelivery) async {
        let d = claim.delivery
        guard let id = d.id else { return }
        let owner = ctx.owner, ledger = ctx.ledger, lease = lease, sink = ctx.progress
        guard let adapter = ctx.adapters[d.target] else {
            fail(claim, OmniError(.configInvalid, "no adapter for target \(d.target)"), status: nil, breaker: .neutral)
            return
        }
        do {
            // The drop read once, for the job and the pass-through's pin both.
            let drop = try ctx.ledger.drop(d.dropId)
            var job = try DeliveryJob.make(d, ledger: ledger, inbox: ctx.paths.inbox, work: ctx.paths.work, drop: drop)
            job.beforeRequest = meter(platform: d.platform, account: d.accountKey, deliveryId: id)
            let account = d.accountKey, logger = ctx.logger
            job.reportLimit = { rule, limit in
                do { try ledger.observeQuotaLimit(account: account, rule: rule, limit: limit) } catch {
                    logger.warning("could not record a reported limit", metadata: ["omnipost.account": "\(account)", "error": "\(error)"])
                }
            }
            let path = job.filePath, size = job.size, meta = job.metadata
            // The original itself goes out (pass-through): it must still be the file that was hashed.
            let pinned = pinnedOriginal(d, drop: drop)
            if let pinned, let why = pinned.change(at: path), d.remoteSession == nil {
                throw DeliveryError(.permanent, .sourceChanged, "\((path as NSString).lastPathComponent) changed after it was taken: \(why); nothing was sent")
            }
            let base = d.bytesSent
            let lastQuarter = Counter()
            lastQuarter.value = Int(Double(d.confirmedOffset) / Double(max(size, 1)) * 4)
            let target = d.target, dropId = d.dropId
            let result = try await adapter.deliver(
                job,
                checkpoint: { cp in
                    try ledger.checkpoint(
                        deliveryId: id, owner: owner, lease: lease, session: cp.session,
                        confirmedOffset: cp.confirmedOffset, bytesSent: base + cp.bytesSent, durable: cp.durable)
                },
                progress: { done, total in
                    let q = Int(Double(done) / Double(max(total, 1)) * 4)
                    if q > lastQuarter.value, q < 4 {
                        lastQuarter.value = q
                        sink.line("  \(dropId)  upload     \(target) \(q * 25)% (\(done)/\(total) bytes)")
                    }
                })
            if let pinned, let why = pinned.change(at: path) {
                // The post was made from bytes that matched the recorded sha256 (checked before the last
                // chunk); the file was changed only afterwards. Recorded, so the archive is not mistaken for it.
                try? ctx.ledger.note(.sourceChangedAfterUpload, stage: .upload, dropId: d.dropId, deliveryId: id, target: d.target, detail: why)
            }
            // What the post owes after it (subtitle tracks…), each once: a transient failure throws, and the
            // next attempt reconciles the post and settles each intent by reading the platform back.
            let followed = try await FollowUpRun.run(
                meta.followUps ?? [], on: result, adapter: adapter, log: LedgerFollowUpLog(ledger: ledger, deliveryId: id))
            for f in followed.failed {
                try? ctx.ledger.note(.followUpFailed, stage: .upload, dropId: d.dropId, deliveryId: id, target: d.target, detail: "\(f.key): \(f.why)")
            }
            if result.coverSet == false {
                try? ctx.ledger.note(.coverFailed, stage: .upload, dropId: d.dropId, deliveryId: id, target: d.target, detail: result.coverError ?? "refused")
            }
            var detail = result.url + (result.coverSet == true ? " (cover set)" : "")
            if result.reconciled { detail += " (found published when reconciling; nothing re-sent)" }
            if !followed.made.isEmpty || !followed.found.isEmpty { detail += " (added: \((followed.made + followed.found).joined(separator: ", ")))" }
            if !followed.failed.isEmpty { detail += " (not added: \(followed.failed.map { "\($0.key) — \($0.why)" }.joined(separator: "; ")))" }
            if let old = result.replacedSession { detail += " (uploaded anew: the earlier upload session could not become a post — \(old))" }
            if let at = meta.publishAt { detail += " (goes public at \(isoStamp(at)), scheduled on the platform)" }
            let finishedAt = ledger.clock.now().timeIntervalSince1970
            let read = await firstRead(d, id: id, result: result, metadata: meta, adapter: adapter, publishedAt: finishedAt)
            try ctx.ledger.transitionDelivery(
                id, from: .uploading, to: .published, stage: name, detail: detail, expectOwner: owner,
                attempt: attempt(claim, "published", breaker: .success), firstRead: read?.read
            ) { x in
                x.remoteId = result.remoteId
                x.remoteUrl = result.url
                x.bytesSent = base + result.bytesSent
                x.uploadFinishedAt = finishedAt
                x.errorCode = nil
                x.errorMessage = nil
                x.notBefore = nil
                x.gate = nil
            }
            if let line = read?.line { ctx.progress.line(line) }
        } catch {
            if Task.isCancelled {
                // Shutting down or reloading: whatever the cut request threw (a cancelled HTTP call an adapter
                // calls transient, a CancellationError), it says nothing about the platform — no retry counted,
                // no breaker moved. The lease is released and the next claim reconciles from the checkpoint.
                try? ctx.ledger.closeAttempt(claim.attemptId, outcome: "interrupted", detail: "shutting down")
            } else if let e = error as? OmniError, e.code == .ledgerUnreachable {
                // The ledger, not the platform, failed (a database restarting): nothing is known about the
                // upload that a transition could say, and none could be written. Left to the lease: the task
                // ends, the heartbeat stops renewing it, and the next claim reconciles the session the ledger
                // kept (a post found is recorded, not made again) — as after a crash. Failing it here, once the
                // database answered again, marked a delivery failed that may well be published.
                ctx.logger.warning(
                    "the upload's outcome could not be recorded: left to its lease, reconciled by the next claim",
                    metadata: ["omnipost.delivery": "\(id)", "error": "\(e)"])
            } else if let e = error as? DeliveryError {
                handle(claim, e)
            } else if NetworkFailure.isNetwork(error) {
                // A connection an adapter left unwrapped is still the network's failure: retried, not failed.
                handle(claim, NetworkFailure.classify(error, d.target))
            } else {
                fail(claim, OmniError.wrap(error), status: nil, breaker: .neutral)
            }
        }
        ctx.wakeup.ring()
    }

    /// The request-rate rules of a platform (`on: init`…), spent when the adapter sends that request.
    /// A full window waits for its own end when that is within a minute (the upload keeps its slot);
    /// longer, the delivery is deferred to that time like a 429 with Retry-After, costing no attempt.
    func meter(platform: String, account: String, deliveryId: Int64) -> @Sendable (String) async throws -> Void {
        let rules = ctx.queueGate.quotas[platform] ?? []
        let ledger = ctx.ledger, clock = ledger.clock
        return { request in
            for rule in rules where rule.on == request {
                while let fits = try ledger.spendRequest(account: account, rule: rule, deliveryId: deliveryId) {
                    let wait = fits.timeIntervalSince(clock.now())
                    guard wait <= 60 else {
                        throw DeliveryError(
                            .retryAt(fits), .rateLimited, "\(account) \(rule.name): \(rule.limit) \(request) requests per window used; next fits at \(isoStamp(fits))")
                    }
                    try await Task.sleep(for: .milliseconds(Int64(max(wait, 0.01) * 1000) + 5))
                }
            }
        }
    }

    /// After a classified failure: wait for a known time, back off and retry, or fail — within the
    /// pipeline's `max_attempts` and `max_age`. Transient failures feed the account's breaker.
    func handle(_ claim: ClaimedDelivery, _ e: DeliveryError) {
        let d = claim.delivery
        let now = ctx.now.timeIntervalSince1970
        let age = now - (d.uploadStartedAt ?? now)
        let maxAge = ctx.config.upload.maxAge.seconds
        switch e.kind {
        case .retryAt(let when) where when.timeIntervalSince1970 - (d.uploadStartedAt ?? now) <= maxAge:
            // A quota reset or Retry-After is the platform's own answer: waiting costs no attempt.
            requeue(
                claim, at: when.timeIntervalSince1970, gate: e.code == .quotaExhausted ? "quota" : "retry", e,
                outcome: "deferred", breaker: .neutral, refundAttempt: true)
            if e.holdsAccount {
                // The account's own window: its other deliveries would only meet the same 429.
                _ = try? ctx.ledger.holdAccount(
                    d.accountKey, until: when.timeIntervalSince1970, code: e.code.rawValue,
                    message: "\(e.message); the account's window reopens \(isoStamp(when))")
            }
        case .retryNow where d.attempts < ctx.config.upload.maxAttempts && age < maxAge:
            let delay = ctx.backoff.delay(attempt: d.attempts).seconds
            requeue(claim, at: now + delay, gate: "retry", e, outcome: "retry", breaker: .failure, refundAttempt: false)
        case .retryNow, .retryAt:
            let why =
                d.attempts >= ctx.config.upload.maxAttempts
                ? "gave up after \(d.attempts) attempts (upload.max_attempts)"
                : "gave up: still failing \(DurationText.format(age)) after the first attempt (upload.max_age \(DurationText.format(maxAge)))"
            fail(
                claim, OmniError(.retriesExhausted, "\(why); last: \(e.code): \(e.message)"), status: e.httpStatus,
                breaker: e.kind == .retryNow ? .failure : .neutral)
        case .reauthenticate where holdsSession(d) && age < maxAge:
            // Its bytes may already be a post: it is never failed (a retry would start a second one).
            // It waits for the account, reconciles its session first, and sends nothing twice.
            let msg =
                e.message
                + "; the upload holds a \(d.platform) session that may already be a post, so it waits and is reconciled (never re-sent) once the account works: run `omnipost accounts set-token <pipeline.yaml> \(d.accountKey) -`, then `omnipost retry \(d.dropId)`"
            requeue(
                claim, at: now + Self.authRecheck, gate: "auth", DeliveryError(e.kind, e.code, msg, httpStatus: e.httpStatus),
                outcome: "deferred", breaker: .neutral, refundAttempt: true)
        case .reauthenticate:
            fail(claim, OmniError(e.code, e.message + Self.reauthHint(d.accountKey)), status: e.httpStatus, breaker: .neutral)
        case .permanent where e.code == .sourceChanged:
            // Still being written: not a failure. Nothing was posted (the last chunk was never sent);
            // the drop is withdrawn and the finished file comes in again as a new drop.
            withdraw(claim, e)
        case .permanent:
            fail(claim, OmniError(e.code, e.message), status: e.httpStatus, breaker: .neutral)
        }
    }

    /// How often a delivery held for its account's credentials tries again by itself.
    static let authRecheck: Double = 600

    /// Whether the platform may hold this delivery's bytes (a session was opened): read afresh, since the
    /// attempt that just failed may have opened it.
    func holdsSession(_ d: DeliveryRecord) -> Bool {
        guard let id = d.id, let now = try? ctx.ledger.delivery(id) else { return d.remoteSession != nil }
        return now.remoteSession != nil
    }

    /// The identity recorded for the drop's clip, when the delivery sends that clip (a pass-through upload).
    func pinnedOriginal(_ d: DeliveryRecord, drop: DropRecord?) -> FileIdentity? {
        guard d.plan == .pass, let text = drop?.clipIdentity else { return nil }
        return FileIdentity(text)
    }

    func withdraw(_ claim: ClaimedDelivery, _ e: DeliveryError) {
        let d = claim.delivery
        do {
            // One transaction: the archive stage never sees this delivery final with its drop not yet withdrawn.
            let (_, withdrawn) = try ctx.ledger.cancelAndWithdraw(
                deliveryId: d.id!, owner: ctx.owner, stage: name, code: e.code, message: e.message,
                attempt: attempt(claim, "cancelled", code: e.code, detail: e.message, breaker: .neutral), retireClip: true)
            if withdrawn { ctx.withdrawn(d.dropId, reason: e.message) }
        } catch {
            ctx.logger.error("could not withdraw a drop", metadata: ["omnipost.drop": "\(d.dropId)", "error": "\(error)"])
        }
    }

    static func reauthHint(_ account: String) -> String {
        "; authorize it again, then run `omnipost accounts set-token <pipeline.yaml> \(account) -` and `omnipost retry` the failed drops"
    }

    private func attempt(
        _ claim: ClaimedDelivery, _ outcome: String, code: ReasonCode? = nil, status: Int? = nil, detail: String? = nil,
        breaker: AttemptResult.Breaker
    ) -> AttemptResult {
        AttemptResult(
            attemptId: claim.attemptId, outcome: outcome, errorCode: code?.rawValue, httpStatus: status, detail: detail,
            breaker: breaker, policy: ctx.config.upload.breaker)
    }

    private func requeue(
        _ claim: ClaimedDelivery, at: Double, gate: String, _ e: DeliveryError, outcome: String,
        breaker: AttemptResult.Breaker, refundAttempt: Bool
    ) {
        let d = claim.delivery
        do {
            try ctx.ledger.transitionDelivery(
                d.id!, from: .uploading, to: .ready, stage: name,
                detail: "\(e.code): \(e.message); next try \(isoStamp(Date(timeIntervalSince1970: at)))",
                expectOwner: ctx.owner,
                attempt: attempt(claim, outcome, code: e.code, status: e.httpStatus, detail: e.message, breaker: breaker)
            ) { x in
                x.notBefore = at
                x.gate = gate
                x.errorCode = e.code.rawValue
                x.errorMessage = e.message
                if refundAttempt { x.attempts = max(0, x.attempts - 1) }
            }
        } catch {
            ctx.logger.error("could not requeue delivery", metadata: ["omnipost.delivery": "\(d.id ?? 0)", "error": "\(error)"])
        }
    }

    private func fail(_ claim: ClaimedDelivery, _ e: OmniError, status: Int?, breaker: AttemptResult.Breaker) {
        let d = claim.delivery
        do {
            try ctx.ledger.transitionDelivery(
                d.id!, from: .uploading, to: .failed, stage: name, detail: "\(e.code): \(e.message)", expectOwner: ctx.owner,
                attempt: attempt(claim, "failed", code: e.code, status: status, detail: e.message, breaker: breaker)
            ) { x in
                x.errorCode = e.code.rawValue
                x.errorMessage = e.message
                x.gate = nil
            }
        } catch {
            ctx.logger.error("could not record a failed delivery", metadata: ["omnipost.delivery": "\(d.id ?? 0)", "error": "\(error)"])
        }
    }
}
