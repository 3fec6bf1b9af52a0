import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// A tus 1.0 server under `/tus/files/` (tus.io/protocols/resumable-upload): core protocol, creation,
/// checksum (sha1, sha256; 460 on a mismatch, the bytes dropped), expiration (410 for an upload that
/// expired) and termination. `Tus-Resumable: 1.0.0` is required (412 otherwise); a `PATCH` at another
/// offset than the server's is 409; `Content-Type` must be `application/offset+octet-stream` (415).
/// Vimeo's upload links are uploads on this same server. Faults: `failInits` on creation; `failChunks`
/// keeps half of the next PATCH's bytes and answers that status (a cut mid-transfer); `redirectChunks`
/// answers the next PATCH 307 to that Location without reading it; `youtubePutDelayMs`
/// slows every PATCH (counted in `stats.putsInFlight`); `finalReplyDelayMs` holds the reply to the
/// PATCH that completes an upload.
enum TusRoutes: SandboxPlatform {
    static var common: HTTPFields { [HTTPField.Name("Tus-Resumable")!: "1.0.0", .cacheControl: "no-store"] }

    static func reply(_ status: HTTPResponse.Status, _ extra: HTTPFields = [:], body: String = "") -> Response {
        var h = common
        for f in extra { h[f.name] = f.value }
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func resumable(_ req: Request) -> Response? {
        if req.method == .options { return nil }
        guard SandboxHTTP.header(req, "Tus-Resumable") == "1.0.0" else {
            return reply(.preconditionFailed, [HTTPField.Name("Tus-Version")!: "1.0.0"], body: "Tus-Resumable: 1.0.0 is required")
        }
        return nil
    }

    /// `Upload-Metadata`: `key base64value,key2 base64value2` (a key may have no value).
    static func metadata(_ header: String?) -> [String: String] {
        var out: [String: String] = [:]
        for pair in (header ?? "").split(separator: ",") {
            let kv = pair.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
            guard let k = kv.first else { continue }
            out[String(k)] = kv.count == 2 ? Data(base64Encoded: String(kv[1])).map { String(decoding: $0, as: UTF8.self) } ?? "" : ""
        }
        return out
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        // `/tus/files` and `/tus/files/` are one route to the router.
        router.on("/tus/files", method: .options) { _, _ in optionsReply() }
        router.post("/tus/files") { req, _ in try await create(req, state: state, baseURL: baseURL) }
        router.head("/tus/files/:id") { req, ctx -> Response in
            if let r = resumable(req) { return r }
            guard let u = await state.tusUpload(ctx.parameters.get("id") ?? "") else { return reply(.notFound) }
            if u.expired { return reply(.gone) }
            // A finished upload the server has since removed (termination, its own expiry) is gone.
            if await state.postLife(platform: "tus", id: u.id)?.takenDown == true { return reply(.notFound) }
            return reply(.ok, [HTTPField.Name("Upload-Offset")!: String(u.offset), HTTPField.Name("Upload-Length")!: String(u.length)])
        }
        router.delete("/tus/files/:id") { req, ctx -> Response in
            if let r = resumable(req) { return r }
            await state.count("tus.delete")
            return reply(.noContent)
        }
        router.patch("/tus/files/:id") { req, ctx -> Response in
            if let r = resumable(req) { return r }
            await state.count("tus.patch")
            let id = ctx.parameters.get("id") ?? ""
            // `redirectChunks`: answered before the body is read, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state) {
                var tus = moved
                for f in common { tus.headers[f.name] = f.value }
                return tus
            }
            return try await state.sessionLocks.withLock(id) { try await patch(req, id: id, state: state) }
        }
    }

    static func optionsReply() -> Response {
        reply(
            .noContent,
            [
                HTTPField.Name("Tus-Version")!: "1.0.0", HTTPField.Name("Tus-Extension")!: "creation,checksum,expiration,termination",
                HTTPField.Name("Tus-Checksum-Algorithm")!: "sha1,sha256", HTTPField.Name("Tus-Max-Size")!: String(Int64(1) << 40)
            ])
    }

    static func create(_ req: Request, state: SandboxState, baseURL: @escaping @Sendable () -> String) async throws -> Response {
        if let r = resumable(req) { return r }
        await state.count("tus.create")
        // `redirectStarts`: answered before anything else is done for the request, as a proxy in front of the server would.
        if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
        if let f = await state.takeInitFault() {
            switch f {
            case .rateLimited(let after): return reply(.tooManyRequests, [.retryAfter: String(after)])
            case .status(let code): return reply(.init(code: code), body: "injected fault")
            }
        }
        guard let length = SandboxHTTP.header(req, "Upload-Length").flatMap({ Int64($0) }), length >= 0 else {
            return reply(.badRequest, body: "Upload-Length is required")
        }
        if length > Int64(1) << 40 { return reply(.contentTooLarge) }
        let u = try await state.createTusUpload(length: length, metadata: metadata(SandboxHTTP.header(req, "Upload-Metadata")))
        // Relative ("This URL MAY be absolute or relative", tus 1.0 § Creation): the upload is then on the
        // listener the client created it on, HTTPS when it came over HTTPS.
        return reply(.created, [.location: "/tus/files/" + u.id])
    }

    static func patch(_ req: Request, id: String, state: SandboxState) async throws -> Response {
        guard let u = await state.tusUpload(id) else { return reply(.notFound) }
        if u.expired { return reply(.gone) }
        guard (SandboxHTTP.header(req, "Content-Type") ?? "").lowercased().hasPrefix("application/offset+octet-stream") else {
            return reply(.unsupportedMediaType, body: "Content-Type must be application/offset+octet-stream")
        }
        guard let offset = SandboxHTTP.header(req, "Upload-Offset").flatMap({ Int64($0) }), offset == u.offset else {
            return reply(.conflict, [HTTPField.Name("Upload-Offset")!: String(u.offset)], body: "Upload-Offset does not match the server's")
        }
        await state.putStarted()
        defer { Task { await state.putEnded() } }
        let delay = await state.faults.youtubePutDelayMs
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        var req = req
        let data = Data(buffer: try await req.collectBody(upTo: 1 << 30))
        if offset + Int64(data.count) > u.length { return reply(.badRequest, body: "the bytes go past Upload-Length") }
        if let sum = SandboxHTTP.header(req, "Upload-Checksum") {
            let parts = sum.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, ["sha1", "sha256"].contains(parts[0]) else { return reply(.badRequest, body: "unsupported checksum algorithm") }
            let got = parts[0] == "sha1" ? Data(Insecure.SHA1.hash(data: data)) : Data(SHA256.hash(data: data))
            if got.base64EncodedString() != parts[1] { return reply(.init(code: 460), body: "Checksum Mismatch") }
            await state.count("tus.patch.\(parts[0])")
        }
        if let code = await state.takeChunkFault() {
            // A transfer cut mid-way: what arrived before the cut is kept, as tus servers keep it.
            _ = try await state.appendTus(id, data.prefix(data.count / 2))
            return reply(.init(code: code), body: "injected fault")
        }
        let next = try await state.appendTus(id, data)
        if next == u.length { await state.holdFinalReply() }
        return reply(.noContent, [HTTPField.Name("Upload-Offset")!: String(next)])
    }
}
