/// What the validate stage decided for one target.
public enum PlanKind: String, Sendable, Codable {
    /// Send the original, byte-identical.
    case pass
    /// Rewrite the container (e.g. moov to the front) without re-encoding.
    case remux
    /// Re-encode to the profile.
    case transcode
    /// Cannot be made to fit; the reason says which limit.
    case reject
}
