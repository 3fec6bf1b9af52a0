import Foundation
import OmniPostCore

/// An adapter on the upload engine supplies small verbs; the engine runs them in the one order that
/// keeps a post exactly-once (ARCHITECTURE.md, "The upload engine"):
///
///     decode the session ─ none, or lapsed ─▶ prepare ▶ start ▶ checkpoint (before any byte)
///     chunk loop (UploadProtocol: nextPart, send, standing) ─ checkpoint after each confirmed part
///     finish ▶ checkpoint `finalized` ▶ status until ready (ProcessingPoll)
///     checkpoint `posting` ▶ post
///
/// A session the platform refuses while uploading (`SessionGone`) is replaced by a fresh one, once per
/// attempt. `reconcile` runs before any resend (`PlatformAdapter.deliver`). Every verb passes through the
/// middleware (a debug log line, network classification, a time limit, metering). The only retry inside
/// an attempt is `PartRetry`'s; whether an attempt is retried is the upload stage's decision alone.
package protocol ResumableAdapter: PlatformAdapter {
    associatedtype Session: PersistedSession
    associatedtype Transport: UploadProtocol where Transport.Session == Session
    /// What is read before the session opens and handed to `start` (who is posting).
    associatedtype Preparation: Sendable = Void

    /// The platform's name in sentences: "X had not finished processing …".
    var displayName: String { get }
    var settings: AdapterSettings { get }
    var transport: Transport { get }
    var processing: ProcessingPoll { get }
    /// How many new sessions one attempt may open for ones the platform refused (`SessionGone`) before
    /// it hands over to the upload stage. Default 1.
    var freshSessions: Int { get }

    /// Reads what the session needs and is not metered (who is posting, what the creator may post).
    func prepare(_ job: UploadJob) async throws -> Preparation
    /// The rendition is already there (a content-addressed destination holds these very bytes): recorded
    /// as found, nothing is started. Nil — the default — to start an upload.
    func alreadyPublished(_ job: UploadJob, _ prepared: Preparation) async throws -> PublishOutcome?
    /// A session to persist before `start` is sent (Vimeo's `created` marker), so that a start whose answer
    /// was lost is looked for by `resume`, never made twice. Nil — the default — for none.
    func intent(_ job: UploadJob) -> Session?
    /// Opens the upload session; the engine persists it before the first byte.
    func start(_ job: UploadJob, _ prepared: Preparation) async throws -> Session
    /// A persisted session brought up to date before its bytes go on (S3's `ListParts`: which parts it
    /// holds): the bytes the platform holds from the start, or nil when it no longer knows the session
    /// (a fresh one is started). The default is the offset `reconcile` reported.
    func resume(_ session: inout Session, _ job: UploadJob) async throws -> Int64?
    /// Whether an unfinished session can no longer become a post (past its expiry): started afresh.
    func lapsed(_ session: Session) -> Bool
    /// After the last byte (X's FINALIZE, LinkedIn's finalizeUpload); says whether to wait for processing.
    func finish(_ session: inout Session, _ job: UploadJob) async throws -> Processing
    /// The platform's processing of the upload.
    func status(_ session: Session, _ job: UploadJob) async throws -> Processing
    /// The same, for a platform whose status answer belongs in the session (Bluesky's blob, known once
    /// its video job is done): the engine checkpoints a changed session at once. The default asks
    /// `status(_:_:)` and changes nothing.
    func status(updating session: inout Session, _ job: UploadJob) async throws -> Processing
    /// Makes the post (or, where the upload made it, describes it: `uploaded` says what the bytes came to).
    /// Its `bytesSent` counts only what the post request itself carried; the engine adds the parts'.
    func post(_ session: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome
    /// The same, for a platform whose post learns on its way what must be durable before it goes on
    /// (Reddit: its submit was taken, refused, or its processing failed): `save` checkpoints the session.
    /// The default calls `post(_:_:uploaded:)`.
    func post(_ session: Session, _ job: UploadJob, uploaded: Uploaded, save: SessionSave<Session>) async throws -> PublishOutcome
    /// Where a persisted session stands on the platform; throws a permanent error when it failed it.
    func reconcile(_ session: Session, _ job: UploadJob) async throws -> RemoteState

    /// Whether the engine counts `start` in the platform's `init` request window (`MeterStart`). Default
    /// true; false where another request is the metered one (Reddit's submit, which it meters itself).
    var metersStart: Bool { get }
    /// How long one call of `verb` may take before it is stopped as a network failure (`VerbTimeout`);
    /// nil for no limit. Default: `settings.verbTimeout` when set, else three request timeouts (a
    /// request, a token refresh, a retry of it); `post`, which may wait within the platform's processing
    /// window (Instagram's readiness, a command's run), that window more.
    func verbTimeout(_ verb: UploadVerb) -> Duration?
}

/// What the upload came to before the post.
package enum Uploaded: Sendable {
    /// Every byte sent, processed where the platform processes (X, LinkedIn): the post is to be made.
    case allSent
    /// The last part made the remote object, with this id (YouTube's video).
    case complete(String)
    /// The platform published it by itself (TikTok).
    case published(PublishOutcome)
}

extension ResumableAdapter where Preparation == Void {
    package func prepare(_ job: UploadJob) async throws {}
}

extension ResumableAdapter {
    package func alreadyPublished(_ job: UploadJob, _ prepared: Preparation) async throws -> PublishOutcome? { nil }
    package func resume(_ session: inout Session, _ job: UploadJob) async throws -> Int64? { job.confirmedOffset }
    package func intent(_ job: UploadJob) -> Session? { nil }
    package func lapsed(_ session: Session) -> Bool { false }
    package var freshSessions: Int { 1 }
    package func finish(_ session: inout Session, _ job: UploadJob) async throws -> Processing { .ready }
    package func status(_ session: Session, _ job: UploadJob) async throws -> Processing { .ready }
    package func status(updating session: inout Session, _ job: UploadJob) async throws -> Processing { try await status(session, job) }
    package func post(_ session: Session, _ job: UploadJob, uploaded: Uploaded, save: SessionSave<Session>) async throws -> PublishOutcome {
        try await post(session, job, uploaded: uploaded)
    }
    package var metersStart: Bool { true }
    package func verbTimeout(_ verb: UploadVerb) -> Duration? {
        if let set = settings.verbTimeout { return set }
        return verb == .post ? processing.timeout + settings.requestTimeout * 3 : settings.requestTimeout * 3
    }

    package func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let s = job.session.flatMap(Session.init(persisted:)) else { return .notStarted }
        return try await MiddlewareChain.standard(for: self).run(.reconcile, job) { try await reconcile(s, job) }
    }

    package func publish(
        _ job: UploadJob,
        checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
        progress: @escaping @Sendable (Int64, Int64) -> Void
    ) async throws -> PublishOutcome {
        var run = UploadRun(job: job, checkpoint: checkpoint, progress: progress, middleware: .standard(for: self))
        // The stage reconciled a persisted session before calling: continue from what the platform holds.
        var session = job.session.flatMap(Session.init(persisted:))
        var offset: Int64 = session == nil ? 0 : job.confirmedOffset
        if let s = session, lapsed(s) { session = nil }
        if let persisted = session, (persisted.phase ?? .uploading) == .uploading {
            let (held, resumed) = try await run.verb(.reconcile) {
                var s = persisted
                let held = try await resume(&s, job)
                return (held, s)
            }
            if let held {
                session = resumed
                offset = held
                if held != job.confirmedOffset || resumed.persisted != job.session { try await run.save(resumed, confirmed: held) }
            } else {
                session = nil
            }
        }
        var s: Session
        if let resumed = session {
            s = resumed
        } else {
            switch try await begin(&run) {
            case .found(let out): return out
            case .session(let fresh): s = fresh
            }
            offset = 0
        }
        var uploaded = Uploaded.allSent
        // At most `freshSessions` new sessions per attempt: one refused again is the platform's answer.
        var fresh = 0
        while true {
            do {
                var processed: Processing = .pending(after: nil)
                if (s.phase ?? .uploading) == .uploading {
                    if lapsed(s) { throw SessionGone("the upload session passed its expiry") }
                    if case .complete(let id) = try await ChunkLoop.run(transport, &s, from: offset, retry: PartRetry(settings), &run) {
                        uploaded = .complete(id)
                    }
                    let finishing = s
                    (processed, s) = try await run.verb(.finish) {
                        var s = finishing
                        return (try await finish(&s, job), s)
                    }
                    if s.phase != nil {
                        s.phase = .finalized
                        try await run.save(s, confirmed: job.size)
                    }
                }
                if let out = try await processing.wait(
                    processed, platform: displayName,
                    status: {
                        let asked = s
                        let (answer, told) = try await run.verb(.status) {
                            var s = asked
                            return (try await status(updating: &s, job), s)
                        }
                        // What the status said that the session keeps (Bluesky's blob) is durable before it is used.
                        if told.persisted != asked.persisted { try await run.save(told, confirmed: job.size) }
                        s = told
                        return answer
                    })
                {
                    uploaded = .published(out)
                }
                break
            } catch let gone as SessionGone {
                // The session cannot become a post any more (expired, unknown, spent): a new one from the local bytes.
                fresh += 1
                guard fresh <= freshSessions else {
                    throw DeliveryError(.retryNow, .platformError, "\(displayName) refused \(fresh) upload sessions in a row in one attempt; last: \(gone.why)")
                }
                switch try await begin(&run) {
                case .found(let out): return out
                case .session(let next): s = next
                }
                offset = 0
            }
        }
        if s.phase != nil {
            // From here a post may exist: a restart reconciles (reads the account's posts) before anything else.
            // A platform that marks its session itself right before its post leaves (Reddit: once its socket
            // is open and its window spent) declines the engine's mark, and nothing is written for it here.
            s.phase = .posting
            if s.phase == .posting { try await run.save(s, confirmed: job.size) }
        }
        let sent = run.sent, posting = s, uploadedAs = uploaded
        let save = SessionSave<Session> { [run] in try await run.save($0, confirmed: job.size) }
        var outcome = try await run.verb(.post) { try await post(posting, job, uploaded: uploadedAs, save: save) }
        // What the post itself moved (a webhook's body) and what the parts did.
        outcome.bytesSent += sent
        return outcome
    }

    /// A new session, persisted before a single byte of the file leaves — or the rendition found there already.
    private func begin(_ run: inout UploadRun) async throws -> Begun<Session> {
        let job = run.job
        let prepared = try await prepare(job)
        if let moved = prepared as? any MovesBytes {
            run.sent += moved.bytesMoved
            run.progress(moved.bytesMoved, job.size)
        }
        if var found = try await alreadyPublished(job, prepared) {
            found.reconciled = true
            return .found(found)
        }
        let s = try await run.verb(.start) { [run] in
            if let marker = intent(job) { try await run.save(marker, confirmed: 0) }
            return try await start(job, prepared)
        }
        // A session born past `uploading` (a container the platform fetches the file for) holds every byte.
        try await run.save(s, confirmed: (s.phase ?? .uploading) == .uploading ? 0 : job.size)
        return .session(s)
    }
}

private enum Begun<S> {
    case session(S)
    case found(PublishOutcome)
}
