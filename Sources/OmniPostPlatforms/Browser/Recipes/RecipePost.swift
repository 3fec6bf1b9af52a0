import Foundation

/// What one post puts into a recipe's fields.
package struct RecipePost: Sendable {
    package var file: String
    package var title: String
    package var description: String
    /// Title, description and tags composed the way the platform's profile says (its caption).
    package var caption: String
    package var tags: [String]
    package var cover: String?
    package var publishAt: Date?
    /// The clip's length as the content list shows it (`0:07`), to tell two posts of one title apart.
    package var duration: String?

    package init(
        file: String, title: String, description: String = "", caption: String? = nil, tags: [String] = [], cover: String? = nil,
        publishAt: Date? = nil, duration: String? = nil
    ) {
        self.file = file
        self.title = title
        self.description = description
        self.caption = caption ?? description
        self.tags = tags
        self.cover = cover
        self.publishAt = publishAt
        self.duration = duration
    }

    /// A length in seconds as creator pages print it: `m:ss`, or `h:mm:ss` past an hour.
    package static func durationText(seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    func text(_ v: Recipe.Value) -> String {
        switch v {
        case .title: title
        case .description: description
        case .caption: caption
        case .tags: tags.map { "#" + $0 }.joined(separator: " ")
        case .text: [title, caption].filter { !$0.isEmpty }.joined(separator: "\n")
        }
    }
}

/// One item of the account's content list, as the page shows it.
package struct ContentItem: Sendable, Equatable, Codable {
    package var title: String
    package var duration: String?
    package var id: String?
}

/// Why a recipe's run stopped, classified: the reason code, the platform's words, the step it was at.
package struct RecipeFailure: Error, Sendable, CustomStringConvertible {
    package var verdict: Recipe.Verdict?
    /// `recipe_broken`, `needs_human`, `auth_revoked`, `rejected_by_platform`, `rate_limited`, `uncertain_post`…
    package var code: String
    package var message: String
    package var step: String?
    /// Whether waiting and trying again can help (an upload that ran out of time, a slow page).
    package var transient: Bool
    package var description: String { "\(code): \(message)" }
}
