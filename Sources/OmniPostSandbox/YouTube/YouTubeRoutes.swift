import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// YouTube Data API v3 resumable `videos.insert` (PLATFORMS.md): init → 200 + Location; PUT chunks with
/// Content-Range → 308 + Range; last chunk → 201 + video resource; `bytes */T` asks for the status;
/// an expired session is 404. Query parameters may come in any order.
enum YouTubeRoutes: SandboxPlatform {
    static let chunkGranularity: Int64 = 262_144
    static let path = "/upload/youtube/v3/videos"

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        // Google's token endpoint (`/token`) is YouTube's.
        TokenRoutes.add(to: router, state: state)
        YouTubeCaptionRoutes.add(to: router, state: state)
        YouTubePlaylistRoutes.add(to: router, state: state)
        YouTubeCommentRoutes.add(to: router, state: state)
        router.post(RouterPath(path)) { req, _ -> Response in
            await state.count("youtube.init")
            // `redirectStarts`: answered before anything else is done for the request, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
            return try await initUpload(req, state: state, baseURL: baseURL())
        }
        router.put(RouterPath(path)) { req, _ -> Response in
            await state.count("youtube.put")
            // `redirectChunks`: a PUT carrying bytes answered before its body is read, as a proxy in front of
            // the upload host would; a `bytes */T` status query carries none and is left to the session.
            if !(SandboxHTTP.header(req, "Content-Range") ?? "").hasPrefix("bytes */"), let moved = await ChunkRedirect.next(state) { return moved }
            if SandboxHTTP.query(req, "moved") != nil { await state.count("youtube.put.moved") }
            var answer = try await putChunk(req, state: state)
            // `youtubeMoveSessions`: a 308 that names the session's new URI (the same session, `&moved=1`).
            if answer.status.code == 308, let id = SandboxHTTP.query(req, "upload_id"), await state.takeYouTubeMove() {
                answer.headers[.location] = "\(baseURL())\(path)?uploadType=resumable&upload_id=\(id)&moved=1"
            }
            return answer
        }
        // thumbnails.set (PLATFORMS.md §8): JPEG or PNG, 2 MB at most, on a video of the same channel.
        router.post("/upload/youtube/v3/thumbnails/set") { req, _ -> Response in
            await state.count("youtube.thumbnails")
            guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) else {
                return SandboxHTTP.googleError(401, "authError", "Request had invalid authentication credentials.")
            }
            guard let vid = SandboxHTTP.query(req, "videoId"),
                let video = await state.allVideos().first(where: { $0.id == vid && $0.account == account })
            else {
                return SandboxHTTP.googleError(404, "videoNotFound", "The video that you are trying to update cannot be found.")
            }
            if let code = await state.takeFollowUpFault() {
                return code == 429
                    ? SandboxHTTP.googleError(429, "rateLimitExceeded", "Too many requests.")
                    : SandboxHTTP.googleError(code, "backendError", "Backend Error")
            }
            let type = SandboxHTTP.header(req, "Content-Type") ?? ""
            guard type.hasPrefix("image/jpeg") || type.hasPrefix("image/png") else {
                return SandboxHTTP.googleError(400, "invalidImage", "The provided image content is invalid.")
            }
            var req = req
            guard let body = try? await req.collectBody(upTo: 2 * 1024 * 1024) else {
                return SandboxHTTP.googleError(413, "mediaBodyTooLarge", "The thumbnail is larger than 2 MB.")
            }
            let data = Data(buffer: body)
            let isJPEG = data.starts(with: [0xFF, 0xD8, 0xFF]), isPNG = data.starts(with: [0x89, 0x50, 0x4E, 0x47])
            guard isJPEG || isPNG else { return SandboxHTTP.googleError(400, "invalidImage", "The provided image content is invalid.") }
            _ = await state.setThumbnail(videoID: video.id, sha256: FileHashing.sha256(data: data))
            return SandboxHTTP.json(
                .ok,
                [
                    "kind": "youtube#thumbnailSetResponse",
                    "items": [["default": ["url": "\(baseURL())/thumbnails/\(vid).jpg", "width": 120, "height": 90]]]
                ])
        }
        // The token's channel (`channels.list mine=true`): what connecting an account shows.
        router.get("/youtube/v3/channels") { req, _ -> Response in
            await state.count("youtube.channels")
            guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")), account.hasPrefix("youtube:") else {
                return SandboxHTTP.googleError(401, "authError", "Invalid Credentials")
            }
            let name = String(account.dropFirst("youtube:".count))
            return SandboxHTTP.json(
                .ok,
                [
                    "kind": "youtube#channelListResponse",
                    "items": [
                        [
                            "kind": "youtube#channel",
                            "id": "UC" + (await state.userID(account, length: 22, alphabet: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")),
                            "snippet": ["title": "\(name)'s channel"]
                        ]
                    ]
                ])
        }
        router.get("/youtube/v3/videos") { req, _ -> Response in
            await state.count("youtube.list")
            guard await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) != nil else {
                return SandboxHTTP.googleError(401, "authError", "Request had invalid authentication credentials.")
            }
            return await listVideos(req, state: state)
        }
    }

    static func initUpload(_ req: Request, state: SandboxState, baseURL: String) async throws -> Response {
        guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) else {
            return SandboxHTTP.googleError(401, "authError", "Request had invalid authentication credentials.")
        }
        switch await state.takeInitFault() {
        case .rateLimited(let after)?:
            var r = SandboxHTTP.googleError(429, "rateLimitExceeded", "The request was rate limited.")
            r.headers[.retryAfter] = String(after)
            return r
        case .status(let code)?:
            return SandboxHTTP.googleError(code, "backendError", "Injected failure \(code).")
        case nil: break
        }
        // Every upload protocol YouTube takes: resumable (our adapter), multipart (Google's client
        // libraries' default without `resumable=True`) and media (bytes only, no metadata).
        let uploadType = SandboxHTTP.query(req, "uploadType") ?? ""
        guard ["resumable", "multipart", "media"].contains(uploadType) else {
            return SandboxHTTP.googleError(400, "invalidParameter", "Invalid value '\(uploadType)' for uploadType: resumable, multipart or media.")
        }
        guard let part = SandboxHTTP.query(req, "part"), !part.isEmpty else {
            return SandboxHTTP.googleError(400, "required", "Required parameter: part")
        }
        let parts = Set(part.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        if let unknown = parts.first(where: { !YouTubeVideoMetadata.knownParts.contains($0) }) {
            return SandboxHTTP.googleError(400, "unknownPart", "'\(unknown)' is not a valid part for videos.insert.")
        }
        if uploadType != "resumable" {
            return try await insertWhole(req, uploadType: uploadType, parts: parts, account: account, state: state)
        }
        if let type = SandboxHTTP.header(req, "X-Upload-Content-Type"), let bad = badMediaType(type) { return bad }
        var total: Int64? = nil
        if let l = SandboxHTTP.header(req, "X-Upload-Content-Length") {
            guard let v = Int64(l), v >= 0 else { return SandboxHTTP.googleError(400, "badRequest", "Invalid X-Upload-Content-Length") }
            total = v
        }
        var req = req
        let body = try await req.collectBody(upTo: 1 << 20)
        let meta: YouTubeVideoMetadata
        switch parseMetadata(Data(buffer: body), parts: parts) {
        case .success(let m): meta = m
        case .failure(let r): return r.response
        }
        let id = SandboxState.randomID(48, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let file = state.root.appendingPathComponent("youtube/sessions/\(id).part").path
        try FileManager.default.createDirectory(atPath: PathText.parent(file), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: file, contents: nil)
        await state.putSession(.init(id: id, account: account, total: total, received: 0, file: file, metadata: meta, created: Date()))
        var headers = HTTPFields()
        headers[.location] = "\(baseURL)\(path)?uploadType=resumable&part=\(part)&upload_id=\(id)"
        headers[HTTPField.Name("X-GUploader-UploadID")!] = id
        return SandboxHTTP.empty(.ok, headers: headers)
    }

    struct Refusal: Error { var response: Response }

    /// The JSON body (empty is allowed: no metadata), limited to the named parts, then checked.
    static func parseMetadata(_ data: Data, parts: Set<String>) -> Result<YouTubeVideoMetadata, Refusal> {
        var meta = YouTubeVideoMetadata()
        if !data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            do { meta = try JSONDecoder().decode(YouTubeVideoMetadata.self, from: data) } catch {
                return .failure(Refusal(response: SandboxHTTP.googleError(400, "parseError", "Parse Error")))
            }
        }
        meta = meta.limited(to: parts)
        if let problem = validate(meta) { return .failure(Refusal(response: SandboxHTTP.googleError(400, problem.0, problem.1))) }
        return .success(meta)
    }

    /// YouTube's upload server takes video/* and application/octet-stream only.
    static func badMediaType(_ type: String) -> Response? {
        let t = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if t.hasPrefix("video/") || t == "application/octet-stream" { return nil }
        return SandboxHTTP.googleError(400, "badContent", "Media type '\(t)' is not supported. Valid media types: [video/*, application/octet-stream]")
    }

    /// uploadType=media (the body is the video) or multipart (multipart/related: the JSON resource, then
    /// the video): one request makes the video; the answer is 200 with the resource.
    static func insertWhole(_ req: Request, uploadType: String, parts: Set<String>, account: String, state: SandboxState) async throws -> Response {
        var req = req
        let contentType = SandboxHTTP.header(req, "Content-Type") ?? ""
        let body = Data(buffer: try await req.collectBody(upTo: maxWholeUpload))
        var meta = YouTubeVideoMetadata()
        var media = body
        if uploadType == "multipart" {
            guard let related = Multipart.parse(body, contentType: contentType), related.count == 2 else {
                return SandboxHTTP.googleError(400, "badRequest", "A multipart upload is multipart/related with two parts: the resource as JSON, then the media.")
            }
            switch parseMetadata(related[0].body, parts: parts) {
            case .success(let m): meta = m
            case .failure(let r): return r.response
            }
            if let bad = badMediaType(related[1].headers["content-type"] ?? "application/octet-stream") { return bad }
            media = related[1].body
        } else if let bad = badMediaType(contentType.isEmpty ? "application/octet-stream" : contentType) {
            return bad
        }
        guard !media.isEmpty else { return SandboxHTTP.googleError(400, "mediaBodyRequired", "The request does not include the video content.") }
        let id = SandboxState.randomID(48, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let file = state.root.appendingPathComponent("youtube/sessions/\(id).part").path
        try FileManager.default.createDirectory(atPath: PathText.parent(file), withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: file, contents: media) else {
            return SandboxHTTP.googleError(500, "backendError", "could not store the upload")
        }
        await state.addReceived(Int64(media.count))
        var session = SandboxState.UploadSession(
            id: id, account: account, total: Int64(media.count), received: Int64(media.count),
            file: file, metadata: meta, created: Date())
        session.uploadType = uploadType
        let done = try await state.finishYouTube(session)
        guard let vid = done.videoID, let video = await state.allVideos().first(where: { $0.id == vid }) else {
            return SandboxHTTP.googleError(500, "backendError", "lost video")
        }
        return SandboxHTTP.json(.ok, resource(video))
    }

    /// The most a non-resumable upload may carry here (Google's own limit for them is 5 MB… 256 GB by
    /// API; the sandbox holds the body in memory, so it keeps to something a test machine can hold).
    static let maxWholeUpload = 512 * 1024 * 1024

    /// The checks YouTube makes on the metadata before it accepts a single byte.
    static func validate(_ m: YouTubeVideoMetadata) -> (String, String)? {
        if let c = m.snippet?.categoryId, !YouTubeVideoMetadata.assignableCategories.contains(c) {
            return ("invalidCategoryId", "The snippet.categoryId property specifies an invalid category ID.")
        }
        // Without a snippet YouTube names the video itself ("unknown"); a snippet must carry a title.
        let title = m.snippet.map { $0.title ?? "" } ?? "unknown"
        if title.trimmingCharacters(in: .whitespaces).isEmpty {
            return ("invalidTitle", "The request metadata does not specify a valid video title.")
        }
        if title.count > 100 || title.contains("<") || title.contains(">") { return ("invalidTitle", "The video title is too long or contains < or >.") }
        if let d = m.snippet?.description, d.utf8.count > 5000 || d.contains("<") || d.contains(">") {
            return ("invalidDescription", "The video description is too long or contains < or >.")
        }
        if let t = m.snippet?.tags, t.reduce(0, { $0 + $1.count + ($1.contains(" ") ? 2 : 0) }) + max(0, t.count - 1) > 500 {
            return ("invalidTags", "The video keywords are too long.")
        }
        let privacy = m.status?.privacyStatus ?? "public"
        if !["public", "unlisted", "private"].contains(privacy) { return ("invalidVideoMetadata", "Invalid privacyStatus") }
        if m.status?.publishAt != nil && privacy != "private" {
            return ("invalidPublishAt", "publishAt can only be set when privacyStatus is private.")
        }
        return nil
    }

    static func putChunk(_ req: Request, state: SandboxState) async throws -> Response {
        guard let id = SandboxHTTP.query(req, "upload_id") else {
            return SandboxHTTP.googleError(404, "notFound", "The upload session does not exist or has expired.")
        }
        return try await state.servingPut { try await state.sessionLocks.withLock(id) { try await putChunkLocked(req, id: id, state: state) } }
    }

    /// Runs holding the session's lock, on a fresh read of the session.
    static func putChunkLocked(_ req: Request, id: String, state: SandboxState) async throws -> Response {
        guard var session = await state.session(id) else {
            return SandboxHTTP.googleError(404, "notFound", "The upload session does not exist or has expired.")
        }
        if let auth = SandboxHTTP.header(req, "Authorization"), await state.account(forBearer: auth) == nil {
            return SandboxHTTP.googleError(401, "authError", "Request had invalid authentication credentials.")
        }
        let delay = await state.faults.youtubePutDelayMs
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        if let status = await state.takeFailPut() {
            return SandboxHTTP.googleError(status, "backendError", "Injected failure \(status).")
        }
        let range: ContentRange
        if let cr = SandboxHTTP.header(req, "Content-Range") {
            guard let r = ContentRange.parse(cr) else {
                return SandboxHTTP.googleError(400, "badContentRange", "Failed to parse Content-Range header.")
            }
            range = r
        } else {
            // One PUT of the whole file, no Content-Range: bytes 0…length−1 of length (from the session's
            // declared length, or the request's Content-Length).
            guard let length = session.total ?? SandboxHTTP.header(req, "Content-Length").flatMap({ Int64($0) }), length > 0,
                session.received == 0 || session.received == length
            else {
                return SandboxHTTP.googleError(400, "badContentRange", "Failed to parse Content-Range header.")
            }
            range = ContentRange(first: session.received == length ? nil : 0, last: session.received == length ? nil : length - 1, total: length)
        }
        if let t = range.total {
            if let known = session.total, known != t {
                return SandboxHTTP.googleError(400, "badContentRange", "Content-Range total \(t) does not match the declared length \(known).")
            }
            session.total = t
        }
        if session.videoID != nil { return await finished(session, state: state) }

        guard let first = range.first, let last = range.last else {
            // Status query.
            await state.putSession(session)
            return resumeIncomplete(session)
        }
        guard first <= session.received else {
            return SandboxHTTP.googleError(400, "badContentRange", "Content-Range starts at \(first) but only \(session.received) bytes are stored.")
        }
        let length = last - first + 1
        let isLast = session.total.map { last + 1 == $0 } ?? false
        if !isLast && length % chunkGranularity != 0 {
            return SandboxHTTP.googleError(400, "badContentRange", "Every chunk but the last must be a multiple of 262144 bytes.")
        }
        // Bytes the server already has (an overlapping resend) are skipped, the rest appended.
        var skip = session.received - first
        let cut = await state.faults.youtubeCutAfterBytes
        var cutNow = false
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: session.file))
        defer { try? handle.close() }
        // Only acknowledged bytes count: anything past them is from a request that never finished.
        try handle.truncate(atOffset: UInt64(session.received))
        try handle.seek(toOffset: UInt64(session.received))
        var receivedThisRequest: Int64 = 0
        do {
            for try await var buffer in req.body {
                receivedThisRequest += Int64(buffer.readableBytes)
                if skip > 0 {
                    let n = min(Int64(buffer.readableBytes), skip)
                    buffer.moveReaderIndex(forwardBy: Int(n))
                    skip -= n
                }
                if buffer.readableBytes == 0 { continue }
                if let cut, session.received + Int64(buffer.readableBytes) >= cut {
                    let keep = Int(max(0, cut - session.received))
                    if keep > 0, let bytes = buffer.readBytes(length: keep) { try handle.write(contentsOf: bytes) }
                    session.received += Int64(keep)
                    cutNow = true
                    break
                }
                let n = Int64(buffer.readableBytes)
                try buffer.withUnsafeReadableBytes { try handle.write(contentsOf: $0) }
                session.received += n
            }
        } catch {
            // The client went away mid-chunk: like YouTube, keep what arrived; `bytes */T` will say how much.
            await state.addReceived(receivedThisRequest)
            await state.putSession(session)
            throw error
        }
        // Not fsynced: a killed sandbox's writes survive in the page cache, and a per-chunk fsync made every
        // chunk wait for the disk (most of a chunk's time).
        await state.addReceived(receivedThisRequest)
        if cutNow {
            await state.clearCut()
            await state.putSession(session)
            return SandboxHTTP.googleError(503, "backendError", "Injected connection cut after \(session.received) bytes.")
        }
        if let total = session.total, session.received >= total {
            let done = try await state.finishYouTube(session)
            await state.holdFinalReply()
            return await finished(done, state: state)
        }
        await state.putSession(session)
        return resumeIncomplete(session)
    }

    static func resumeIncomplete(_ s: SandboxState.UploadSession) -> Response {
        var headers = HTTPFields()
        if s.received > 0 { headers[.range] = "bytes=0-\(s.received - 1)" }
        return SandboxHTTP.empty(.init(code: 308, reasonPhrase: "Resume Incomplete"), headers: headers)
    }

    static func finished(_ s: SandboxState.UploadSession, state: SandboxState) async -> Response {
        guard let vid = s.videoID, let video = await state.allVideos().first(where: { $0.id == vid }) else {
            return SandboxHTTP.googleError(500, "backendError", "lost video")
        }
        return SandboxHTTP.json(.created, resource(video))
    }

    /// The video resource as YouTube returns it: every field that was stored.
    static func resource(_ v: SandboxState.Video) -> [String: Any] {
        var status: [String: Any] = [
            "uploadStatus": "uploaded", "privacyStatus": v.privacy, "license": v.license ?? "youtube",
            "embeddable": v.embeddable ?? true, "publicStatsViewable": true
        ]
        if let p = v.publishAt { status["publishAt"] = p }
        if let k = v.madeForKids { status["selfDeclaredMadeForKids"] = k; status["madeForKids"] = k }
        if let c = v.containsSyntheticMedia { status["containsSyntheticMedia"] = c }
        var snippet: [String: Any] = [
            "title": v.title, "description": v.description, "channelId": "UC" + v.account.replacingOccurrences(of: ":", with: "_"),
            "publishedAt": ISO8601DateFormatter().string(from: v.receivedAt), "categoryId": v.categoryId ?? YouTubeVideoMetadata.defaultCategory,
            "liveBroadcastContent": "none", "localized": ["title": v.title, "description": v.description]
        ]
        if !v.tags.isEmpty { snippet["tags"] = v.tags }
        if let l = v.defaultLanguage { snippet["defaultLanguage"] = l }
        return [
            "kind": "youtube#video", "etag": String(v.sha256.prefix(16)), "id": v.id,
            "snippet": snippet,
            "status": status
        ]
    }
}

/// `bytes F-L/T`, `bytes */T`, `bytes F-L/*`.
struct ContentRange {
    var first: Int64?
    var last: Int64?
    var total: Int64?

    static func parse(_ s: String) -> ContentRange? {
        let t = s.trimmingCharacters(in: .whitespaces)
        guard t.hasPrefix("bytes ") else { return nil }
        let rest = t.dropFirst(6)
        let parts = rest.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let total = parts[1] == "*" ? nil : Int64(parts[1])
        if parts[1] != "*" && total == nil { return nil }
        if parts[0] == "*" { return ContentRange(first: nil, last: nil, total: total) }
        let fl = parts[0].split(separator: "-")
        guard fl.count == 2, let f = Int64(fl[0]), let l = Int64(fl[1]), f <= l else { return nil }
        if let total, l >= total { return nil }
        return ContentRange(first: f, last: l, total: total)
    }
}
