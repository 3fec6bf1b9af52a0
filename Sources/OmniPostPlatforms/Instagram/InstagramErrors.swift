import Foundation

/// Instagram's documented error subcodes (developers.facebook.com/docs/instagram-platform/instagram-graph-api/
/// reference/error-codes), each with the table's own recommendation: what a container that ended in it
/// — or a publish refused with it — should lead to. A container never became a post, so where the
/// table says "generate a new container and try again" (or plainly "try again": the container is
/// spent), a new one from the local bytes cannot post twice.
enum InstagramErrors {
    enum Action: Equatable {
        /// The container is spent, a new one may well succeed.
        case newContainer
        /// Wait: the media is not ready, or the publishing limit is spent.
        case wait
        /// The media or the account itself is the problem: it would fail again.
        case permanent
    }

    static let table: [Int: (action: Action, meaning: String)] = [
        2207001: (.newContainer, "Instagram server error"),
        2207003: (.newContainer, "the media took too long to download"),
        2207006: (.newContainer, "possible permission error or expired token"),
        2207008: (.newContainer, "temporary error publishing the container"),
        2207020: (.newContainer, "the media expired"),
        2207032: (.newContainer, "creating the media failed"),
        2207052: (.newContainer, "the media could not be fetched"),
        2207053: (.newContainer, "unknown upload error"),
        2207027: (.wait, "the media is not ready to publish yet"),
        2207042: (.wait, "the account's daily publishing limit is reached"),
        2207004: (.permanent, "the image is too large"),
        2207005: (.permanent, "the image format is not supported"),
        2207009: (.permanent, "the aspect ratio is not supported"),
        2207010: (.permanent, "the caption is too long"),
        2207023: (.permanent, "the media type is unknown"),
        2207026: (.permanent, "the video format is not supported"),
        2207028: (.permanent, "a carousel needs 2 to 10 items"),
        2207035: (.permanent, "product tag positions are not supported for this media"),
        2207036: (.permanent, "product tags are not supported for this media"),
        2207037: (.permanent, "product tags could not be added"),
        2207040: (.permanent, "too many tags"),
        2207050: (.permanent, "the Instagram account is inactive, checkpointed or restricted: sign in to the Instagram app and clear what it asks"),
        2207051: (.permanent, "the publishing action was taken for spam"),
        2207057: (.permanent, "the thumbnail offset is outside the video"),
    ]

    /// The documented subcode a container's `status` (or an error's text) names: Instagram writes it as
    /// `Error: … error code 2207053` in the status, or as `error_subcode` in an error.
    static func subcode(in text: String?) -> Int? {
        guard let text, let r = text.range(of: #"2207\d{3}"#, options: .regularExpression) else { return nil }
        return Int(text[r])
    }

    /// What a container that ended in ERROR with this reason should lead to: an undocumented or missing
    /// code is taken as the media's problem (permanent), so nothing is retried blindly.
    static func action(forStatus reason: String?) -> Action {
        subcode(in: reason).flatMap { table[$0]?.action } ?? .permanent
    }

    /// The reason, with the table's meaning of its code where the status names one.
    static func explain(_ reason: String?) -> String {
        guard let code = subcode(in: reason), let row = table[code] else { return reason ?? "no reason given" }
        return "\(reason ?? "") (\(code): \(row.meaning))"
    }
}
