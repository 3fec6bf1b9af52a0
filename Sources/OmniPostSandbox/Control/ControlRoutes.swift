import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// The sandbox's own API (not any platform's): what was published, fault injection, revocation,
/// and a watch page serving the received bytes — so users and tests can see what arrived.
enum ControlRoutes {
    static func add(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.get("/sandbox/videos") { _, _ -> Response in
            let videos = await state.allVideos()
            let data = try JSONCoding.encoder().encode(["videos": videos])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        // Which sandbox this is (its folder): a command run beside the daemon makes sure the port it
        // remembered is its pipeline's sandbox before using it.
        router.get("/sandbox/identity") { _, _ -> Response in
            SandboxHTTP.json(.ok, ["root": state.root.standardizedFileURL.path])
        }
        router.get("/sandbox/stats") { _, _ -> Response in
            let data = try JSONCoding.encoder().encode(await state.stats)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        // An account registered as a developer console would (its app and refresh token), and what its
        // owner hands a platform besides (`grant`): for a sandbox in a process of its own, wired to a
        // pipeline from outside as `EmbeddedSandbox` wires its own.
        router.post("/sandbox/accounts") { req, _ -> Response in
            struct Registration: Decodable {
                var platform, name, clientId, clientSecret, refreshToken: String
                enum CodingKeys: String, CodingKey {
                    case platform, name
                    case clientId = "client_id", clientSecret = "client_secret", refreshToken = "refresh_token"
                }
            }
            var req = req
            guard let r = try? JSONDecoder().decode(Registration.self, from: Data(buffer: try await req.collectBody(upTo: 64 * 1024))) else {
                return SandboxHTTP.json(.badRequest, ["error": "platform, name, client_id, client_secret and refresh_token are required"])
            }
            await state.register(.init(platform: r.platform, name: r.name, clientID: r.clientId, clientSecret: r.clientSecret, refreshToken: r.refreshToken))
            return SandboxHTTP.json(.ok, ["ok": true])
        }
        router.post("/sandbox/grants") { req, _ -> Response in
            struct Grant: Decodable {
                var platform, account: String
                var credentials: [String: String]
            }
            var req = req
            // The credentials' names as the settings give them (`access_key_id`): read as they are.
            guard let g = try? JSONDecoder().decode(Grant.self, from: Data(buffer: try await req.collectBody(upTo: 64 * 1024))) else {
                return SandboxHTTP.json(.badRequest, ["error": "platform, account and credentials are required"])
            }
            await state.grant(platform: g.platform, account: g.account, g.credentials)
            return SandboxHTTP.json(.ok, ["ok": true])
        }
        router.post("/sandbox/faults") { req, _ -> Response in
            var req = req
            let body = try await req.collectBody(upTo: 64 * 1024)
            let faults = try JSONCoding.decoder().decode(SandboxState.Faults.self, from: Data(buffer: body))
            await state.setFaults(faults)
            return SandboxHTTP.json(.ok, ["ok": true])
        }
        router.post("/sandbox/revoke") { req, _ -> Response in
            var req = req
            let form = SandboxHTTP.form(try await req.collectBody(upTo: 64 * 1024))
            if let key = form["account"] {
                await state.revoke(account: key)
            } else if let rt = form["refresh_token"] {
                await state.revoke(refreshToken: rt)
            } else {
                return SandboxHTTP.json(.badRequest, ["error": "account (platform:name) or refresh_token required"])
            }
            return SandboxHTTP.json(.ok, ["ok": true])
        }
        router.get("/watch") { req, _ -> Response in
            guard let id = SandboxHTTP.query(req, "v"), let v = await state.allVideos().first(where: { $0.id == id }),
                let data = FileManager.default.contents(atPath: v.path)
            else {
                return SandboxHTTP.json(.notFound, ["error": "no such video"])
            }
            return Response(status: .ok, headers: [.contentType: "video/mp4"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        // A plain sink: the bytes of one request body, streamed to a file. The baseline `make bench`
        // measures a platform upload against (curl sending the same bytes to the same server).
        router.put("/sandbox/sink") { req, _ -> Response in
            let file = state.root.appendingPathComponent("sink.bin")
            try FileManager.default.createDirectory(at: state.root, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
            let h = try FileHandle(forWritingTo: file)
            var n = 0
            for try await chunk in req.body {
                n += chunk.readableBytes
                try chunk.withUnsafeReadableBytes { try h.write(contentsOf: $0) }
            }
            try h.close()
            return SandboxHTTP.json(.ok, ["bytes": n])
        }
        router.get("/healthz") { _, _ in "ok" }
        // A chat or push receiver (Slack, Discord, ntfy): what arrives is kept; one set down answers 503.
        router.post("/sandbox/capture/:name") { req, ctx -> Response in
            let name = ctx.parameters.get("name") ?? ""
            var req = req
            let body = try await req.collectBody(upTo: 1 << 20)
            guard await !state.captureDown.contains(name) else { return SandboxHTTP.json(.serviceUnavailable, ["error": "down"]) }
            await state.capture(name, title: SandboxHTTP.header(req, "Title"), body: String(buffer: body))
            return SandboxHTTP.json(.ok, ["ok": true])
        }
    }
}

import OmniPostCore
