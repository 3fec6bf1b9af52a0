import Foundation
import OmniPostCore

/// How one platform's creator pages are driven, as data (docs/recipes.md): where the upload page is, how
/// a logged-in page looks, the anchors of each step (text a person reads preferred, a CSS selector where
/// the page has no text to go by), which steps may be absent, and what success and each known failure
/// look like. A redesigned page is fixed by editing this data — or by a user's override file — not code.
package struct Recipe: Sendable {
    /// Something to find on the page: a visible text (exact, whitespace folded), a field's placeholder,
    /// or a CSS selector. `at` is where the recipe says it (for `recipe_broken` messages).
    package struct Anchor: Sendable, Equatable, CustomStringConvertible {
        package enum Kind: String, Sendable { case text, placeholder, selector }
        package var kind: Kind
        package var value: String
        package var at: SourceLocation
        package var description: String { "\(kind.rawValue) '\(value)' (\(at))" }
    }

    /// A page state: an anchor that is shown, or the address containing a string.
    package enum Probe: Sendable, Equatable {
        case shown(Anchor)
        case urlContains(String)
    }

    /// What a step does with its anchor.
    package enum Action: String, Sendable, CaseIterable {
        /// Hands the clip to the file input that belongs to the visible control the anchor finds.
        case upload
        /// Hands the cover image to the file input of the control (skipped when there is no cover).
        case cover
        /// Waits until the upload is complete (`until`), failing early on `failed`.
        case waitUpload = "wait_upload"
        /// Types a value (`value:`) into the field the anchor finds.
        case fill
        /// Clicks the control (a checkbox, a tab).
        case click
        /// Types the publish time into the field (skipped when the post is not scheduled).
        case schedule
        /// Clicks publish — only once the upload is complete and the button is enabled.
        case publish
    }

    /// Which part of the post a `fill` step types. `text`: the title on its first line, then the caption —
    /// for a page with one text field and no title (Kuaishou's), whose content list shows that first line.
    package enum Value: String, Sendable, CaseIterable { case title, description, caption, tags, text }

    package struct Step: Sendable {
        package var name: String
        package var action: Action
        /// What to find (every action but `wait_upload`, which watches `until`).
        package var anchor: Anchor?
        package var value: Value?
        /// Absent on some pages (a "mark as original" box): skipped, not a failure.
        package var optional: Bool
        /// For `wait_upload`: the page state that says the upload finished, and one that says it failed.
        package var until: Probe?
        package var failed: Probe?
        package var timeout: Duration?
        /// For `publish`: a second button the page shows after the first click ("确认发布" in Kuaishou's
        /// confirmation), clicked when it comes.
        package var confirm: Anchor? = nil
    }

    /// A failure the page shows, and what it means.
    package enum Verdict: String, Sendable, CaseIterable {
        case needsHuman = "needs_human"
        case authRevoked = "auth_revoked"
        case rejected
        case rateLimited = "rate_limited"
        case uploadRunning = "upload_running"
    }

    package struct FailureRule: Sendable {
        package var when: Probe
        package var verdict: Verdict
        /// Said in the failure report after the platform's own words.
        package var says: String
    }

    /// The account's content list: where it is, one item, and how to read its title, duration and id.
    package struct ContentList: Sendable {
        package var page: String
        package var item: String
        package var title: String
        package var duration: String?
        /// The attribute of the item holding the platform's id.
        package var idAttribute: String?
    }

    package var platform: String
    /// Where the recipe came from (the bundled resource or a user's override).
    package var file: String
    /// Addresses may start with `{base}`: the account's `endpoint:` (the sandbox in tests).
    package var uploadPage: String
    package var loginPage: String
    package var loggedIn: Probe
    package var loggedOut: [Probe]
    /// The login page's QR code (an `<img>` or `<canvas>`): its payload is read or its pixels captured.
    package var qr: Anchor?
    /// What to click when the QR code is not shown at first (a login box opening on its password
    /// form: Kuaishou's "platform-switch", Xiaohongshu's switch icon).
    package var qrReveal: Anchor? = nil
    package var steps: [Step]
    package var success: Probe
    package var failures: [FailureRule]
    package var contentList: ContentList
    /// How long the page may take to confirm a publish before the content list is read instead.
    package var confirmWithin: Duration
    /// How long an upload may take to complete.
    package var uploadWithin: Duration
    /// How long one anchor is looked for (a page still rendering) before it counts as missing.
    package var anchorWithin: Duration
    /// Where the pages are when the account's endpoint is the platform's API (`site:`: an API platform's
    /// browser fallback, whose account says `via: browser`).
    package var site: String? = nil

    /// `{base}` replaced by the account's endpoint.
    package func address(_ template: String, base: String) -> String {
        template.replacingOccurrences(of: "{base}", with: base.hasSuffix("/") ? String(base.dropLast()) : base)
    }
}
