import Foundation
import OmniPostCore

/// A post made by one request with no idempotency key, whose result is read back from the account's list
/// (Kuaishou's `photo/publish`, Douyin's `create_video`, Bilibili's `add-by-utoken`: each spends its upload
/// token, so a second request is refused, and each may show its post in the list only a while later).
/// Written once for them, so that none of them ever sends its post twice for one session:
/// - that the request left is checkpointed before it does (`sentAt`), the post's id once answered (`postedID`);
/// - an answered post is the post: looked for in the list by its id within `listWindow`, recorded by that id
///   either way (it used to be retried until listed, and the retry sent the spent token again: refused, a
///   post that existed recorded failed);
/// - a request whose answer was lost is looked for by what it carried until `settleWindow` has passed since
///   it left, then a person is asked (`uncertain_post`) — a second post is worse than none;
/// - a person's retry of such a session (`SessionReuse` other than `resume`) once its settle window is over
///   gives it up, so the delivery uploads and posts anew, once — settling it again would be a retry that goes
///   nowhere; within the window (a delivery that failed while reading the list) the settling goes on.
struct ListedPost<Session: PersistedSession, Item: Sendable> {
    /// The platform's name in sentences, and what its post is called ("work", "post", "archive").
    var platform: String
    var noun: String
    var listWindow: Duration
    var settleWindow: Duration
    var poll: PollPolicy
    var retry: PartRetry
    var sentAt: WritableKeyPath<Session, Double?>
    var postedID: WritableKeyPath<Session, String?>
    /// The account's post with this id, or — nil — the one the lost request made (by its text, since the upload).
    var find: (Session, String?) async throws -> Item?
    var id: (Item) -> String?
    var outcome: (Item) -> PublishOutcome
    var outcomeForID: (String) -> PublishOutcome

    /// What the post request came to.
    enum Answer {
        /// The platform made the post with this id.
        case made(String)
        /// It answered without an id, or its answer was lost (a cut connection, a 5xx): the post may exist.
        case uncertain
    }

    /// The post for a session that never sent it (`send` makes the request; a refusal it throws made no
    /// post, and the session says so again); for one that did, how it ended — never sent twice.
    func post(_ session: Session, save: SessionSave<Session>, send: () async throws -> Answer) async throws -> PublishOutcome {
        var s = session
        if let id = s[keyPath: postedID] { return try await shown(s, id: id) }
        if s[keyPath: sentAt] != nil { return try await settle(s, save: save) }
        s[keyPath: sentAt] = Date().timeIntervalSince1970
        try await save(s)
        let answer: Answer
        do { answer = try await send() } catch let e as DeliveryError where e.code == .networkError {
            answer = .uncertain
        } catch let e as DeliveryError {
            // The platform's refusal (`send` answers `uncertain` for a 5xx): no post came of it, and the
            // session may send its request again.
            s[keyPath: sentAt] = nil
            try await save(s)
            throw e
        }
        // Anything else (cancelled mid-request) is rethrown with `sentAt` kept: the next attempt settles it.
        switch answer {
        case .uncertain:
            return try await settle(s, save: save)
        case .made(let id):
            s[keyPath: postedID] = id
            try await save(s)
            return try await shown(s, id: id)
        }
    }

    /// Where a session past its upload stands: its post found (by id, or by what it carried), not posted
    /// (`processing`: `post` sends it, or settles one that left), or given up for a person's retry.
    func reconcile(_ s: Session, reuse: SessionReuse) async throws -> RemoteState {
        // The id is known: the post exists, whatever reading the list says now (a refused read must not
        // make the session look dead — the engine replaces a session reconcile fails permanently).
        if let id = s[keyPath: postedID] { return .published(((try? await find(s, id)) ?? nil).map(outcome) ?? outcomeForID(id)) }
        guard let sent = s[keyPath: sentAt] else {
            // Not recorded as sent: looked for by what it carries all the same, as before `sentAt` was kept —
            // a session written by an earlier version, killed in `posting`, may have sent it. Else it is sent
            // from this session.
            if let item = try await find(s, nil) { return .published(outcome(item)) }
            return .processing
        }
        let found: Item?
        do { found = try await find(s, nil) } catch let e as DeliveryError where e.kind != .retryNow {
            // A request that left may be a post: reading the list failing, however, is tried again later.
            throw DeliveryError(.retryNow, e.code, e.message, httpStatus: e.httpStatus)
        }
        if let item = found { return .published(outcome(item)) }
        // A person's retry, its settle window over and still no post: given up, uploaded and posted anew.
        if reuse != .resume, Date().timeIntervalSince1970 >= sent + settleWindow.seconds { throw uncertain(s) }
        return .processing
    }

    /// The post the platform answered for, as its list shows it once it does — else by its id.
    func shown(_ s: Session, id: String) async throws -> PublishOutcome {
        let until = ContinuousClock.now + listWindow
        var pacer = poll.pacer()
        repeat {
            try await pacer.pace()
            if let item = try? await find(s, id) { return outcome(item) }
        } while ContinuousClock.now < until
        return outcomeForID(id)
    }

    /// A request whose answer was lost: its post looked for until `settleWindow` has passed since it left.
    func settle(_ session: Session, save: SessionSave<Session>) async throws -> PublishOutcome {
        var s = session
        let until = Date(timeIntervalSince1970: (s[keyPath: sentAt] ?? Date().timeIntervalSince1970) + settleWindow.seconds)
        var pacer = poll.pacer()
        // Reading the list is safe to repeat: a failure for now is tried again at the poll's pace.
        var retry = retry
        repeat {
            try await pacer.pace()
            do {
                if let item = try await find(s, nil) {
                    s[keyPath: postedID] = id(item)
                    try await save(s)
                    // Found, not made: nothing was posted this time.
                    var found = outcome(item)
                    found.reconciled = true
                    return found
                }
                retry.succeeded()
            } catch let e as DeliveryError where e.kind == .retryNow {
                try await retry.again(after: e)
            }
        } while Date() < until
        throw uncertain(s)
    }

    /// A request that left, whose post never showed: not sent again.
    func uncertain(_ s: Session) -> DeliveryError {
        let since = s[keyPath: sentAt].map { Date(timeIntervalSince1970: $0) } ?? Date()
        return DeliveryError(
            .permanent, .uncertainPost,
            "\(platform)'s \(noun) request at \(ISO8601DateFormatter().string(from: since)) lost its answer, and no \(noun) of it showed in the account's list within \(DurationText.format(settleWindow.seconds)); it was not sent again (a second \(noun) is worse than none). Look at the account; `omnipost retry` uploads and posts it anew"
        )
    }
}

/// An adapter whose post is a `ListedPost`: its windows, the post verb bounded by them, and `post` without
/// a save forwarding to the one with.
protocol ListedPostAdapter: ResumableAdapter {
    /// How long an answered post is looked for in the list before it is recorded by its id.
    var listWindow: Duration { get }
    /// How long a post whose answer was lost is looked for before a person is asked.
    var settleWindow: Duration { get }
    var poll: PollPolicy { get }
}

extension ListedPostAdapter {
    package func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        try await post(s, job, uploaded: uploaded, save: SessionSave { _ in })
    }

    /// `post` is bounded by its own windows while it looks for the post.
    package func verbTimeout(_ verb: UploadVerb) -> Duration? {
        verb == .post ? settleWindow + listWindow + settings.requestTimeout * 3 : settings.verbTimeout ?? settings.requestTimeout * 3
    }

    /// The `ListedPost` of this adapter's session: its windows, and what the platform calls its post.
    func listedPost<Item>(
        noun: String, sentAt: WritableKeyPath<Session, Double?>, postedID: WritableKeyPath<Session, String?>,
        find: @escaping (Session, String?) async throws -> Item?, id: @escaping (Item) -> String?,
        outcome: @escaping (Item) -> PublishOutcome, outcomeForID: @escaping (String) -> PublishOutcome
    ) -> ListedPost<Session, Item> {
        ListedPost(
            platform: displayName, noun: noun, listWindow: listWindow, settleWindow: settleWindow, poll: poll, retry: PartRetry(settings),
            sentAt: sentAt, postedID: postedID, find: find, id: id, outcome: outcome, outcomeForID: outcomeForID)
    }
}
