import Foundation

/// What a Graph API error leads to, for the whole family: Instagram, Facebook and Threads speak the same
/// API, so one table serves all three — the error codes (developers.facebook.com/docs/graph-api/guides/
/// error-handling), the subcodes Instagram documents with its recommendation for each
/// (developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes), and the
/// words a Threads container's `error_message` begins with (developers.facebook.com/docs/threads/
/// troubleshooting). `GraphAPI.classify` reads the codes; a container's status and a refused publish read
/// the rest. A container never became a post, so where the table says "generate a new container and try
/// again" (or plainly "try again": the container is spent), a new one from the local bytes cannot post twice.
struct GraphErrors: Sendable {
    enum Action: Equatable, Sendable {
        /// The token is refused: a person authorizes the account again.
        case reauthenticate
        /// A request limit: wait as long as the usage headers estimate.
        case throttled
        /// A passing fault: the same request again.
        case retry
        /// The container is spent, a new one may well succeed.
        case newContainer
        /// The media is not ready to publish yet: asked again at the poll's pace.
        case notReady
        /// The account's publishing limit is spent: wait for room.
        case quota
        /// The media or the account itself is the problem: it would fail again.
        case permanent
    }

    /// A documented subcode: what it leads to, and what it means in words.
    struct Row: Sendable {
        var action: Action
        var meaning: String
    }

    var codes: [Int: Action]
    var subcodes: [Int: Row]
    /// The first word of a container's reason (Threads' `error_message`) and what it leads to.
    var reasons: [String: Action]

    /// The table as Meta documents it.
    static let meta = GraphErrors(
        codes: [
            190: .reauthenticate, 102: .reauthenticate,
            4: .throttled, 17: .throttled, 32: .throttled, 613: .throttled,
            1: .retry, 2: .retry,
            9007: .notReady
        ].merging((80001...80014).map { ($0, .throttled) }) { a, _ in a },
        subcodes: [
            2207001: Row(action: .newContainer, meaning: "Instagram server error"),
            2207003: Row(action: .newContainer, meaning: "the media took too long to download"),
            2207006: Row(action: .newContainer, meaning: "possible permission error or expired token"),
            2207008: Row(action: .newContainer, meaning: "temporary error publishing the container"),
            2207020: Row(action: .newContainer, meaning: "the media expired"),
            2207032: Row(action: .newContainer, meaning: "creating the media failed"),
            2207052: Row(action: .newContainer, meaning: "the media could not be fetched"),
            2207053: Row(action: .newContainer, meaning: "unknown upload error"),
            2207027: Row(action: .notReady, meaning: "the media is not ready to publish yet"),
            2207042: Row(action: .quota, meaning: "the account's daily publishing limit is reached"),
            2207004: Row(action: .permanent, meaning: "the image is too large"),
            2207005: Row(action: .permanent, meaning: "the image format is not supported"),
            2207009: Row(action: .permanent, meaning: "the aspect ratio is not supported"),
            2207010: Row(action: .permanent, meaning: "the caption is too long"),
            2207023: Row(action: .permanent, meaning: "the media type is unknown"),
            2207026: Row(action: .permanent, meaning: "the video format is not supported"),
            2207028: Row(action: .permanent, meaning: "a carousel needs 2 to 10 items"),
            2207035: Row(action: .permanent, meaning: "product tag positions are not supported for this media"),
            2207036: Row(action: .permanent, meaning: "product tags are not supported for this media"),
            2207037: Row(action: .permanent, meaning: "product tags could not be added"),
            2207040: Row(action: .permanent, meaning: "too many tags"),
            2207050: Row(action: .permanent, meaning: "the Instagram account is inactive, checkpointed or restricted: sign in to the Instagram app and clear what it asks"),
            2207051: Row(action: .permanent, meaning: "the publishing action was taken for spam"),
            2207057: Row(action: .permanent, meaning: "the thumbnail offset is outside the video")
        ],
        // Threads could not fetch our link (it lapsed, the serving daemon restarted mid-fetch), or does not
        // say why: nothing against the media. The rest (INVALID_DURATION, FAILED_PROCESSING_VIDEO, …) is the media's.
        reasons: ["FAILED_DOWNLOADING_VIDEO": .newContainer, "UNKNOWN": .newContainer])

    /// The documented subcode a container's reason names: Instagram writes it as `Error: … error code
    /// 2207053` in a status (an error carries it as `error_subcode`).
    func subcode(in text: String?) -> Int? {
        guard let text else { return nil }
        return text.split { !$0.isNumber }.lazy.compactMap { Int($0) }.first { subcodes[$0] != nil }
    }

    /// What a container that ended in ERROR with this reason should lead to: the subcode it names, else its
    /// first word; an undocumented or missing one is taken as the media's problem (permanent), so nothing
    /// is retried blindly.
    func action(forReason reason: String?) -> Action {
        if let code = subcode(in: reason), let row = subcodes[code] { return row.action }
        let word = reason?.uppercased().prefix { $0.isLetter || $0.isNumber || $0 == "_" } ?? ""
        return reasons[String(word)] ?? .permanent
    }

    /// The reason, with the table's meaning of its subcode where it names one.
    func explain(_ reason: String?) -> String {
        guard let code = subcode(in: reason), let row = subcodes[code] else { return reason ?? "no reason given" }
        return "\(reason ?? "") (\(code): \(row.meaning))"
    }
}
