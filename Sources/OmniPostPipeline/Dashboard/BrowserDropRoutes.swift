import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OmniPostCore

/// The dashboard's Upload page and the tus endpoints behind it (BrowserDrops). Every tus request needs
/// a signed-in session and its CSRF value in `X-CSRF-Token` (a page of another site cannot send that
/// header), or the API's bearer token; the page's script (`/static/upload.js`) is the tus client.
enum BrowserDropRoutes {
    static let tusVersion = "1.0.0"
    static let tusHeaders: HTTPFields = [
        .init("Tus-Resumable")!: tusVersion, .cacheControl: "no-store"
    ]

    static func add(to router: Router<OperatorContext>, box: OperatorBox, access: OperatorAccess, page: @escaping @Sendable (Request, OperatorBox.Entry) -> Response) {
        let resources = Bundle.module.url(forResource: "dashboard", withExtension: nil)!
        let js = (try? Data(contentsOf: resources.appendingPathComponent("upload.js"))) ?? Data()
        router.get("/static/upload.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(data: js)))
        }
        router.get("/upload") { req, _ -> Response in
            guard let o = box.pick(req) else { return OperatorRoutes.notReady }
            return page(req, o)
        }

        @Sendable func answer(_ status: HTTPResponse.Status, _ extra: HTTPFields = [:], _ text: String? = nil) -> Response {
            var h = tusHeaders
            for f in extra { h.append(f) }
            if text != nil { h[.contentType] = "text/plain; charset=utf-8" }
            return Response(status: status, headers: h, body: text.map { .init(byteBuffer: ByteBuffer(string: $0 + "\n")) } ?? .init())
        }
        /// A session with its CSRF header, or the bearer token; and the protocol version tus requires.
        @Sendable func refusal(_ req: Request) -> Response? {
            guard access.bearer(req) || access.mayPost(req, csrf: req.headers[.init("X-CSRF-Token")!]) else {
                return answer(.forbidden, [:], "refused: sign in on the dashboard (its page sends the CSRF value), or send the API's bearer token")
            }
            guard req.headers[.init("Tus-Resumable")!] == tusVersion else {
                return answer(.preconditionFailed, [.init("Tus-Version")!: tusVersion], "this server speaks tus \(tusVersion) (Tus-Resumable)")
            }
            return nil
        }
        /// The pipeline holding upload `id`.
        /// One PATCH per upload at a time: a broken connection's handler may still be writing when the
        /// phone's next PATCH arrives; that one waits, then finds the offset moved and is told (409).
        let patching = KeyedLock()
        @Sendable func holder(_ id: String) -> (OperatorBox.Entry, BrowserDrops)? {
            for o in box.all {
                let drops = BrowserDrops(paths: o.ctx.config.paths)
                if drops.find(id) != nil { return (o, drops) }
            }
            return nil
        }

        router.on("/uploads", method: .options) { req, _ -> Response in
            let room = box.pick(req).map { BrowserDrops(paths: $0.ctx.config.paths).room() } ?? 0
            return answer(
                .noContent,
                [.init("Tus-Version")!: tusVersion, .init("Tus-Extension")!: "creation,termination", .init("Tus-Max-Size")!: "\(room)"])
        }
        router.post("/uploads") { req, _ -> Response in
            if let r = refusal(req) { return r }
            guard let o = box.pick(req) else { return OperatorRoutes.notReady }
            guard let length = req.headers[.init("Upload-Length")!].flatMap({ Int64($0) }), length > 0 else {
                return answer(.badRequest, [:], "Upload-Length must be the clip's size in bytes (deferred lengths are not taken)")
            }
            let drops = BrowserDrops(paths: o.ctx.config.paths)
            let form: BrowserDrops.Form
            do {
                form = try BrowserDrops.form(metadata: req.headers[.init("Upload-Metadata")!] ?? "", config: o.ctx.config)
            } catch let e as OmniError {
                return answer(.badRequest, [:], "\(e.code.rawValue): \(e.message)")
            }
            try FileManager.default.createDirectory(at: drops.folder, withIntermediateDirectories: true)
            guard length <= drops.room() else {
                return answer(.contentTooLarge, [:], "\(length) bytes do not fit: \(drops.room()) are free beside the pipeline's work (1 GiB is kept for it)")
            }
            let u = try drops.create(length: length, form: form)
            return answer(.created, [.location: "/uploads/\(u.id)"])
        }
        router.head("/uploads/:id") { req, c -> Response in
            if let r = refusal(req) { return r }
            guard let id = c.parameters.get("id"), let found = holder(id)?.1.find(id) else { return answer(.notFound) }
            let u = found.upload
            var extra: HTTPFields = [.init("Upload-Offset")!: "\(found.offset)", .init("Upload-Length")!: "\(u.length)"]
            if let stem = u.delivered { extra[.init("OmniPost-Drop")!] = stem }
            return answer(.ok, extra)
        }
        router.patch("/uploads/:id") { req, c -> Response in
            if let r = refusal(req) { return r }
            guard req.headers[.contentType] == "application/offset+octet-stream" else {
                return answer(.unsupportedMediaType, [:], "a PATCH carries Content-Type: application/offset+octet-stream")
            }
            guard let id = c.parameters.get("id"), let held = holder(id) else { return answer(.notFound) }
            let (o, drops) = held
            guard let offset = req.headers[.init("Upload-Offset")!].flatMap({ Int64($0) }) else {
                return answer(.badRequest, [:], "Upload-Offset is missing")
            }
            await patching.lock(id)
            let appended: Result<Int64, any Error>
            do { appended = .success(try await drops.append(id, at: offset, body: req.body)) } catch { appended = .failure(error) }
            await patching.unlock(id)
            let now: Int64
            do {
                now = try appended.get()
            } catch let m as BrowserDrops.OffsetMismatch {
                return answer(.conflict, [.init("Upload-Offset")!: "\(m.held)"], "the upload holds \(m.held) bytes; send from there (HEAD says so)")
            } catch let e as OmniError {
                return answer(.badRequest, [:], e.message)
            }
            var extra: HTTPFields = [.init("Upload-Offset")!: "\(now)"]
            if let u = drops.find(id)?.upload, now == u.length {
                let stem = try drops.deliver(id)
                extra[.init("OmniPost-Drop")!] = stem
                o.ctx.wakeup.ring()
            }
            return answer(.noContent, extra)
        }
        router.delete("/uploads/:id") { req, c -> Response in
            if let r = refusal(req) { return r }
            guard let id = c.parameters.get("id"), let drops = holder(id)?.1 else { return answer(.notFound) }
            return drops.remove(id) ? answer(.noContent) : answer(.notFound)
        }
    }
}
