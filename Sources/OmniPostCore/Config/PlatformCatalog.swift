/// Which platform names exist and which have an adapter in this build. Limits live in profiles.yaml;
/// this is only the list of names and their public API roots.
public enum PlatformCatalog {
    public static let known = [
        "youtube", "tiktok", "instagram", "facebook", "threads", "x", "linkedin", "bluesky", "reddit", "vimeo", "s3",
    ]
    public static let implemented = ["youtube", "tiktok"]

    public static func defaultEndpoints(_ platform: String) -> (api: String, token: String) {
        switch platform {
        case "youtube": return ("https://www.googleapis.com", "https://oauth2.googleapis.com/token")
        case "tiktok": return ("https://open.tiktokapis.com", "https://open.tiktokapis.com/v2/oauth/token/")
        default: return ("", "")
        }
    }

    /// Where a platform's token endpoint sits under an API root (the sandbox serves them all on one).
    public static func tokenPath(_ platform: String) -> String {
        platform == "tiktok" ? "/v2/oauth/token/" : "/token"
    }
}
