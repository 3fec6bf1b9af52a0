import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// A part's body goes to AsyncHTTPClient over TLS as slices of the part's own buffer (`BodySlices`; over
/// plain HTTP the buffer whole): what the sandbox receives must be exactly the part's bytes — parts that
/// are no multiple of the slice, a part refused before its body was read and one cut in its middle sent
/// again from the same buffer — over both; and a server that answers before reading the body is read,
/// not waited on.
@Suite(.serialized) struct BodySlicesTests {
    /// YouTube's resumable upload on a real sandbox, over `tls` or not: the session's URL on that
    /// listener, and a client that signs its requests with the sandbox's tokens (as an adapter's does).
    static func session(_ s: SandboxServer, tls: Bool, total: Int) async throws -> (url: String, api: AuthorizedHTTP) {
        await s.registerAccount(platform: "youtube", name: "main", clientID: "cid", clientSecret: "sec", refreshToken: "rt")
        let account = AccountConfig(
            key: "youtube:main", platform: "youtube", clientID: "cid", clientSecret: "sec", refreshToken: "rt", endpoint: s.baseURL,
            tokenURL: s.baseURL + "/token")
        let base = tls ? "https://127.0.0.1:\(try #require(s.tlsPort))" : s.baseURL
        let api = AuthorizedHTTP(
            http: tls ? TestTLS.client : .shared, tokens: TokenProvider(account: account, http: .shared, store: MemoryTokenStore()), timeout: .seconds(30))
        let started = try await api.send(
            url: base + "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status", method: .POST,
            headers: [("Content-Type", "application/json"), ("X-Upload-Content-Length", String(total))],
            body: ByteBuffer(string: #"{"snippet":{"title":"t"},"status":{"privacyStatus":"private"}}"#))
        #expect(started.status == 200)
        let location = try #require(started.headers.first(name: "Location"))
        return (location.replacingOccurrences(of: s.baseURL, with: base), api)
    }

    static func random(_ n: Int) -> ByteBuffer {
        var g = SystemRandomNumberGenerator()
        return ByteBuffer(bytes: (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) })
    }

    static func sandbox(_ dir: TempDir) async throws -> SandboxServer {
        let s = SandboxServer(root: dir.file("sandbox"))
        try TestTLS.seed(dir.file("sandbox"))
        try await s.start(tls: true)
        return s
    }

    @Test(.timeLimit(.minutes(2)), arguments: [false, true])
    func theSandboxReceivesExactlyEachPartsBytesAndAResentPartTheSame(tls: Bool) async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            // Two parts of 2.25 MiB (YouTube wants multiples of 256 KiB but for the last) and a last of
            // 1 MiB + 333, no multiple of the slice.
            let sizes = [9 << 18, 9 << 18, (1 << 20) + 333]
            let payload = Self.random(sizes.reduce(0, +))
            let (url, api) = try await Self.session(s, tls: tls, total: payload.readableBytes)
            #expect(BodySlices.tls(url) == tls)
            var offset = 0
            for (i, size) in sizes.enumerated() {
                // The part's buffer, as the chunk loop holds it: a slice of the file's bytes, never copied.
                let part = payload.getSlice(at: offset, length: size)!
                let range = [("Content-Range", "bytes \(offset)-\(offset + size - 1)/\(payload.readableBytes)")]
                if i == 1 {
                    // Refused before its body is read (a 503 at once), then cut 1.5 MB in: the same buffer
                    // is sent again each time.
                    await s.state.setFaults(.init(youtubeFailPuts: [503]))
                    #expect(try await api.send(url: url, method: .PUT, headers: range, body: part).status == 503)
                    await s.state.setFaults(.init(youtubeCutAfterBytes: Int64(offset + 1_500_000)))
                    #expect(try await api.send(url: url, method: .PUT, headers: range, body: part).status == 503)
                    await s.state.setFaults(.init())
                }
                let reply = try await api.send(url: url, method: .PUT, headers: range, body: part)
                if i < sizes.count - 1 {
                    #expect(reply.status == 308 && reply.headers.first(name: "Range") == "bytes=0-\(offset + size - 1)", "part \(i): \(reply.status)")
                } else {
                    #expect(reply.status == 201, "last part: \(reply.status)")
                }
                offset += size
            }
            let sha = SHA256.hash(data: Data(buffer: payload)).map { String(format: "%02x", $0) }.joined()
            #expect(await s.state.postCount(sha256: sha) == 1, "the video is not the bytes sent")
        }
    }

    /// tus PATCHes of sizes that are no multiple of the slice, each vouched for by its sha1, which the
    /// sandbox checks against what it read: one refused for a checksum of other bytes (460, nothing kept)
    /// is the same buffer sent again; one cut half-way (the sandbox keeps half) goes on from the server's
    /// offset with the rest of the same buffer.
    @Test(.timeLimit(.minutes(2)), arguments: [false, true])
    func tusPatchesOfOddSizesArriveAsTheirOwnBytes(tls: Bool) async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            let sizes = [(1 << 20) + 4097, 700_001, (2 << 20) + 13]
            #expect(sizes.allSatisfy { $0 > BodySlices.size && $0 % BodySlices.size != 0 })
            let payload = Self.random(sizes.reduce(0, +))
            let base = tls ? "https://127.0.0.1:\(try #require(s.tlsPort))" : s.baseURL
            let tus = TusClient(http: tls ? TestTLS.uploads : UploadRedirect.shared)
            let url = try await tus.create(base + "/tus/files/", length: Int64(payload.readableBytes), metadata: [])
            #expect(BodySlices.tls(url) == tls)
            func sha1(_ b: ByteBuffer) -> String { "sha1 " + Data(Insecure.SHA1.hash(data: Data(buffer: b))).base64EncodedString() }
            var offset = 0
            for (i, size) in sizes.enumerated() {
                let part = payload.getSlice(at: offset, length: size)!
                if i == 1 {
                    await #expect(throws: DeliveryError.self) {
                        _ = try await tus.patch(url, offset: Int64(offset), bytes: part, checksum: sha1(ByteBuffer(string: "other")))
                    }
                    #expect(try await tus.offset(url)?.offset == Int64(offset))
                }
                if i == 2 {
                    await s.state.setFaults(.init(failChunks: [503]))
                    await #expect(throws: DeliveryError.self) { _ = try await tus.patch(url, offset: Int64(offset), bytes: part, checksum: sha1(part)) }
                    let kept = try #require(try await tus.offset(url)?.offset)
                    #expect(kept == Int64(offset + size / 2))
                    let rest = part.getSlice(at: part.readerIndex + size / 2, length: size - size / 2)!
                    #expect(try await tus.patch(url, offset: kept, bytes: rest, checksum: sha1(rest)) == .accepted(Int64(offset + size)))
                } else {
                    #expect(try await tus.patch(url, offset: Int64(offset), bytes: part, checksum: sha1(part)) == .accepted(Int64(offset + size)))
                }
                offset += size
            }
            let sha = SHA256.hash(data: Data(buffer: payload)).map { String(format: "%02x", $0) }.joined()
            #expect(await s.state.postCount(sha256: sha) == 1, "the upload is not the bytes sent")
        }
    }

    /// A server that answers before it reads the body: an early 401 (a revoked token) and an early 201 (a
    /// finished session asked again) come back as answers well within the request's 30 s, though the
    /// 32 MiB body is more than the sockets hold.
    @Test(.timeLimit(.minutes(2)), arguments: [false, true])
    func anAnswerBeforeTheBodyIsReadIsReadNotWaitedOn(tls: Bool) async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            let small = ByteBuffer(bytes: [UInt8](repeating: 7, count: 1000))
            let (url, api) = try await Self.session(s, tls: tls, total: small.readableBytes)
            #expect(try await api.send(url: url, method: .PUT, headers: [("Content-Range", "bytes 0-999/1000")], body: small, authorize: false).status == 201)
            let big = ByteBuffer(repeating: 1, count: 32 << 20)
            let asked = try await api.send(url: url, method: .PUT, headers: [("Content-Range", "bytes */1000")], body: big, authorize: false)
            #expect(asked.status == 201)
            let refused = try await api.send(
                url: url, method: .PUT, headers: [("Authorization", "Bearer revoked"), ("Content-Range", "bytes */1000")], body: big, authorize: false)
            #expect(refused.status == 401)
        }
    }
}
