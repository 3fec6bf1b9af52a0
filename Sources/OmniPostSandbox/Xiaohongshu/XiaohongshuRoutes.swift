import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// Xiaohongshu's creator center as a replica under `/sandbox/xiaohongshu/` (its pages are
/// `XiaohongshuPages`): the login page and its QR status poll, the publish page, the chunked upload
/// its script makes, publish, the success page and the note manager. Every page but the login page
/// needs the `web_session` cookie of a signed-in account; without one (or once `sessionExpired` is
/// set) it redirects to the login page, as the real site does.
enum XiaohongshuRoutes: SandboxPlatform {
    static let name = "xiaohongshu"
    static let root = "/sandbox/xiaohongshu"

    /// A sandboxed pipeline's account brings a made-up `web_session` cookie: it signs in as that account.
    static func grant(_ credentials: [String: String], account: String, state: isolated SandboxState) {
        guard let session = credentials["sandbox_session"] else { return }
        state.xhsGrant(session: session, account: String(account.split(separator: ":", maxSplits: 1).last ?? ""))
    }

    static func html(_ text: String, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "text/html; charset=utf-8"
        h[.cacheControl] = "no-store"
        return Response(status: .ok, headers: h, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ to: String) -> Response {
        Response(status: .found, headers: [.location: to, .contentLength: "0"])
    }

    static func session(_ req: Request) -> String? {
        for part in (req.headers[.cookie] ?? "").split(separator: ";") {
            let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == "web_session" { return String(kv[1]) }
        }
        return nil
    }

    /// A request's JSON object body as the page's script sends it (an empty one when it is not one).
    static func jsonBody(_ req: Request) async throws -> [String: Any] {
        var req = req
        let body = try await req.collectBody(upTo: 1 << 20)
        return (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        router.get("\(root)/login") { _, _ -> Response in
            let id = await state.xhsNewQR()
            let payload = baseURL() + "\(root)/qr/\(id)"
            return html(XiaohongshuPages.login(qr: id, qrImage: QRCodeSVG.dataURL(payload)))
        }
        // The login page's poll: 0 waiting, 2 confirmed on the phone (the session cookie is set then).
        router.get("\(root)/api/qrcode/status") { req, _ -> Response in
            let id = SandboxHTTP.query(req, "qr_id") ?? ""
            guard let token = await state.xhsQRLogin(id) else { return SandboxHTTP.json(.ok, ["code_status": 0]) }
            return SandboxHTTP.json(.ok, ["code_status": 2], headers: [.setCookie: "web_session=\(token); Path=/; Max-Age=2592000"])
        }
        // What the phone app does when its camera reads the QR (a test calls it): confirms the login as `account`.
        router.post("\(root)/qr/:id/scan") { req, ctx -> Response in
            let account = SandboxHTTP.query(req, "account") ?? "main"
            let ok = await state.xiaohongshuScan(qr: ctx.parameters.get("id") ?? "", account: account)
            return SandboxHTTP.json(ok ? .ok : .notFound, ["scanned": ok])
        }
        router.get("\(root)/publish/publish") { req, _ -> Response in
            await state.count("xiaohongshu.publish_page")
            guard await state.xhsAccount(session: session(req)) != nil else { return redirect("\(root)/login") }
            return html(XiaohongshuPages.publish(await state.xiaohongshuFaults()))
        }
        router.get("\(root)/publish/success") { req, _ -> Response in
            guard await state.xhsAccount(session: session(req)) != nil else { return redirect("\(root)/login") }
            return html(XiaohongshuPages.success(note: XiaohongshuPages.escape(SandboxHTTP.query(req, "note_id") ?? "")))
        }
        router.get("\(root)/new/note-manager") { req, _ -> Response in
            guard let account = await state.xhsAccount(session: session(req)) else { return redirect("\(root)/login") }
            // A note the platform took down leaves the creator's note list.
            var notes: [SandboxState.XiaohongshuNote] = []
            for n in await state.xhsNotes(account: account) where await state.postLife(platform: "xiaohongshu", id: n.id)?.takenDown != true {
                notes.append(n)
            }
            return html(XiaohongshuPages.noteManager(notes))
        }
        router.post("\(root)/api/decoy") { _, _ -> Response in
            await state.xhsDecoyUsed()
            return SandboxHTTP.json(.ok, [:])
        }
        router.post("\(root)/api/upload/init") { req, _ -> Response in
            await state.count("xiaohongshu.upload_init")
            guard let account = await state.xhsAccount(session: session(req)) else { return SandboxHTTP.json(.unauthorized, ["code": "login"]) }
            let j = try await jsonBody(req)
            guard let size = (j["size"] as? NSNumber)?.int64Value, size > 0 else { return SandboxHTTP.json(.badRequest, ["msg": "size is required"]) }
            return SandboxHTTP.json(.ok, ["upload_id": await state.xhsStartUpload(account: account, total: size)])
        }
        router.put("\(root)/api/upload/:id") { req, ctx -> Response in
            guard let account = await state.xhsAccount(session: session(req)) else { return SandboxHTTP.json(.unauthorized, ["code": "login"]) }
            let delay = await state.xiaohongshuFaults().chunkDelayMs
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
            var req = req
            let data = Data(buffer: try await req.collectBody(upTo: 8 << 20))
            let offset = Int64(SandboxHTTP.query(req, "offset") ?? "") ?? -1
            guard let now = await state.xhsChunk(ctx.parameters.get("id") ?? "", account: account, offset: offset, data: data) else {
                return SandboxHTTP.json(.conflict, ["msg": "offset mismatch"])
            }
            return SandboxHTTP.json(.ok, ["received": now])
        }
        router.post("\(root)/api/note/publish") { req, _ -> Response in
            await state.count("xiaohongshu.publish")
            guard let account = await state.xhsAccount(session: session(req)) else { return SandboxHTTP.json(.ok, ["code": "login"]) }
            let j = try await jsonBody(req)
            let r = await state.xhsPublish(
                account: account, upload: j["upload_id"] as? String ?? "", title: j["title"] as? String ?? "",
                description: j["desc"] as? String ?? "", original: j["original"] as? Bool ?? false, duration: (j["duration"] as? NSNumber)?.doubleValue)
            switch r {
            case .note(let id):
                // The note exists from here on, whether or not this answer arrives.
                await state.holdFinalReply()
                return SandboxHTTP.json(.ok, ["note_id": id])
            case .uploadIncomplete: return SandboxHTTP.json(.ok, ["code": "upload", "msg": "视频上传中，请稍后发布"])
            case .captcha: return SandboxHTTP.json(.ok, ["code": "captcha"])
            case .rateLimited: return SandboxHTTP.json(.ok, ["code": "rate", "msg": "操作过于频繁，请稍后再试"])
            case .tooLong(let msg): return SandboxHTTP.json(.ok, ["code": "invalid", "msg": msg])
            }
        }
    }
}
