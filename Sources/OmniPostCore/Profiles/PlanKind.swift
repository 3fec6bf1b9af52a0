/// What the validate stage decided for one target — the least invasive change the target needs.
package enum PlanKind: String, Sendable, Codable, CaseIterable {
    /// Send the original, byte-identical.
    case pass
    /// Rewrite the container only (another container, or moov to the front); every stream copied.
    case remux
    /// Copy the video stream; re-encode (or add silent) audio — e.g. PCM → AAC, 5.1 → stereo.
    case audio
    /// Re-encode the video (the video stream itself is refused); audio copied where it fits.
    case transcode
    /// Cannot be made to fit; the reason says which limit.
    case reject
}
