import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// Uploads ready deliveries through their platform adapter, up to `upload.concurrency` at once.
/// The session is persisted before the first byte and the confirmed offset after every chunk, so a
/// crashed upload resumes (by lease expiry) from where the platform says it stands.
struct UploadStage: Sendable {
    let name = "upload"
    let ctx: PipelineContext
    /// How long a claimed upload may go without a checkpoint before another worker may take it over.
    let lease: Double = 300

    /// Runs until cancelled, keeping up to `concurrency` uploads in flight. Each finished upload rings
    /// the doorbell, so a free slot is refilled at once.
    func run() async {
        let running = Counter()
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let ticket = ctx.wakeup.ticket()
                if running.value < ctx.config.upload.concurrency {
                    do {
                        if let d = try ctx.ledger.claimDelivery(owner: ctx.owner, lease: lease) {
                            running.add(1)
                            group.addTask {
                                await upload(d)
                                running.add(-1)
                                ctx.wakeup.ring()
                            }
                            continue
                        }
                    } catch {
                        ctx.logger.error("claiming an upload failed", metadata: ["error": "\(error)"])
                    }
                }
                // Sleep until rung (new work, a finished upload) or until the next deferred upload is due.
                var pause = Pipeline.idleSleep
                if let due = try? ctx.ledger.nextDeliveryDue() {
                    pause = min(pause, .milliseconds(max(10, Int64((due - ctx.now.timeIntervalSince1970) * 1000) + 10)))
                }
                await ctx.wakeup.wait(after: ticket, timeout: pause)
            }
        }
    }

    func upload(_ d: DeliveryRecord) async {
        guard let id = d.id else { return }
        let owner = ctx.owner, ledger = ctx.ledger, lease = lease, sink = ctx.progress
        guard let adapter = ctx.adapters[d.target] else {
            fail(d, OmniError(.configInvalid, "no adapter for target \(d.target)"))
            return
        }
        do {
            guard let path = d.renditionPath, let size = d.renditionBytes else { throw OmniError(.internalError, "delivery \(id) has no rendition") }
            let meta = try JSONCoding.decoder().decode(PublishMetadata.self, from: Data(d.metadataJson.utf8))
            let job = UploadJob(deliveryId: id, filePath: path, size: size, metadata: meta, session: d.remoteSession,
                                confirmedOffset: d.confirmedOffset, coverPath: d.coverPath)
            let base = d.bytesSent
            let lastQuarter = Counter()
            lastQuarter.value = Int(Double(d.confirmedOffset) / Double(max(size, 1)) * 4)
            let target = d.target, dropId = d.dropId
            let result = try await adapter.publish(job, checkpoint: { cp in
                try ledger.checkpoint(deliveryId: id, owner: owner, lease: lease, session: cp.session,
                                      confirmedOffset: cp.confirmedOffset, bytesSent: base + cp.bytesSent)
            }, progress: { done, total in
                let q = Int(Double(done) / Double(max(total, 1)) * 4)
                if q > lastQuarter.value, q < 4 {
                    lastQuarter.value = q
                    sink.line("  \(dropId)  upload     \(target) \(q * 25)% (\(done)/\(total) bytes)")
                }
            })
            if result.coverSet == false {
                try? ctx.ledger.note(dropId: d.dropId, deliveryId: id, target: d.target, stage: name, state: "cover_failed", detail: result.coverError ?? "refused")
            }
            try ctx.ledger.transitionDelivery(id, from: .uploading, to: .published, stage: name,
                                              detail: result.url + (result.coverSet == true ? " (cover set)" : ""), expectOwner: owner) { x in
                x.remoteId = result.remoteId
                x.remoteUrl = result.url
                x.bytesSent = base + result.bytesSent
                x.uploadFinishedAt = ledger.clock.now().timeIntervalSince1970
                x.errorCode = nil
                x.errorMessage = nil
            }
        } catch let e as DeliveryError {
            switch e.kind {
            case .retryAt(let when):
                requeue(d, at: when.timeIntervalSince1970, e)
            case .retryNow where d.attempts < ctx.config.upload.maxAttempts:
                let delay = Backoff().delay(attempt: d.attempts).seconds
                requeue(d, at: ctx.now.timeIntervalSince1970 + delay, e)
            case .retryNow:
                fail(d, OmniError(.retriesExhausted, "gave up after \(d.attempts) attempts: \(e.message)"))
            case .reauthenticate, .permanent:
                fail(d, OmniError(e.code, e.message))
            }
        } catch is CancellationError {
            // Shutting down: the lease lapses and the next start resumes from the checkpoint.
        } catch {
            fail(d, OmniError.wrap(error))
        }
        ctx.wakeup.ring()
    }

    private func requeue(_ d: DeliveryRecord, at: Double, _ e: DeliveryError) {
        do {
            try ctx.ledger.transitionDelivery(d.id!, from: .uploading, to: .ready, stage: name,
                                              detail: "\(e.code): \(e.message); next try \(Date(timeIntervalSince1970: at))", expectOwner: ctx.owner) { x in
                x.notBefore = at
                x.errorCode = e.code.rawValue
                x.errorMessage = e.message
            }
        } catch {
            ctx.logger.error("could not requeue delivery", metadata: ["omnipost.delivery": "\(d.id ?? 0)", "error": "\(error)"])
        }
    }

    private func fail(_ d: DeliveryRecord, _ e: OmniError) {
        do {
            try ctx.ledger.transitionDelivery(d.id!, from: .uploading, to: .failed, stage: name, detail: "\(e.code): \(e.message)", expectOwner: ctx.owner) { x in
                x.errorCode = e.code.rawValue
                x.errorMessage = e.message
            }
        } catch {
            ctx.logger.error("could not record a failed delivery", metadata: ["omnipost.delivery": "\(d.id ?? 0)", "error": "\(error)"])
        }
    }
}
