/// Stable reason codes. These strings land in failure reports that other tools read,
/// so a code is never renamed once shipped; new ones are added.
package struct ReasonCode: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    package let rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package init(_ raw: String) { self.rawValue = raw }
    package var description: String { rawValue }

    // Configuration and manifests
    package static let configSyntax = ReasonCode("config_syntax")
    package static let configInvalid = ReasonCode("config_invalid")
    package static let manifestSyntax = ReasonCode("manifest_syntax")
    package static let manifestTooLarge = ReasonCode("manifest_too_large")
    package static let manifestTooComplex = ReasonCode("manifest_too_complex")
    package static let unknownKey = ReasonCode("unknown_key")
    package static let invalidValue = ReasonCode("invalid_value")
    package static let unknownTarget = ReasonCode("unknown_target")
    /// A drop or delivery named by an operator (CLI, API) that the ledger does not hold.
    package static let unknownId = ReasonCode("unknown_id")
    package static let unknownTemplateVariable = ReasonCode("unknown_template_variable")
    package static let missingSidecar = ReasonCode("missing_sidecar")
    package static let missingClip = ReasonCode("missing_clip")
    package static let pathEscape = ReasonCode("path_escape")
    package static let checksumMismatch = ReasonCode("checksum_mismatch")
    package static let duplicate = ReasonCode("duplicate")
    // Files and media
    package static let unreadable = ReasonCode("unreadable")
    package static let emptyFile = ReasonCode("empty_file")
    package static let notAVideo = ReasonCode("not_a_video")
    package static let noVideoStream = ReasonCode("no_video_stream")
    package static let probeFailed = ReasonCode("probe_failed")
    package static let durationOutOfRange = ReasonCode("duration_out_of_range")
    package static let fileTooLarge = ReasonCode("file_too_large")
    package static let textTooLong = ReasonCode("text_too_long")
    package static let textInvalid = ReasonCode("text_invalid")
    /// `chapters:` that a platform showing them would not (YouTube: first at 0:00, three or more, 10 s each).
    package static let chaptersInvalid = ReasonCode("chapters_invalid")
    package static let aspectRejected = ReasonCode("aspect_rejected")
    package static let ffmpegFailed = ReasonCode("ffmpeg_failed")
    package static let diskFull = ReasonCode("disk_full")
    // Delivery
    package static let authRevoked = ReasonCode("auth_revoked")
    package static let rejectedByPlatform = ReasonCode("rejected_by_platform")
    package static let retriesExhausted = ReasonCode("retries_exhausted")
    package static let quotaExhausted = ReasonCode("quota_exhausted")
    package static let archiveIO = ReasonCode("archive_io")
    package static let internalError = ReasonCode("internal_error")
}

extension ReasonCode {
    package static let truncatedFile = ReasonCode("truncated_file")
    package static let undecodableVideo = ReasonCode("undecodable_video")
    package static let conversionTimeout = ReasonCode("conversion_timeout")
    package static let renditionInvalid = ReasonCode("rendition_invalid")
}

extension ReasonCode {
    package static let notAnImage = ReasonCode("not_an_image")
    package static let missingFile = ReasonCode("missing_file")
}

// The delivery engine.
extension ReasonCode {
    /// Too many failures in a row on one account: its uploads wait for the breaker's cool-down.
    package static let breakerOpen = ReasonCode("breaker_open")
    /// `omnipost cancel`.
    package static let cancelled = ReasonCode("cancelled")
    /// 429 / rateLimitExceeded: retried at Retry-After / x-rate-limit-reset.
    package static let rateLimited = ReasonCode("rate_limited")
    /// The connection failed or timed out: retried with backoff.
    package static let networkError = ReasonCode("network_error")
    /// The platform answered 5xx: retried with backoff.
    package static let platformError = ReasonCode("platform_error")
    /// `publish_at: next_slot` without slots, or none free.
    package static let noSlot = ReasonCode("no_slot")
}

// What independent checks found (issue 9).
extension ReasonCode {
    /// A FIFO, socket, device or folder where a file was expected (directly or through a link).
    package static let notRegularFile = ReasonCode("not_regular_file")
    /// Reading a user's file stopped making progress (a hung mount); that drop is skipped.
    package static let ioStalled = ReasonCode("io_stalled")
    /// A program OmniPost runs is not installed (the sandbox's `openssl`).
    package static let toolMissing = ReasonCode("tool_missing")
    /// A final step whose answer was lost, and the platform cannot say whether it made the post: it is
    /// not repeated (a second post is worse than none); a person looks and retries.
    package static let uncertainPost = ReasonCode("uncertain_post")
    /// Two sidecars (`c.yaml` and `c.json`) claim one clip: neither is picked silently.
    package static let ambiguousSidecar = ReasonCode("ambiguous_sidecar")
    /// `targets: []`: nothing to publish to.
    package static let noTargets = ReasonCode("no_targets")
    /// The picture is smaller than a target's minimum; upscaling would not make it acceptable.
    package static let resolutionTooLow = ReasonCode("resolution_too_low")
    /// The clip changed after it was hashed (still being written): the drop is withdrawn, not failed.
    package static let sourceChanged = ReasonCode("source_changed")
    /// A lone clip's sidecar (or a lone sidecar's clip) turned up after all: the drop is withdrawn
    /// and its files pair again. Not a failure.
    package static let partnerArrived = ReasonCode("partner_arrived")
    /// The same target named twice in one sidecar.
    package static let duplicateTarget = ReasonCode("duplicate_target")
}

// Round 3 of independent checks (issue 21).
extension ReasonCode {
    /// A YAML tag that asks for a type we do not construct (`!!python/object:…`, `!!binary`, `!local`).
    package static let unsupportedTag = ReasonCode("unsupported_tag")
}

// The driven-browser platforms (issue 28).
extension ReasonCode {
    /// The page asks for a person (a captcha, a slider, a phone confirmation): not retried in a loop; the
    /// screenshot beside the failure report shows what it asked.
    package static let needsHuman = ReasonCode("needs_human")
    /// The page no longer has what the platform's recipe looks for (a redesign): the step and the anchor
    /// are named; a changed page is a data fix (an override recipe), not a code change.
    package static let recipeBroken = ReasonCode("recipe_broken")
    /// A recipe file that does not read (YAML syntax, an unknown key, a missing anchor), at its line.
    package static let recipeInvalid = ReasonCode("recipe_invalid")
}

// The editor's side (issue 29).
extension ReasonCode {
    /// A person rejected the drop while it waited for approval (`omnipost reject`, the dashboard, the API
    /// or its review file moved into `outbox/review/rejected/`); their note is the message.
    package static let approvalRejected = ReasonCode("approval_rejected")
    /// The drop waited for approval longer than `approval.expire_after`: rejected, nothing sent.
    package static let approvalExpired = ReasonCode("approval_expired")
}

extension ReasonCode {
    /// Fewer tags than the platform's profile needs (Bilibili's archive: at least one), said at validation.
    package static let tagsRequired = ReasonCode("tags_required")
}

// After the post: reading it back (issue 25).
extension ReasonCode {
    /// The platform never showed the post through its own read endpoint within the verification schedule.
    package static let notVisible = ReasonCode("not_visible")
    /// The post was there and the platform took it down (or says it rejected or removed it).
    package static let removedByPlatform = ReasonCode("removed_by_platform")
    /// The platform made the post private by itself (YouTube locks uploads from unverified API projects).
    package static let lockedPrivate = ReasonCode("locked_private")
    /// The post is visible, in another privacy (or schedule) than the one asked for.
    package static let privacyMismatch = ReasonCode("privacy_mismatch")
}

extension ReasonCode {
    /// A subtitle file (`clip.en.srt`, `subtitles:`) whose cues cannot be read or are timed wrong.
    package static let subtitlesInvalid = ReasonCode("subtitles_invalid")
}

extension ReasonCode {
    /// The shared PostgreSQL ledger (`ledger:`) cannot be reached, refuses the login, or was left by a newer version.
    package static let ledgerUnreachable = ReasonCode("ledger_unreachable")
}

// A post's numbers from a platform's second API (issue 25).
extension ReasonCode {
    /// The account's grant lacks the permission the platform's insights API needs (YouTube's
    /// `yt-analytics.readonly`, Instagram's `instagram_business_manage_insights`…): recorded once, and those
    /// numbers are not read again until the account is connected anew.
    package static let insightsNotGranted = ReasonCode("insights_not_granted")
}

// Several hosts on one ledger (issue 27, docs/several-hosts.md).
extension ReasonCode {
    /// `host_roles:` names a role a host cannot have (not `ingest`, `convert` or `upload`), one twice, or none.
    package static let hostRoleUnknown = ReasonCode("host_role_unknown")
    /// This host's heartbeat could not reach the shared ledger: it stops claiming and is not ready until it does.
    package static let ledgerLost = ReasonCode("ledger_lost")
    /// `ledger: {heartbeat:}` is not a duration between 1 s and 5 min.
    package static let heartbeatInvalid = ReasonCode("heartbeat_invalid")
}
