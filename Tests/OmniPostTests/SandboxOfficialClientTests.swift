import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostSandbox
import Testing

/// The YouTube sandbox against Google's own client library (google-api-python-client, from the
/// virtualenv `make test` creates): every upload protocol the library uses is accepted, every field it
/// sends is stored and returned as YouTube returns it, and what YouTube refuses is refused the same way.
@Suite(.serialized) struct SandboxOfficialClientTests {
    /// The client's JSON answer, carried back from the thread that waited for it.
    struct JSONBox: @unchecked Sendable {
        let value: [String: Any]
        init(_ v: [String: Any]) { value = v }
        subscript(_ k: String) -> Any? { value[k] }
    }

    static let python = PipelineConfigTests.repoRoot.appendingPathComponent(".venv/bin/python").path
    static let script = PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/youtube_official_client.py").path

    static func client(_ base: String, _ token: String, _ file: String, _ mode: String, category: String = "22",
                       mimetype: String = "video/mp4") throws -> JSONBox {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [script, base, token, file, mode, category, mimetype]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw OmniError(.internalError, "the client printed nothing usable: \(errText)")
        }
        return JSONBox(json)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python)), .timeLimit(.minutes(6)))
    func googlesClientLibraryUploadsEveryWay() async throws {
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        let sha = try FileHashing.sha256(path: clip.path).hex
        try await SandboxYouTubeTests.withSandbox { s, token in
            for mode in ["multipart", "media", "resumable", "resumable-single", "status-only"] {
                let r = try await offPool { try Self.client(s.baseURL, token, clip.path, mode, category: "10") }
                #expect(r["ok"] as? Bool == true, "\(mode): \(r)")
                let res = r["resource"] as? [String: Any]
                let snippet = res?["snippet"] as? [String: Any]
                let id = try #require(res?["id"] as? String, "\(mode): \(r)")
                let stored = try #require(await s.state.allVideos().first { $0.id == id })
                #expect(stored.sha256 == sha, "\(mode)")
                if mode == "media" || mode == "status-only" {
                    // No snippet was written (none sent, or `part` did not name it): YouTube's defaults.
                    #expect(snippet?["title"] as? String == "unknown" && snippet?["categoryId"] as? String == "22", "\(mode)")
                } else {
                    #expect(snippet?["title"] as? String == "official client \(mode)")
                    #expect(snippet?["categoryId"] as? String == "10", "\(mode): categoryId must be stored and returned")
                    #expect(snippet?["tags"] as? [String] == ["sandbox", "official"])
                    #expect(stored.categoryId == "10")
                }
                #expect((res?["status"] as? [String: Any])?["privacyStatus"] as? String == (mode == "media" ? "public" : "private"))
                #expect(stored.uploadType == (mode.hasPrefix("resumable") || mode == "status-only" ? "resumable" : mode))
            }
            // What YouTube refuses: an unknown or unassignable category, a picture as the media.
            let badCategory = try await offPool { try Self.client(s.baseURL, token, clip.path, "multipart", category: "999") }
            #expect(badCategory["ok"] as? Bool == false && badCategory["status"] as? Int == 400)
            #expect(badCategory["reasons"] as? [String] == ["invalidCategoryId"])
            let notAssignable = try await offPool { try Self.client(s.baseURL, token, clip.path, "resumable", category: "18") }
            #expect(notAssignable["reasons"] as? [String] == ["invalidCategoryId"])
            let png = try await offPool { try Self.client(s.baseURL, token, clip.path, "resumable", mimetype: "image/png") }
            #expect(png["ok"] as? Bool == false && png["status"] as? Int == 400 && png["reasons"] as? [String] == ["badContent"])
            let pngMultipart = try await offPool { try Self.client(s.baseURL, token, clip.path, "multipart", mimetype: "image/png") }
            #expect(pngMultipart["reasons"] as? [String] == ["badContent"])
            #expect(await s.state.allVideos().count == 5)
        }
    }

    /// The same rules with raw HTTP, so they hold without the client library too.
    @Test func singlePutWithoutContentRangeAndClearRefusals() async throws {
        try await SandboxYouTubeTests.withSandbox { s, token in
            let auth = ["Authorization": "Bearer \(token)", "Content-Type": "application/json"]
            let bytes = Data((0..<300_000).map { UInt8($0 % 251) })
            let meta = Data(#"{"snippet":{"title":"one put","categoryId":"27"},"status":{"privacyStatus":"unlisted","containsSyntheticMedia":true}}"#.utf8)
            let start = try await SandboxYouTubeTests.send(s.baseURL + "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status", .POST,
                                                           headers: auth.merging(["X-Upload-Content-Type": "video/mp4"]) { $1 }, body: meta)
            #expect(start.status == 200)
            let location = try #require(start.headers["location"])
            let put = try await SandboxYouTubeTests.send(location, .PUT, headers: ["Authorization": "Bearer \(token)"], body: bytes)
            #expect(put.status == 201 || put.status == 200)
            let res = try JSONSerialization.jsonObject(with: put.body) as? [String: Any]
            #expect((res?["snippet"] as? [String: Any])?["categoryId"] as? String == "27")
            #expect((res?["status"] as? [String: Any])?["containsSyntheticMedia"] as? Bool == true)
            #expect(await s.state.allVideos().first?.sha256 == FileHashing.sha256(data: bytes))
            // `part` missing altogether, and `part` naming something that is not a part.
            let noPart = try await SandboxYouTubeTests.send(s.baseURL + "/upload/youtube/v3/videos?uploadType=resumable", .POST, headers: auth, body: meta)
            #expect(noPart.status == 400 && String(decoding: noPart.body, as: UTF8.self).contains("Required parameter: part"))
            let badPart = try await SandboxYouTubeTests.send(s.baseURL + "/upload/youtube/v3/videos?uploadType=resumable&part=snipet", .POST, headers: auth, body: meta)
            #expect(badPart.status == 400 && String(decoding: badPart.body, as: UTF8.self).contains("unknownPart"))
            // part=status without snippet is a valid request (the snippet in the body is ignored).
            let statusOnly = try await SandboxYouTubeTests.send(s.baseURL + "/upload/youtube/v3/videos?uploadType=resumable&part=status", .POST, headers: auth, body: meta)
            #expect(statusOnly.status == 200)
            let badType = try await SandboxYouTubeTests.send(s.baseURL + "/upload/youtube/v3/videos?uploadType=ftp&part=snippet", .POST, headers: auth, body: meta)
            #expect(badType.status == 400)
        }
    }
}
