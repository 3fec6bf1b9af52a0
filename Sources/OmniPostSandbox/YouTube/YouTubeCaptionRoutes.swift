import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// YouTube's caption tracks as the Data API documents them (developers.google.com/youtube/v3/docs/captions):
/// `captions.insert` is an upload (`POST /upload/youtube/v3/captions`, `uploadType=multipart`: the caption
/// resource as JSON, then the file) with `part=snippet`, whose snippet must carry `videoId`, `language`
/// and `name` (150 characters at most, `nameTooLong`); a video of another channel is `videoNotFound`; a
/// second track of the same language and name is `409 captionExists`; a request without the file is
/// `contentRequired`. `captions.list` (`GET /youtube/v3/captions?part=snippet&videoId=`) lists a video's tracks.
enum YouTubeCaptionRoutes {
    static func add(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.post("/upload/youtube/v3/captions") { req, _ -> Response in
            await state.count("youtube.captions.insert")
            return try await insert(req, state: state)
        }
        router.get("/youtube/v3/captions") { req, _ -> Response in
            await state.count("youtube.captions.list")
            guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) else {
                return SandboxHTTP.googleError(401, "authError", "Request had invalid authentication credentials.")
            }
            guard SandboxHTTP.query(req, "part") == "snippet" || SandboxHTTP.query(req, "part") == "id,snippet" || SandboxHTTP.query(req, "part") == "id" else {
                return SandboxHTTP.googleError(400, "required", "Required parameter: part (id or snippet)")
            }
            guard let vid = SandboxHTTP.query(req, "videoId"), let video = await state.allVideos().first(where: { $0.id == vid && $0.account == account }) else {
                return SandboxHTTP.googleError(404, "videoNotFound", "The video identified by the videoId parameter could not be found.")
            }
            return SandboxHTTP.json(.ok, ["kind": "youtube#captionListResponse", "items": (video.captions ?? []).map { resource($0, video: vid) }])
        }
    }

    static func resource(_ t: SandboxTextTrack, video: String) -> [String: Any] {
        [
            "kind": "youtube#caption", "id": t.id,
            "snippet": [
                "videoId": video, "language": t.language, "name": t.name, "trackKind": "standard", "isDraft": false,
                "status": "serving", "lastUpdated": ISO8601DateFormatter().string(from: Date())
            ] as [String: Any]
        ]
    }

    static func insert(_ req: Request, state: SandboxState) async throws -> Response {
        guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) else {
            return SandboxHTTP.googleError(401, "authError", "Request had invalid authentication credentials.")
        }
        guard SandboxHTTP.query(req, "part") == "snippet" else {
            return SandboxHTTP.googleError(400, "required", "Required parameter: part; captions.insert takes part=snippet.")
        }
        guard SandboxHTTP.query(req, "uploadType") == "multipart" else {
            return SandboxHTTP.googleError(400, "invalidParameter", "This sandbox takes captions.insert as uploadType=multipart.")
        }
        var req = req
        let body = Data(buffer: try await req.collectBody(upTo: 100 << 20))
        guard let parts = Multipart.parse(body, contentType: SandboxHTTP.header(req, "Content-Type") ?? ""), let first = parts.first else {
            return SandboxHTTP.googleError(400, "badRequest", "A multipart upload is multipart/related: the caption resource as JSON, then the file.")
        }
        guard parts.count == 2, !parts[1].body.isEmpty else {
            return SandboxHTTP.googleError(400, "contentRequired", "The request does not contain the caption track contents.")
        }
        struct Resource: Decodable {
            struct Snippet: Decodable {
                var videoId: String?
                var language: String?
                var name: String?
            }
            var snippet: Snippet?
        }
        guard let r = try? JSONDecoder().decode(Resource.self, from: first.body), let s = r.snippet else {
            return SandboxHTTP.googleError(400, "invalidMetadata", "The request contains invalid metadata values: a caption resource with a snippet.")
        }
        guard let vid = s.videoId, let video = await state.allVideos().first(where: { $0.id == vid && $0.account == account }) else {
            return SandboxHTTP.googleError(404, "videoNotFound", "The video identified by the videoId parameter could not be found.")
        }
        guard let language = s.language, !language.isEmpty, let name = s.name else {
            return SandboxHTTP.googleError(400, "invalidMetadata", "snippet.language and snippet.name are required.")
        }
        if name.count > 150 { return SandboxHTTP.googleError(400, "nameTooLong", "The snippet.name specified in the request is too long.") }
        if (video.captions ?? []).contains(where: { $0.language.lowercased() == language.lowercased() && $0.name == name }) {
            return SandboxHTTP.googleError(409, "captionExists", "The specified video already has a caption track with the given snippet.language and snippet.name.")
        }
        if let code = await state.takeFollowUpFault() {
            return code == 429 ? SandboxHTTP.googleError(429, "rateLimitExceeded", "Too many requests.") : SandboxHTTP.googleError(code, "backendError", "Backend Error")
        }
        let text = String(decoding: parts[1].body, as: UTF8.self)
        // YouTube reads SubRip, WebVTT and its other formats by content; anything without cue timing it cannot use.
        guard text.contains("-->") else {
            return SandboxHTTP.googleError(400, "invalidMetadata", "The caption track's format could not be recognised.")
        }
        let track = SandboxTextTrack(
            id: SandboxState.randomID(44, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), language: language, name: name, text: text)
        await state.addCaption(track, to: vid)
        if await state.losesFollowUpReply() { return SandboxHTTP.googleError(503, "backendError", "The answer was lost.") }
        return SandboxHTTP.json(.ok, resource(track, video: vid))
    }
}
