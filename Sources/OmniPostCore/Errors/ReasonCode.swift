/// Stable reason codes. These strings land in failure reports that other tools read,
/// so a code is never renamed once shipped; new ones are added.
public struct ReasonCode: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ raw: String) { self.rawValue = raw }
    public var description: String { rawValue }

    // Configuration and manifests
    public static let configSyntax = ReasonCode("config_syntax")
    public static let configInvalid = ReasonCode("config_invalid")
    public static let manifestSyntax = ReasonCode("manifest_syntax")
    public static let manifestTooLarge = ReasonCode("manifest_too_large")
    public static let manifestTooComplex = ReasonCode("manifest_too_complex")
    public static let unknownKey = ReasonCode("unknown_key")
    public static let invalidValue = ReasonCode("invalid_value")
    public static let unknownTarget = ReasonCode("unknown_target")
    /// A drop or delivery named by an operator (CLI, API) that the ledger does not hold.
    public static let unknownId = ReasonCode("unknown_id")
    public static let unknownTemplateVariable = ReasonCode("unknown_template_variable")
    public static let missingSidecar = ReasonCode("missing_sidecar")
    public static let missingClip = ReasonCode("missing_clip")
    public static let pathEscape = ReasonCode("path_escape")
    public static let checksumMismatch = ReasonCode("checksum_mismatch")
    public static let duplicate = ReasonCode("duplicate")
    // Files and media
    public static let unreadable = ReasonCode("unreadable")
    public static let emptyFile = ReasonCode("empty_file")
    public static let notAVideo = ReasonCode("not_a_video")
    public static let noVideoStream = ReasonCode("no_video_stream")
    public static let probeFailed = ReasonCode("probe_failed")
    public static let durationOutOfRange = ReasonCode("duration_out_of_range")
    public static let fileTooLarge = ReasonCode("file_too_large")
    public static let textTooLong = ReasonCode("text_too_long")
    public static let textInvalid = ReasonCode("text_invalid")
    public static let aspectRejected = ReasonCode("aspect_rejected")
    public static let ffmpegFailed = ReasonCode("ffmpeg_failed")
    public static let diskFull = ReasonCode("disk_full")
    // Delivery
    public static let authRevoked = ReasonCode("auth_revoked")
    public static let rejectedByPlatform = ReasonCode("rejected_by_platform")
    public static let retriesExhausted = ReasonCode("retries_exhausted")
    public static let quotaExhausted = ReasonCode("quota_exhausted")
    public static let archiveIO = ReasonCode("archive_io")
    public static let internalError = ReasonCode("internal_error")
}

extension ReasonCode {
    public static let truncatedFile = ReasonCode("truncated_file")
    public static let undecodableVideo = ReasonCode("undecodable_video")
    public static let conversionTimeout = ReasonCode("conversion_timeout")
    public static let renditionInvalid = ReasonCode("rendition_invalid")
}

extension ReasonCode {
    public static let notAnImage = ReasonCode("not_an_image")
    public static let missingFile = ReasonCode("missing_file")
}

// The delivery engine.
extension ReasonCode {
    /// Too many failures in a row on one account: its uploads wait for the breaker's cool-down.
    public static let breakerOpen = ReasonCode("breaker_open")
    /// `omnipost cancel`.
    public static let cancelled = ReasonCode("cancelled")
    /// 429 / rateLimitExceeded: retried at Retry-After / x-rate-limit-reset.
    public static let rateLimited = ReasonCode("rate_limited")
    /// The connection failed or timed out: retried with backoff.
    public static let networkError = ReasonCode("network_error")
    /// The platform answered 5xx: retried with backoff.
    public static let platformError = ReasonCode("platform_error")
    /// `publish_at: next_slot` without slots, or none free.
    public static let noSlot = ReasonCode("no_slot")
}

// What independent checks found (issue 9).
extension ReasonCode {
    /// A FIFO, socket, device or folder where a file was expected (directly or through a link).
    public static let notRegularFile = ReasonCode("not_regular_file")
    /// Reading a user's file stopped making progress (a hung mount); that drop is skipped.
    public static let ioStalled = ReasonCode("io_stalled")
    /// A program OmniPost runs is not installed (the sandbox's `openssl`).
    public static let toolMissing = ReasonCode("tool_missing")
    /// A final step whose answer was lost, and the platform cannot say whether it made the post: it is
    /// not repeated (a second post is worse than none); a person looks and retries.
    public static let uncertainPost = ReasonCode("uncertain_post")
    /// Two sidecars (`c.yaml` and `c.json`) claim one clip: neither is picked silently.
    public static let ambiguousSidecar = ReasonCode("ambiguous_sidecar")
    /// `targets: []`: nothing to publish to.
    public static let noTargets = ReasonCode("no_targets")
    /// The picture is smaller than a target's minimum; upscaling would not make it acceptable.
    public static let resolutionTooLow = ReasonCode("resolution_too_low")
    /// The clip changed after it was hashed (still being written): the drop is withdrawn, not failed.
    public static let sourceChanged = ReasonCode("source_changed")
    /// A lone clip's sidecar (or a lone sidecar's clip) turned up after all: the drop is withdrawn
    /// and its files pair again. Not a failure.
    public static let partnerArrived = ReasonCode("partner_arrived")
    /// The same target named twice in one sidecar.
    public static let duplicateTarget = ReasonCode("duplicate_target")
}

// Round 3 of independent checks (issue 21).
extension ReasonCode {
    /// A YAML tag that asks for a type we do not construct (`!!python/object:…`, `!!binary`, `!local`).
    public static let unsupportedTag = ReasonCode("unsupported_tag")
}
