import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// A video's captions as the Graph API documents them (reference: Video Captions): `POST /{video-id}/captions`
/// takes `captions_file`, a SubRip file whose name is `filename.{locale}.srt` (the locale, such as
/// `en_US`, is read from the name), with the Page's token; `GET /{video-id}/captions` lists them
/// (`locale`, `locale_name`, `is_default`, `create_time`).
enum FacebookCaptionRoutes {
    typealias G = GraphRoutes

    static func add(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.post("/:version/:id/captions") { req, ctx -> Response in
            await state.count("facebook.captions")
            var req = req
            let contentType = SandboxHTTP.header(req, "Content-Type") ?? ""
            let body = Data(buffer: try await req.collectBody(upTo: 8 << 20))
            // The token may come as a header or as `access_token` in the query, as Graph takes it on every call
            // (Meta's Business SDK puts it in the query of each request, this multipart POST too).
            var query: [String: String] = [:]
            for (k, v) in req.uri.queryParameters { query[String(k)] = String(v).removingPercentEncoding ?? String(v) }
            guard let account = await G.account(req, query, state, platform: "facebook") else { return G.badToken }
            let id = ctx.parameters.get("id") ?? ""
            guard let v = await state.fbVideo(id), v.account == account else {
                return G.graphError(400, "Unsupported post request. Object with ID '\(id)' does not exist", code: 100, subcode: 33)
            }
            guard await FacebookRoutes.isPageToken(req, query, account: account, state: state) else {
                return G.graphError(400, "(#200) A Page access token is required to add captions to this Page's video", code: 200)
            }
            guard let parts = Multipart.parse(body, contentType: contentType),
                let file = parts.first(where: { ($0.headers["content-disposition"] ?? "").contains("name=\"captions_file\"") })
            else {
                return G.graphError(400, "(#100) The parameter captions_file is required", code: 100)
            }
            let disposition = file.headers["content-disposition"] ?? ""
            let filename = disposition.components(separatedBy: "filename=\"").dropFirst().first?.components(separatedBy: "\"").first ?? ""
            // `name.en_US.srt`: SubRip, the locale before the extension.
            let pieces = filename.split(separator: ".").map(String.init)
            guard pieces.count >= 3, pieces.last?.lowercased() == "srt", let locale = pieces.dropLast().last,
                locale.range(of: #"^[a-z]{2,3}_[A-Z]{2}$"#, options: .regularExpression) != nil
            else {
                return G.graphError(400, "(#100) Invalid captions file name '\(filename)': it must be filename.locale.srt, such as reel.en_US.srt", code: 100)
            }
            let text = String(decoding: file.body, as: UTF8.self)
            guard text.contains("-->"), !text.hasPrefix("WEBVTT") else { return G.graphError(400, "(#100) The captions file is not a valid SRT file", code: 100) }
            if let code = await state.takeFollowUpFault() { return G.injected(code) }
            await state.setFBCaption(SandboxTextTrack(id: "\(id):\(locale)", language: locale, name: locale, text: text), video: id)
            if await state.losesFollowUpReply() { return G.injected(503) }
            return SandboxHTTP.json(.ok, ["success": true])
        }
        router.get("/:version/:id/captions") { req, ctx -> Response in
            var req = req
            let p = try await G.params(&req)
            guard let account = await G.account(req, p, state, platform: "facebook") else { return G.badToken }
            let id = ctx.parameters.get("id") ?? ""
            guard let v = await state.fbVideo(id), v.account == account else {
                return G.graphError(400, "Unsupported get request. Object with ID '\(id)' does not exist", code: 100, subcode: 33)
            }
            let data: [[String: Any]] = v.captions.map {
                ["locale": $0.language, "locale_name": $0.language, "is_default": false, "create_time": ISO8601DateFormatter().string(from: Date())]
            }
            return SandboxHTTP.json(.ok, ["data": data, "paging": [:] as [String: Any]])
        }
    }
}
