import Foundation
import NIOCore
import OmniPostCore

/// Facebook's follow-ups: a subtitle track is a caption file on the video (Graph API, Video Captions:
/// `POST /{video-id}/captions` with `captions_file`, a SubRip file whose name ends in `.{locale}.srt`,
/// such as `reel.en_US.srt`). Facebook takes SubRip only, so a WebVTT track goes as the same cues in
/// SubRip. Whether one was made before a kill is `GET /{video-id}/captions`, matched by locale. A first
/// comment is the Page's, on the video (`GraphAPI.comment`, with the Page token).
extension FacebookAdapter: FollowingUp {
    package func findFollowUp(_ f: FollowUp, of post: PublishOutcome) async throws -> String? {
        switch f.kind {
        case .playlist: throw f.notTaken(by: platform)
        case .firstComment: return try await graph.findComment(f, on: post.remoteId, as: try await pageToken().token)
        case .subtitles:
            let p = try await pageToken()
            let locale = Self.locale(f.language ?? "")
            let r = try await graph.call(.GET, "/\(post.remoteId)/captions", [("fields", "locale,locale_name")], as: p.token)
            guard r.status == 200, let list = r.decoded(FacebookWire.Captions.self) else { throw graph.classify(r, during: "listing the captions of \(post.remoteId)") }
            return (list.data ?? []).contains { $0.locale == locale } ? "\(post.remoteId):\(locale)" : nil
        }
    }

    package func makeFollowUp(_ f: FollowUp, on post: PublishOutcome) async throws -> String {
        switch f.kind {
        case .playlist: throw f.notTaken(by: platform)
        case .firstComment: return try await graph.comment(f, on: post.remoteId, as: try await pageToken().token)
        case .subtitles:
            let file = try f.subtitleFile()
            let p = try await pageToken()
            let locale = Self.locale(f.language ?? "")
            var form = MultipartForm()
            form.file("captions_file", filename: "reel.\(locale).srt", contentType: "application/x-subrip", ByteBuffer(string: file.srt))
            let r = try await settings.api.send(
                url: account.endpoint + "/" + GraphAPI.version + "/\(post.remoteId)/captions", method: .POST,
                headers: [("Content-Type", form.contentType), ("Authorization", "Bearer " + p.token)], body: form.body, authorize: false)
            guard r.status == 200 else { throw graph.classify(r, during: "adding the \(locale) captions to \(post.remoteId)") }
            return "\(post.remoteId):\(locale)"
        }
    }

    /// Facebook names caption languages by its locales (`en_US`): a tag with a region maps to it
    /// (`pt-BR` → `pt_BR`); a bare language to the locale Facebook lists first for it.
    static func locale(_ tag: String) -> String {
        let parts = tag.split(separator: "-").map(String.init)
        let lang = parts.first?.lowercased() ?? ""
        if parts.count > 1, let region = parts.last, region.count == 2 { return lang + "_" + region.uppercased() }
        let usual = [
            "en": "en_US", "es": "es_ES", "pt": "pt_BR", "zh": "zh_CN", "ja": "ja_JP", "ko": "ko_KR", "ar": "ar_AR", "sv": "sv_SE",
            "da": "da_DK", "nb": "nb_NO", "cs": "cs_CZ", "el": "el_GR", "he": "he_IL", "hi": "hi_IN", "uk": "uk_UA", "vi": "vi_VN"
        ]
        return usual[lang] ?? lang + "_" + lang.uppercased()
    }
}

extension FacebookWire {
    struct Captions: Decodable {
        struct Caption: Decodable {
            var locale: String?
            var locale_name: String?
        }
        var data: [Caption]?
    }
}
