import Foundation
import OmniPostCore

/// A Graph API media container (Instagram's, Threads'): created, processed by the platform, then
/// published once. Its state field and reason field differ by platform (Instagram: `status_code` and
/// `status`; Threads: `status` and `error_message`); the states are the same: IN_PROGRESS, FINISHED,
/// ERROR, EXPIRED, PUBLISHED. So are the publishing limit's shape and the user-id lookup.
struct GraphContainer {
    let graph: GraphAPI
    let stateField: String
    let reasonField: String
    /// What the platform calls it in messages ("the reel", "the video").
    let noun: String

    /// Whether a container that ended in ERROR with this reason is spent rather than refused (the family's
    /// error table says): it never became a post, so a new one (from the local bytes) is safe and may succeed.
    func renewable(_ reason: String?) -> Bool { graph.errors.action(forReason: reason) == .newContainer }

    /// The reason as told to the user, with the table's meaning of the code it names.
    func explain(_ reason: String?) -> String { graph.errors.explain(reason) }

    /// How many new containers one attempt makes for spent ones before it hands over to the upload stage.
    static let maxRenewals = 2

    /// The container's state and reason, or nil when the platform does not know it.
    func status(_ id: String) async throws -> (state: String, reason: String?)? {
        let r = try await graph.call(.GET, "/\(id)", [("fields", "\(stateField),\(reasonField)")])
        if GraphAPI.code(r) == 100 || GraphAPI.code(r) == 24 || r.status == 404 { return nil }
        guard r.status == 200 else { throw graph.classify(r, during: "reading the container's status") }
        let fields = r.decoded(GraphWire.Fields.self)?.strings ?? [:]
        return (fields[stateField] ?? "", fields[reasonField])
    }

    func failed(_ reason: String?) -> DeliveryError {
        DeliveryError(.permanent, .rejectedByPlatform, "\(graph.name) could not process \(noun): \(explain(reason))")
    }

    /// The container's processing as the upload engine polls it: a spent one (expired, unknown, or a
    /// renewable ERROR) is `gone` — never a post, so a new one is made.
    func processing(_ id: String, published: () async throws -> PublishOutcome) async throws -> Processing {
        guard let (state, reason) = try await status(id) else { return .gone("\(graph.name) no longer knows container \(id)") }
        switch state {
        case "FINISHED": return .ready
        case "PUBLISHED": return .published(try await published())
        case "EXPIRED": return .gone("container \(id) expired")
        case "ERROR": return renewable(reason) ? .gone(explain(reason)) : .failed(failed(reason))
        default: return .pending(after: nil)
        }
    }

    /// What became of a persisted container: published, gone (expired or unknown: nothing can come of
    /// it), failed, or still on its way (`inFlight`).
    func reconcile(_ id: String, inFlight: RemoteState, outcome: () async throws -> PublishOutcome) async throws -> RemoteState {
        guard let (state, reason) = try await status(id) else { return .notStarted }
        switch state {
        case "PUBLISHED": return .published(try await outcome())
        case "EXPIRED": return .notStarted
        // Spent, never a post: start again with a new container.
        case "ERROR" where renewable(reason): return .notStarted
        case "ERROR": throw failed(reason)
        default: return inFlight
        }
    }

    /// The account's user id: `id:` under the account, or whose token it is.
    func userID(_ account: AccountConfig) async throws -> String {
        if !account.accountID.isEmpty { return account.accountID }
        let me = try await graph.call(.GET, "/me", [("fields", "id,username")])
        guard me.status == 200, let id = me.decoded(GraphWire.Created.self)?.id else { throw graph.classify(me, during: "reading the account's \(graph.name) user id") }
        return id
    }

    /// The publishing limit as the platform reports it: posts used of the total in its 24-hour window.
    func publishingLimit(_ path: String) async throws -> (used: Int, total: Int)? {
        let limit = try await graph.call(.GET, path, [("fields", "config,quota_usage")])
        guard limit.status == 200 else { throw graph.classify(limit, during: "reading the publishing limit") }
        guard let d = limit.decoded(GraphWire.Limits.self)?.data?.first, let total = d.config?.quota_total else { return nil }
        return (d.quota_usage ?? 0, total)
    }

    /// A spent publishing limit (`content_publishing_limit`, `threads_publishing_limit`) waits for room;
    /// the limit itself goes to the queue gate (`report`, as the `posts` rule's).
    func checkPublishingLimit(_ path: String, report: @Sendable (String, Int) -> Void = { _, _ in }) async throws {
        guard let (used, total) = try await publishingLimit(path) else { return }
        if total > 0 { report("posts", total) }
        if used >= total {
            throw DeliveryError(
                .retryAt(Date().addingTimeInterval(3600)), .quotaExhausted,
                "\(graph.name)'s publishing limit is spent: \(used) of \(total) posts in 24 h (\(path.split(separator: "/").last ?? "")); it waits for room")
        }
    }
}
