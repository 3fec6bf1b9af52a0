import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// What every creator-page replica serves the same way (`CreatorReplica` holds its state): the login
/// page's QR and its status poll (the session cookie set once the phone confirms), the phone's scan (a
/// test calls it), a decoy's report, the chunked upload the page's script makes (init, then PUTs at
/// offsets), and the publish its script asks. The pages themselves are each platform's own.
struct ReplicaRoutes: Sendable {
    /// The platform's name (the replica's key, and its request counters' prefix).
    var platform: String
    /// Where its pages are: `/sandbox/<platform>`.
    var root: String
    /// The session cookie the platform's pages read (Xiaohongshu's `web_session`, WeChat's `sessionid`).
    var cookie: String
    /// Where the page's script asks to publish, under `root`.
    var publishPath: String
    var limits: SandboxState.ReplicaLimits

    static func html(_ text: String, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "text/html; charset=utf-8"
        h[.cacheControl] = "no-store"
        return Response(status: .ok, headers: h, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ to: String) -> Response {
        Response(status: .found, headers: [.location: to, .contentLength: "0"])
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// The login page's poll of its QR code (every 300 ms): once the phone confirmed, the page goes to `landing`.
    static func loginPoll(root: String, qr: String, landing: String) -> String {
        """
        <script>
        setInterval(async () => {
          const r = await fetch('\(root)/api/qrcode/status?qr_id=\(qr)');
          const j = await r.json();
          if (j.code_status === 2) location.href = '\(landing)';
        }, 300);
        </script>
        """
    }

    /// A post's length as a content list shows it (m:ss), empty when unknown.
    static func duration(_ seconds: Double?) -> String {
        seconds.map { Int($0.rounded()) }.map { String(format: "%d:%02d", $0 / 60, $0 % 60) } ?? ""
    }

    /// The session cookie's value, if the request carries one.
    func session(_ req: Request) -> String? {
        for part in (req.headers[.cookie] ?? "").split(separator: ";") {
            let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == cookie { return String(kv[1]) }
        }
        return nil
    }

    /// The signed-in account behind a request, or nil (no cookie, an unknown one, every session ended).
    func account(_ req: Request, _ state: SandboxState) async -> String? { await state.replicaAccount(platform, session: session(req)) }

    /// A request's JSON object body as the page's script sends it (an empty one when it is not one).
    static func jsonBody(_ req: Request) async throws -> [String: Any] {
        var req = req
        let body = try await req.collectBody(upTo: 1 << 20)
        return (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }

    /// A sandboxed pipeline's account brings a made-up session cookie (`sandbox_session`): it signs in as that account.
    func grant(_ credentials: [String: String], account: String, state: isolated SandboxState) {
        guard let session = credentials["sandbox_session"] else { return }
        state.replicaGrant(platform, session: session, account: String(account.split(separator: ":", maxSplits: 1).last ?? ""))
    }

    /// The login page (`login(qrID, qrImage)` draws it) at `loginPath`, and the routes every replica shares.
    func add(
        to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String, loginPath: String,
        login: @escaping @Sendable (String, String) -> String
    ) {
        let r = self
        // An empty `loginPath`: the platform's own route serves its login page (a site's root).
        if !loginPath.isEmpty {
            router.get("\(root)\(loginPath)") { _, _ -> Response in
                let id = await state.replicaNewQR(r.platform)
                return Self.html(login(id, QRCodeSVG.dataURL(baseURL() + "\(r.root)/qr/\(id)")))
            }
        }
        // The login page's poll: 0 waiting, 2 confirmed on the phone (the session cookie is set then).
        router.get("\(root)/api/qrcode/status") { req, _ -> Response in
            let id = SandboxHTTP.query(req, "qr_id") ?? ""
            guard let token = await state.replicaQRLogin(r.platform, id) else { return SandboxHTTP.json(.ok, ["code_status": 0]) }
            return SandboxHTTP.json(.ok, ["code_status": 2], headers: [.setCookie: "\(r.cookie)=\(token); Path=/; Max-Age=2592000"])
        }
        // What the phone app does when its camera reads the QR (a test calls it): confirms the login as `account`.
        router.post("\(root)/qr/:id/scan") { req, ctx -> Response in
            let account = SandboxHTTP.query(req, "account") ?? "main"
            let ok = await state.replicaScan(r.platform, qr: ctx.parameters.get("id") ?? "", account: account)
            return SandboxHTTP.json(ok ? .ok : .notFound, ["scanned": ok])
        }
        router.post("\(root)/api/decoy") { _, _ -> Response in
            await state.replicaDecoyUsed(r.platform)
            return SandboxHTTP.json(.ok, [:])
        }
        router.post("\(root)/api/upload/init") { req, _ -> Response in
            await state.count("\(r.platform).upload_init")
            guard let account = await r.account(req, state) else { return SandboxHTTP.json(.unauthorized, ["code": "login"]) }
            let j = try await Self.jsonBody(req)
            guard let size = (j["size"] as? NSNumber)?.int64Value, size > 0 else { return SandboxHTTP.json(.badRequest, ["msg": "size is required"]) }
            return SandboxHTTP.json(.ok, ["upload_id": await state.replicaStartUpload(r.platform, account: account, total: size)])
        }
        router.put("\(root)/api/upload/:id") { req, ctx -> Response in
            guard let account = await r.account(req, state) else { return SandboxHTTP.json(.unauthorized, ["code": "login"]) }
            let delay = await state.replicaFaults(r.platform).chunkDelayMs
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
            var req = req
            let data = Data(buffer: try await req.collectBody(upTo: 8 << 20))
            let offset = Int64(SandboxHTTP.query(req, "offset") ?? "") ?? -1
            guard let now = await state.replicaChunk(r.platform, ctx.parameters.get("id") ?? "", account: account, offset: offset, data: data) else {
                return SandboxHTTP.json(.conflict, ["msg": "offset mismatch"])
            }
            return SandboxHTTP.json(.ok, ["received": now])
        }
        router.post("\(root)\(publishPath)") { req, _ -> Response in
            await state.count("\(r.platform).publish")
            guard let account = await r.account(req, state) else { return SandboxHTTP.json(.ok, ["code": "login"]) }
            let j = try await Self.jsonBody(req)
            let extras = (j["extras"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
            let published = await state.replicaPublish(
                r.platform, limits: r.limits, account: account, upload: j["upload_id"] as? String ?? "", title: j["title"] as? String ?? "",
                description: j["desc"] as? String ?? "", original: j["original"] as? Bool ?? false, duration: (j["duration"] as? NSNumber)?.doubleValue,
                extras: extras)
            switch published {
            case .post(let id):
                // The post exists from here on, whether or not this answer arrives.
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
