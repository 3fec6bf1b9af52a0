import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import OmniPostSandbox
import Testing

/// The sandbox speaks YouTube's resumable protocol as PLATFORMS.md describes it, checked with raw HTTP.
@Suite struct YouTubeTests {
    static func withSandbox(_ body: (SandboxServer, String) async throws -> Void) async throws {
        let dir = try TempDir()
        let s = SandboxServer(root: dir.url)
        try await s.start()
        await s.registerAccount(platform: "youtube", name: "main", clientID: "cid", clientSecret: "sec", refreshToken: "rt")
        let tok = try await RawHTTP.send(
            s.baseURL + "/token", .POST, headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: Data("grant_type=refresh_token&client_id=cid&client_secret=sec&refresh_token=rt".utf8))
        let token = try #require((try JSONSerialization.jsonObject(with: tok.body) as? [String: Any])?["access_token"] as? String)
        do { try await body(s, token) } catch { await s.stop(); throw error }
        await s.stop()
    }

    static let meta = Data(#"{"snippet":{"title":"t","description":"d","tags":["a"]},"status":{"privacyStatus":"private"}}"#.utf8)

    @Test func fullResumableFlow() async throws {
        try await Self.withSandbox { s, token in
            let payload = Data((0..<(600 * 1024)).map { UInt8($0 % 251) })
            let total = payload.count
            // Query parameters in another order than the client library uses.
            let initR = try await RawHTTP.send(
                s.baseURL + "/upload/youtube/v3/videos?part=snippet,status&uploadType=resumable", .POST,
                headers: [
                    "Authorization": "Bearer \(token)", "Content-Type": "application/json; charset=UTF-8",
                    "X-Upload-Content-Length": "\(total)", "X-Upload-Content-Type": "video/*"
                ], body: Self.meta)
            #expect(initR.status == 200)
            #expect(initR.body.isEmpty)
            let session = try #require(initR.headers["location"])
            #expect(session.contains("upload_id="))

            // Nothing stored yet: 308 without Range.
            let q0 = try await RawHTTP.send(session, .PUT, headers: ["Content-Range": "bytes */\(total)", "Content-Length": "0"])
            #expect(q0.status == 308 && q0.headers["range"] == nil)

            // A non-final chunk that is not a multiple of 256 KiB is refused.
            let bad = try await RawHTTP.send(session, .PUT, headers: ["Content-Range": "bytes 0-99999/\(total)"], body: payload.prefix(100_000))
            #expect(bad.status == 400)

            let c1 = try await RawHTTP.send(session, .PUT, headers: ["Content-Range": "bytes 0-262143/\(total)"], body: payload.prefix(262_144))
            #expect(c1.status == 308)
            #expect(c1.headers["range"] == "bytes=0-262143")

            // A gap is refused; an overlap is accepted and only the new bytes are kept.
            let gap = try await RawHTTP.send(session, .PUT, headers: ["Content-Range": "bytes 524288-\(total - 1)/\(total)"], body: payload.suffix(from: 524_288))
            #expect(gap.status == 400)
            let c2 = try await RawHTTP.send(session, .PUT, headers: ["Content-Range": "bytes 0-524287/\(total)"], body: payload.prefix(524_288))
            #expect(c2.headers["range"] == "bytes=0-524287")

            let last = try await RawHTTP.send(session, .PUT, headers: ["Content-Range": "bytes 524288-\(total - 1)/\(total)"], body: payload.suffix(from: 524_288))
            #expect(last.status == 201)
            let video = try #require(try JSONSerialization.jsonObject(with: last.body) as? [String: Any])
            let id = try #require(video["id"] as? String)
            #expect((video["status"] as? [String: Any])?["uploadStatus"] as? String == "uploaded")

            // Asking again after completion returns the video (how a crash after the last byte is reconciled).
            let again = try await RawHTTP.send(session, .PUT, headers: ["Content-Range": "bytes */\(total)"])
            #expect(again.status == 201)
            #expect((try JSONSerialization.jsonObject(with: again.body) as? [String: Any])?["id"] as? String == id)

            let stored = await s.state.allVideos()
            #expect(stored.count == 1)
            #expect(stored[0].sha256 == FileHashingTestHelper.sha256(payload))
        }
    }

    @Test func authIsChecked() async throws {
        try await Self.withSandbox { s, _ in
            let r = try await RawHTTP.send(
                s.baseURL + "/upload/youtube/v3/videos?uploadType=resumable&part=snippet", .POST,
                headers: ["Authorization": "Bearer nope", "X-Upload-Content-Length": "10"], body: Self.meta)
            #expect(r.status == 401)
            let body = try #require(try JSONSerialization.jsonObject(with: r.body) as? [String: Any])
            #expect((body["error"] as? [String: Any])?["code"] as? Int == 401)
            let t = try await RawHTTP.send(s.baseURL + "/token", .POST, body: Data("grant_type=refresh_token&client_id=cid&client_secret=sec&refresh_token=wrong".utf8))
            #expect(t.status == 400)
            #expect(String(decoding: t.body, as: UTF8.self).contains("invalid_grant"))
        }
    }

    @Test func metadataIsValidatedLikeYouTube() async throws {
        try await Self.withSandbox { s, token in
            let long = String(repeating: "x", count: 101)
            for body in [
                #"{"snippet":{"title":"\#(long)"}}"#, #"{"snippet":{"title":"a <b>"}}"#, #"{"snippet":{}}"#,
                #"{"snippet":{"title":"t"},"status":{"privacyStatus":"public","publishAt":"2030-01-01T00:00:00Z"}}"#
            ] {
                let r = try await RawHTTP.send(
                    s.baseURL + "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status", .POST,
                    headers: ["Authorization": "Bearer \(token)", "X-Upload-Content-Length": "10"], body: Data(body.utf8))
                #expect(r.status == 400, "\(body)")
            }
        }
    }

    @Test func expiredSessionIs404() async throws {
        try await Self.withSandbox { s, token in
            let r = try await RawHTTP.send(
                s.baseURL + "/upload/youtube/v3/videos?uploadType=resumable&part=snippet", .POST,
                headers: ["Authorization": "Bearer \(token)", "X-Upload-Content-Length": "10"], body: Self.meta)
            let session = try #require(r.headers["location"])
            await s.state.setSessionLifetime(0)
            let q = try await RawHTTP.send(session, .PUT, headers: ["Content-Range": "bytes */10"])
            #expect(q.status == 404)
        }
    }
}

import Crypto
enum FileHashingTestHelper {
    static func sha256(_ d: Data) -> String { SHA256.hash(data: d).map { String(format: "%02x", $0) }.joined() }
}
