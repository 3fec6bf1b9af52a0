import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// Vimeo's API as its upload flow uses it (developer.vimeo.com/api/upload/videos): `POST /me/videos`
/// with `upload.approach = tus` makes the video and answers its tus `upload_link` (an upload on the
/// sandbox's tus server); `GET /videos/{id}` says `upload.status` (in_progress → complete once every
/// byte arrived) and `transcode.status` (in_progress → complete, or error: developer.vimeo.com/api/upload/videos
/// "Verifying the upload"); `GET /me/videos` lists the account's videos (paged, `sort=date`,
/// `direction`); `PUT /videos/{id}/tags`; `DELETE /videos/{id}`. Bearer tokens that never expire;
/// errors as Vimeo's JSON (`error`, `error_code`, `developer_message`); `X-RateLimit-*` on every answer,
/// `rateLimitInits` answered 429 with the reset as Vimeo gives it (a date).
enum VimeoRoutes: SandboxPlatform {
    static func error(_ status: HTTPResponse.Status, _ message: String, code: Int, developer: String = "", headers: HTTPFields = [:]) -> Response {
        SandboxHTTP.json(status, ["error": message, "error_code": code, "developer_message": developer.isEmpty ? message : developer], headers: headers)
    }

    static func limits(remaining: Int = 99, reset: Date = Date().addingTimeInterval(60)) -> HTTPFields {
        let f = ISO8601DateFormatter()
        return [
            HTTPField.Name("X-RateLimit-Limit")!: "100", HTTPField.Name("X-RateLimit-Remaining")!: String(remaining),
            HTTPField.Name("X-RateLimit-Reset")!: f.string(from: reset)
        ]
    }

    static func resource(_ v: SandboxState.VimeoVideo, base: String) -> [String: Any] {
        let transcode = v.transcode
        // `status` as Vimeo words it: uploading, then transcoding, then available (or transcoding_error).
        let status = !v.complete ? "uploading" : transcode == "error" ? "transcoding_error" : transcode == "complete" ? "available" : "transcoding"
        return [
            "uri": "/videos/\(v.id)", "link": base + "/vimeo/\(v.id)", "name": v.name, "description": v.description.isEmpty ? NSNull() : v.description,
            "privacy": ["view": v.privacy], "status": status, "created_time": timestamp(v.created),
            "upload": ["approach": "tus", "upload_link": base + "/tus/files/\(v.uploadID)", "size": v.size, "status": v.complete ? "complete" : "in_progress"],
            "transcode": ["status": transcode], "tags": v.tags.map { ["name": $0] },
            "metadata": ["connections": ["pictures": ["uri": "/videos/\(v.id)/pictures", "options": ["GET", "POST"], "total": v.pictures?.count ?? 0]]]
        ]
    }

    /// A picture as Vimeo describes one: its URI under the video, whether it is the thumbnail shown, and
    /// (while it has no image) the link its image is PUT to.
    static func picture(_ p: SandboxState.VimeoPicture, video: String, base: String) -> [String: Any] {
        [
            "uri": "/videos/\(video)/pictures/\(p.id)", "active": p.active, "type": "custom",
            "link": base + "/vimeo/pictures/\(p.id)", "resource_key": p.id
        ]
    }

    /// Vimeo's timestamps: ISO 8601 with a numeric offset (`2026-01-05T10:00:00+00:00`).
    static func timestamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withColonSeparatorInTimeZone]
        return f.string(from: d).replacingOccurrences(of: "Z", with: "+00:00")
    }

    static func authorized(_ req: Request, state: SandboxState) async -> String? {
        let header = SandboxHTTP.header(req, "Authorization").map { $0.hasPrefix("bearer ") ? "Bearer " + $0.dropFirst(7) : $0 }
        guard let account = await state.account(forBearer: header), account.hasPrefix("vimeo:") else { return nil }
        return account
    }

    static let unauthenticated = error(.unauthorized, "You must provide a valid authenticated access token.", code: 8003)

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        // Connecting an account: the code for a token that does not expire (client in HTTP Basic).
        router.post("/vimeo/oauth/access_token") { req, _ -> Response in
            await state.count("vimeo.token")
            var req = req
            var form = SandboxHTTP.form(try await req.collectBody(upTo: 64 * 1024))
            form["platform"] = "vimeo"
            let (clientID, secret) = SandboxHTTP.basicClient(req) ?? ("", "")
            if let r = await ConsentRoutes.codeGrant(form, clientID: clientID, secret: secret, state: state, lasting: true) { return r }
            return error(.badRequest, "An unknown error occurred.", code: 2201, developer: "grant_type must be authorization_code")
        }
        router.get("/me") { req, _ -> Response in
            guard let account = await authorized(req, state: state) else { return unauthenticated }
            let name = String(account.dropFirst("vimeo:".count))
            return SandboxHTTP.json(
                .ok, ["uri": "/users/" + (await state.userID(account, length: 9)), "name": name, "link": baseURL() + "/vimeo/user/" + name],
                headers: limits())
        }
        router.post("/me/videos") { req, _ -> Response in
            await state.count("vimeo.create")
            // `redirectStarts`: answered before anything else is done for the request, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
            guard let account = await authorized(req, state: state) else { return unauthenticated }
            if let f = await state.takeInitFault() {
                switch f {
                case .rateLimited(let after):
                    var h = limits(remaining: 0, reset: Date().addingTimeInterval(Double(after)))
                    h[.retryAfter] = String(after)
                    return error(.tooManyRequests, "Too many API requests.", code: 9000, headers: h)
                case .status(let code): return error(.init(code: code), "Something strange occurred.", code: 9999)
                }
            }
            var req = req
            let body = try await req.collectBody(upTo: 1 << 20)
            guard let json = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any],
                let upload = json["upload"] as? [String: Any]
            else {
                return error(.badRequest, "The parameters passed to this API endpoint didn't pass Vimeo's validation checks.", code: 2204, developer: "upload is required")
            }
            guard upload["approach"] as? String == "tus" else {
                return error(
                    .badRequest, "The parameters passed to this API endpoint didn't pass Vimeo's validation checks.", code: 2204,
                    developer: "this sandbox takes upload.approach = tus")
            }
            let size = (upload["size"] as? NSNumber)?.int64Value ?? Int64(upload["size"] as? String ?? "") ?? 0
            guard size > 0 else {
                return error(
                    .badRequest, "The parameters passed to this API endpoint didn't pass Vimeo's validation checks.", code: 2204,
                    developer: "upload.size must be the file's size in bytes")
            }
            let privacy = ((json["privacy"] as? [String: Any])?["view"] as? String) ?? "anybody"
            guard ["anybody", "nobody", "unlisted", "contacts", "disable", "password", "users"].contains(privacy) else {
                return error(
                    .badRequest, "The parameters passed to this API endpoint didn't pass Vimeo's validation checks.", code: 2204,
                    developer: "privacy.view '\(privacy)' is not one Vimeo knows")
            }
            let name = json["name"] as? String ?? "Untitled"
            if name.count > 128 {
                return error(
                    .badRequest, "The parameters passed to this API endpoint didn't pass Vimeo's validation checks.", code: 2204, developer: "name is longer than 128 characters")
            }
            let v = try await state.createVimeoVideo(account: account, name: name, description: json["description"] as? String ?? "", privacy: privacy, size: size)
            await state.holdFinalReply()
            return SandboxHTTP.json(.ok, resource(v, base: baseURL()), headers: limits())
        }
        router.get("/me/videos") { req, _ -> Response in
            await state.count("vimeo.list")
            guard let account = await authorized(req, state: state) else { return unauthenticated }
            let q = req.uri.queryParameters
            let perPage = min(100, max(1, Int(q.get("per_page") ?? "") ?? 25)), page = max(1, Int(q.get("page") ?? "") ?? 1)
            var all = await state.vimeoVideos(of: account)
            if q.get("direction") == "asc" { all.reverse() }
            let slice = all.dropFirst((page - 1) * perPage).prefix(perPage)
            let last = max(1, (all.count + perPage - 1) / perPage)
            func at(_ n: Int) -> String { "/me/videos?page=\(n)&per_page=\(perPage)" }
            return SandboxHTTP.json(
                .ok,
                [
                    "total": all.count, "page": page, "per_page": perPage,
                    "paging": [
                        "next": page < last ? at(page + 1) : NSNull(), "previous": page > 1 ? at(page - 1) : NSNull(),
                        "first": at(1), "last": at(last)
                    ] as [String: Any],
                    "data": slice.map { resource($0, base: baseURL()) }
                ], headers: limits())
        }
        router.get("/videos/:id") { req, ctx -> Response in
            await state.count("vimeo.get")
            guard let account = await authorized(req, state: state) else { return unauthenticated }
            guard let v = await state.vimeoVideo(ctx.parameters.get("id") ?? ""), v.account == account else {
                return error(.notFound, "The requested video couldn't be found.", code: 5000)
            }
            guard let read = await readBack(v, resource(v, base: baseURL()), state: state) else {
                return error(.notFound, "The requested video couldn't be found.", code: 5000)
            }
            return SandboxHTTP.json(.ok, read, headers: limits())
        }
        router.put("/videos/:id/tags") { req, ctx -> Response in
            guard let account = await authorized(req, state: state) else { return unauthenticated }
            let id = ctx.parameters.get("id") ?? ""
            guard let v = await state.vimeoVideo(id), v.account == account else { return error(.notFound, "The requested video couldn't be found.", code: 5000) }
            var req = req
            let body = try await req.collectBody(upTo: 1 << 20)
            await state.count("vimeo.tags")
            if let code = await state.takeFollowUpFault() {
                if code == 429 {
                    var h = limits(remaining: 0, reset: Date().addingTimeInterval(2))
                    h[.retryAfter] = "2"
                    return error(.tooManyRequests, "Too many API requests.", code: 9000, headers: h)
                }
                return error(.init(code: code), "Something strange occurred.", code: 9999)
            }
            let tags = ((try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
            await state.setVimeoTags(id, tags)
            return SandboxHTTP.json(.ok, ["data": tags.map { ["name": $0] }, "total": tags.count], headers: limits())
        }
        // Custom thumbnails, as Vimeo's "Working with thumbnail uploads" and PyVimeo's `upload_picture` do
        // it: create the picture, PUT the image to its link, PATCH it active.
        router.post("/videos/:id/pictures") { req, ctx -> Response in
            await state.count("vimeo.pictures")
            guard let account = await authorized(req, state: state) else { return unauthenticated }
            let id = ctx.parameters.get("id") ?? ""
            guard let v = await state.vimeoVideo(id), v.account == account, let p = await state.addVimeoPicture(video: id) else {
                return error(.notFound, "The requested video couldn't be found.", code: 5000)
            }
            return SandboxHTTP.json(.created, picture(p, video: id, base: baseURL()), headers: limits())
        }
        router.put("/vimeo/pictures/:picture") { req, ctx -> Response in
            let pid = ctx.parameters.get("picture") ?? ""
            guard let v = await state.vimeoVideo(picture: pid) else { return error(.notFound, "The requested picture couldn't be found.", code: 5000) }
            var req = req
            let body = Data(buffer: try await req.collectBody(upTo: 32 << 20))
            // Vimeo takes JPEG, PNG and GIF thumbnails.
            let magic = [UInt8](body.prefix(4))
            guard magic.starts(with: [0xFF, 0xD8]) || magic == [0x89, 0x50, 0x4E, 0x47] || magic.starts(with: [0x47, 0x49, 0x46]) else {
                return error(.badRequest, "The picture is not a JPEG, PNG or GIF image.", code: 2204)
            }
            await state.setVimeoPictureImage(video: v.id, picture: pid, sha256: FileHashing.sha256(data: body))
            return SandboxHTTP.json(.ok, [:])
        }
        router.patch("/videos/:id/pictures/:picture") { req, ctx -> Response in
            guard let account = await authorized(req, state: state) else { return unauthenticated }
            let id = ctx.parameters.get("id") ?? "", pid = ctx.parameters.get("picture") ?? ""
            guard let v = await state.vimeoVideo(id), v.account == account else { return error(.notFound, "The requested video couldn't be found.", code: 5000) }
            var req = req
            let body = Data(buffer: try await req.collectBody(upTo: 64 * 1024))
            // JSON (`{"active": true}`) or a form (`active=true`, what PyVimeo's `data=` sends).
            let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
            let active = (json?["active"] as? Bool) ?? ((json?["active"] as? String) == "true") || SandboxHTTP.form(ByteBuffer(data: body))["active"] == "true"
            guard active else { return error(.badRequest, "Only `active: true` is understood here.", code: 2204) }
            guard let p = await state.activateVimeoPicture(video: id, picture: pid) else {
                return error(.notFound, "The requested picture couldn't be found.", code: 5000)
            }
            return SandboxHTTP.json(.ok, picture(p, video: id, base: baseURL()), headers: limits())
        }
        VimeoTextTrackRoutes.add(to: router, state: state, baseURL: baseURL)
        router.delete("/videos/:id") { req, ctx -> Response in
            guard let account = await authorized(req, state: state) else { return unauthenticated }
            let id = ctx.parameters.get("id") ?? ""
            guard let v = await state.vimeoVideo(id), v.account == account else { return error(.notFound, "The requested video couldn't be found.", code: 5000) }
            await state.deleteVimeoVideo(id)
            return SandboxHTTP.empty(.noContent)
        }
    }
}
