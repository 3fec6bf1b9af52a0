import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// Vimeo's text tracks as its API documents them (developer.vimeo.com/api/upload/texttracks):
/// `POST /videos/{id}/texttracks` with `type` (captions, subtitles, chapters, descriptions or metadata)
/// and `language` (both required) and an optional `name` answers 201 with the track — inactive, with the
/// `link` its file is PUT to; the file is WebVTT; `PATCH` the track `active: true` once it has its file;
/// `GET /videos/{id}/texttracks` lists them.
enum VimeoTextTrackRoutes {
    typealias V = VimeoRoutes
    static let types = ["captions", "subtitles", "chapters", "descriptions", "metadata"]

    /// The track as Vimeo shows it, with the type it was made with (PyVimeo's `upload_texttrack` makes
    /// `captions`; a track listed again must not turn into `subtitles`).
    static func resource(_ t: SandboxTextTrack, video: String, base: String) -> [String: Any] {
        [
            "uri": "/videos/\(video)/texttracks/\(t.id)", "active": t.active, "type": t.kind ?? "subtitles", "language": t.language, "name": t.name,
            "link": base + "/vimeo/texttracks/\(t.id)"
        ]
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        router.post("/videos/:id/texttracks") { req, ctx -> Response in
            await state.count("vimeo.texttracks")
            guard let account = await V.authorized(req, state: state) else { return V.unauthenticated }
            let id = ctx.parameters.get("id") ?? ""
            guard let v = await state.vimeoVideo(id), v.account == account else { return V.error(.notFound, "The requested video couldn't be found.", code: 5000) }
            var req = req
            let body = Data(buffer: try await req.collectBody(upTo: 64 * 1024))
            let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
            let form = SandboxHTTP.form(ByteBuffer(data: body))
            let type = json["type"] as? String ?? form["type"], language = json["language"] as? String ?? form["language"]
            guard let type, types.contains(type), let language, !language.isEmpty else {
                return V.error(
                    .badRequest, "The parameters passed to this API endpoint didn't pass Vimeo's validation checks.", code: 2204,
                    developer: "type (one of \(types.joined(separator: ", "))) and language are required")
            }
            if let code = await state.takeFollowUpFault() { return V.error(.init(code: code), "Something strange occurred.", code: 9999) }
            let t = SandboxTextTrack(
                id: String(Int.random(in: 10_000_000...99_999_999)), language: language, name: json["name"] as? String ?? form["name"] ?? "", text: "", active: false,
                kind: type)
            await state.addVimeoTextTrack(video: id, t)
            if await state.losesFollowUpReply() { return V.error(.serviceUnavailable, "The answer was lost.", code: 9999) }
            return SandboxHTTP.json(.created, resource(t, video: id, base: baseURL()), headers: V.limits())
        }
        router.get("/videos/:id/texttracks") { req, ctx -> Response in
            guard let account = await V.authorized(req, state: state) else { return V.unauthenticated }
            let id = ctx.parameters.get("id") ?? ""
            guard let v = await state.vimeoVideo(id), v.account == account else { return V.error(.notFound, "The requested video couldn't be found.", code: 5000) }
            let data = (v.textTracks ?? []).map { resource($0, video: id, base: baseURL()) }
            return SandboxHTTP.json(.ok, ["total": data.count, "data": data], headers: V.limits())
        }
        router.put("/vimeo/texttracks/:track") { req, ctx -> Response in
            let tid = ctx.parameters.get("track") ?? ""
            guard let v = await state.vimeoVideo(textTrack: tid) else { return V.error(.notFound, "The requested text track couldn't be found.", code: 5000) }
            var req = req
            let text = String(decoding: Data(buffer: try await req.collectBody(upTo: 8 << 20)), as: UTF8.self)
            guard text.hasPrefix("WEBVTT") || text.hasPrefix("\u{FEFF}WEBVTT") else {
                return V.error(.badRequest, "The text track is not a WebVTT file.", code: 2204)
            }
            _ = await state.updateVimeoTextTrack(video: v.id, tid) { $0.text = text }
            return SandboxHTTP.json(.ok, [:])
        }
        router.patch("/videos/:id/texttracks/:track") { req, ctx -> Response in
            guard let account = await V.authorized(req, state: state) else { return V.unauthenticated }
            let id = ctx.parameters.get("id") ?? "", tid = ctx.parameters.get("track") ?? ""
            guard let v = await state.vimeoVideo(id), v.account == account, let t = v.textTracks?.first(where: { $0.id == tid }) else {
                return V.error(.notFound, "The requested text track couldn't be found.", code: 5000)
            }
            var req = req
            let body = Data(buffer: try await req.collectBody(upTo: 64 * 1024))
            let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
            let active = (json?["active"] as? Bool) ?? (SandboxHTTP.form(ByteBuffer(data: body))["active"] == "true")
            if active && t.text.isEmpty { return V.error(.badRequest, "The text track has no file yet; PUT it to the track's link first.", code: 2204) }
            let now = await state.updateVimeoTextTrack(video: id, tid) { $0.active = active }
            return SandboxHTTP.json(.ok, resource(now ?? t, video: id, base: baseURL()), headers: V.limits())
        }
    }
}
