import Foundation
import OmniPostCore

/// A published reel as `GET /{ig-media-id}?fields=…` shows it
/// (https://developers.facebook.com/docs/instagram-platform/reference/instagram-media): `id`, `permalink`,
/// `media_type` VIDEO, `media_product_type` REELS, `timestamp`, and the integer `like_count` and
/// `comments_count`; only the fields asked (the id always). A reel Instagram took down, or never
/// showed, is an object that "does not exist" (code 100, subcode 33), as any unknown id is.
extension InstagramRoutes {
    static let mediaFields: Set<String> = [
        "id", "permalink", "media_type", "media_product_type", "timestamp", "like_count", "comments_count", "caption", "shortcode", "username",
        "is_shared_to_feed", "thumbnail_url", "media_url", "owner"
    ]

    static func media(_ v: SandboxState.Video, fields: String, state: SandboxState, baseURL: String) async -> [String: Any]? {
        guard let life = await state.postLife(platform: "instagram", id: v.id), life.found else { return nil }
        let all: [String: Any] = [
            "id": v.id, "permalink": "\(baseURL)/instagram/reel/\(v.id)", "media_type": "VIDEO", "media_product_type": "REELS",
            "timestamp": graphTime(v.receivedAt), "like_count": life.numbers.likes, "comments_count": life.numbers.comments, "caption": v.title,
            "shortcode": v.id, "is_shared_to_feed": true
        ]
        let asked = Set(fields.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }).union(["id"])
        return fields.isEmpty ? ["id": v.id, "permalink": all["permalink"]!] : all.filter { asked.contains($0.key) }
    }

    /// Graph timestamps: `2026-12-05T10:00:00+0000`.
    static func graphTime(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ssZ"
        return f.string(from: d)
    }
}
