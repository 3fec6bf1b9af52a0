import Foundation
import OmniPostCore

/// What a delivery publishes, rendered for one target: templates filled, overrides applied.
package struct PublishMetadata: Sendable, Codable, Equatable {
    package var title: String
    package var description: String
    package var tags: [String]
    package var privacy: Privacy
    package var publishAt: Date?
    /// Platform-specific options from `overrides:` (e.g. youtube category_id, made_for_kids).
    package var options: [String: String]
    /// The cover frame's time, for platforms that take a timestamp instead of an image (TikTok, Instagram).
    package var coverAtMs: Int? = nil
    /// The text rules of the profile this was validated against (a pipeline's override included): the
    /// adapter composes its caption and enforces limits by these. Nil (made by hand, older deliveries):
    /// the bundled profile's for the platform.
    package var text: TextRules? = nil
    /// Which of these fields a language model wrote (`ai:`), or why the templates' text was kept:
    /// for the result JSON and the dashboard. Nil: nothing was asked of a model.
    package var writer: TextWriter? = nil
    /// What the delivery owes after its post (subtitle tracks…), made by `FollowUpRun`. Nil: nothing.
    package var followUps: [FollowUp]? = nil

    package init(title: String, description: String, tags: [String], privacy: Privacy, publishAt: Date?, options: [String: String]) {
        self.title = title
        self.description = description
        self.tags = tags
        self.privacy = privacy
        self.publishAt = publishAt
        self.options = options
    }
}

/// Who wrote a delivery's text when a sidecar asked a language model (`ai:`).
package struct TextWriter: Sendable, Codable, Equatable {
    /// The model asked.
    package var model: String
    /// The fields it wrote and that are used (`title`, `description`, `tags`); empty when none was used.
    package var wrote: [String]
    /// Why its text, or part of it, was not used (the endpoint down, an answer over the profile's limit):
    /// the templates' text stood in.
    package var note: String?
    package init(model: String, wrote: [String], note: String? = nil) {
        self.model = model
        self.wrote = wrote
        self.note = note
    }
}
