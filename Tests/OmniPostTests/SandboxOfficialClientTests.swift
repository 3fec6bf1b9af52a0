import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPlatforms
@testable import OmniPostSandbox
import OmniPostWire
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

    static func client(
        _ base: String, _ token: String, _ file: String, _ mode: String, category: String = "22",
        mimetype: String = "video/mp4"
    ) throws -> JSONBox {
        try run(script, [base, token, file, mode, category, mimetype])
    }

    /// Runs one client script; its last output line is its JSON answer.
    static func run(_ script: String, _ arguments: [String]) throws -> JSONBox {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [script] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
            let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else {
            throw OmniError(.internalError, "the client printed nothing usable: \(errText)")
        }
        return JSONBox(json)
    }

    /// google-api-python-client's `captions().insert` (a multipart upload of the caption resource and the
    /// file) and `captions().list` against the sandbox: the track is kept with its language and name, and
    /// the same language and name again is YouTube's `409 captionExists`.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python)), .timeLimit(.minutes(3)))
    func googlesClientLibraryInsertsACaptionTrack() async throws {
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        let dir = try TempDir()
        let srt = dir.file("clip.de.srt")
        try Data("1\n00:00:00,000 --> 00:00:00,900\nHallo.\n".utf8).write(to: srt)
        try await YouTubeTests.withSandbox { s, token in
            let video = try await offPool { try Self.client(s.baseURL, token, clip.path, "multipart") }
            let id = try #require((video["resource"] as? [String: Any])?["id"] as? String, "\(video)")
            let r = try await offPool { try Self.run(Self.script, [s.baseURL, token, srt.path, "captions", id, "de"]) }
            #expect(r["ok"] as? Bool == true, "\(r)")
            let snippet = (r["resource"] as? [String: Any])?["snippet"] as? [String: Any]
            #expect(snippet?["language"] as? String == "de" && snippet?["videoId"] as? String == id, "\(r)")
            let items = ((r["list"] as? [String: Any])?["items"] as? [[String: Any]]) ?? []
            #expect(items.count == 1 && (items.first?["snippet"] as? [String: Any])?["name"] as? String == "official de", "\(r)")
            #expect(await s.state.captions(of: id).first?.text.contains("Hallo.") == true)
            let again = try await offPool { try Self.run(Self.script, [s.baseURL, token, srt.path, "captions", id, "de"]) }
            #expect(again["status"] as? Int == 409 && again["reasons"] as? [String] == ["captionExists"], "\(again)")
        }
    }

    /// google-api-python-client's `playlists().insert`, `playlistItems().insert` and `playlistItems().list`
    /// against the sandbox: the video is in the playlist the library made.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python)), .timeLimit(.minutes(3)))
    func googlesClientLibraryAddsAVideoToAPlaylist() async throws {
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        try await YouTubeTests.withSandbox { s, token in
            let video = try await offPool { try Self.client(s.baseURL, token, clip.path, "multipart") }
            let id = try #require((video["resource"] as? [String: Any])?["id"] as? String, "\(video)")
            let r = try await offPool { try Self.run(Self.script, [s.baseURL, token, clip.path, "playlist", id, "Official"]) }
            #expect(r["ok"] as? Bool == true, "\(r)")
            let items = ((r["list"] as? [String: Any])?["items"] as? [[String: Any]]) ?? []
            let resource = (items.first?["snippet"] as? [String: Any])?["resourceId"] as? [String: Any]
            #expect(items.count == 1 && resource?["videoId"] as? String == id, "\(r)")
            let stored = await s.state.playlists()
            #expect(stored.count == 1 && stored.first?.title == "Official" && stored.first?.items.map(\.videoId) == [id])
        }
    }

    /// google-api-python-client's `commentThreads().insert` and `commentThreads().list` against the sandbox.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python)), .timeLimit(.minutes(3)))
    func googlesClientLibraryCommentsOnAVideo() async throws {
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        try await YouTubeTests.withSandbox { s, token in
            let video = try await offPool { try Self.client(s.baseURL, token, clip.path, "multipart") }
            let id = try #require((video["resource"] as? [String: Any])?["id"] as? String, "\(video)")
            let r = try await offPool { try Self.run(Self.script, [s.baseURL, token, clip.path, "comment", id]) }
            #expect(r["ok"] as? Bool == true, "\(r)")
            let items = ((r["list"] as? [String: Any])?["items"] as? [[String: Any]]) ?? []
            #expect(items.count == 1 && (r["resource"] as? [String: Any])?["id"] as? String == items.first?["id"] as? String, "\(r)")
            #expect(await s.state.comments(of: id).map(\.text) == ["first from the library"])
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python)), .timeLimit(.minutes(6)))
    func googlesClientLibraryUploadsEveryWay() async throws {
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        let sha = try FileHashing.sha256(path: clip.path).hex
        try await YouTubeTests.withSandbox { s, token in
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
            // Read back as OmniPost reads it (issue 25): the library's own videos.list, with its discovery
            // document's parameters, sees the parts by YouTube's names and types (counts are strings).
            let id = try #require(await s.state.allVideos().first?.id)
            let listed = try await offPool { try Self.client(s.baseURL, token, id, "list") }
            let item = try #require(((listed["resource"] as? [String: Any])?["items"] as? [[String: Any]])?.first, "\(listed)")
            #expect(item["id"] as? String == id && (item["status"] as? [String: Any])?["uploadStatus"] as? String == "processed")
            #expect((item["processingDetails"] as? [String: Any])?["processingStatus"] as? String == "succeeded")
            #expect((item["statistics"] as? [String: Any])?["viewCount"] is String && item["snippet"] == nil, "\(item)")
        }
    }

    /// google-api-python-client's own youtubeAnalytics v2 (its static discovery document) against the
    /// sandbox (issue 25): `reports.query` as OmniPost asks it answers a `youtubeAnalytics#resultTable` whose
    /// columns are the dimension then the metrics asked, by YouTube's names and data types, one row per video
    /// with the numbers our adapter reads; a grant without `yt-analytics.readonly` is 403 `insufficientPermissions`.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python)), .timeLimit(.minutes(3)))
    func googlesClientLibraryReadsAVideosAnalytics() async throws {
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        try await YouTubeTests.withSandbox { s, token in
            let video = try await offPool { try Self.client(s.baseURL, token, clip.path, "multipart") }
            let id = try #require((video["resource"] as? [String: Any])?["id"] as? String, "\(video)")
            await s.state.advanceClock(by: 2 * 86_400)
            let r = try await offPool { try Self.client(s.baseURL, token, id, "analytics") }
            let table = try #require(r["resource"] as? [String: Any], "\(r)")
            #expect(table["kind"] as? String == "youtubeAnalytics#resultTable")
            let headers = (table["columnHeaders"] as? [[String: Any]]) ?? []
            #expect(headers.map { $0["name"] as? String ?? "" } == ["video", "views", "estimatedMinutesWatched", "averageViewDuration", "likes", "comments", "shares"])
            #expect(headers.first?["columnType"] as? String == "DIMENSION" && headers.dropFirst().allSatisfy { $0["columnType"] as? String == "METRIC" && $0["dataType"] as? String == "INTEGER" })
            let row = try #require((table["rows"] as? [[Any]])?.first, "\(table)")
            #expect(row.first as? String == id && row.dropFirst().allSatisfy { $0 is Int }, "\(row)")
            // What our adapter makes of the same report: watch time in seconds from minutes, the average as given.
            let expected = SandboxMetrics(id: id, age: 2 * 86_400)
            let views = try #require(row[1] as? Int)
            #expect(abs(views - Int(expected.views)) <= 2 && row[3] as? Int == Int(expected.averageViewSeconds), "\(row) vs \(expected)")
            await s.state.withholdInsights(platform: "youtube")
            let refused = try await offPool { try Self.client(s.baseURL, token, id, "analytics") }
            #expect(refused["status"] as? Int == 403 && refused["reasons"] as? [String] == ["insufficientPermissions"], "\(refused)")
        }
    }

    /// The same rules with raw HTTP, so they hold without the client library too.
    @Test func singlePutWithoutContentRangeAndClearRefusals() async throws {
        try await YouTubeTests.withSandbox { s, token in
            let auth = ["Authorization": "Bearer \(token)", "Content-Type": "application/json"]
            let bytes = Data((0..<300_000).map { UInt8($0 % 251) })
            let meta = Data(#"{"snippet":{"title":"one put","categoryId":"27"},"status":{"privacyStatus":"unlisted","containsSyntheticMedia":true}}"#.utf8)
            let start = try await RawHTTP.send(
                s.baseURL + "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status", .POST,
                headers: auth.merging(["X-Upload-Content-Type": "video/mp4"]) { $1 }, body: meta)
            #expect(start.status == 200)
            let location = try #require(start.headers["location"])
            let put = try await RawHTTP.send(location, .PUT, headers: ["Authorization": "Bearer \(token)"], body: bytes)
            #expect(put.status == 201 || put.status == 200)
            let res = try JSONSerialization.jsonObject(with: put.body) as? [String: Any]
            #expect((res?["snippet"] as? [String: Any])?["categoryId"] as? String == "27")
            #expect((res?["status"] as? [String: Any])?["containsSyntheticMedia"] as? Bool == true)
            #expect(await s.state.allVideos().first?.sha256 == FileHashing.sha256(data: bytes))
            // `part` missing altogether, and `part` naming something that is not a part.
            let noPart = try await RawHTTP.send(s.baseURL + "/upload/youtube/v3/videos?uploadType=resumable", .POST, headers: auth, body: meta)
            #expect(noPart.status == 400 && String(decoding: noPart.body, as: UTF8.self).contains("Required parameter: part"))
            let badPart = try await RawHTTP.send(s.baseURL + "/upload/youtube/v3/videos?uploadType=resumable&part=snipet", .POST, headers: auth, body: meta)
            #expect(badPart.status == 400 && String(decoding: badPart.body, as: UTF8.self).contains("unknownPart"))
            // part=status without snippet is a valid request (the snippet in the body is ignored).
            let statusOnly = try await RawHTTP.send(s.baseURL + "/upload/youtube/v3/videos?uploadType=resumable&part=status", .POST, headers: auth, body: meta)
            #expect(statusOnly.status == 200)
            let badType = try await RawHTTP.send(s.baseURL + "/upload/youtube/v3/videos?uploadType=ftp&part=snippet", .POST, headers: auth, body: meta)
            #expect(badType.status == 400)
        }
    }

    static let xScript = PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/x_official_client.py").path

    /// A token for the sandbox's X, asked for as X's token endpoint wants it (client in HTTP Basic).
    static func xToken(_ s: SandboxServer) async throws -> String {
        await s.registerAccount(platform: "x", name: "brand", clientID: "xid", clientSecret: "xsec", refreshToken: "xrt")
        let tok = try await RawHTTP.send(
            s.baseURL + "/2/oauth2/token", .POST,
            headers: [
                "Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic " + Data("xid:xsec".utf8).base64EncodedString()
            ], body: Data("grant_type=refresh_token&refresh_token=xrt".utf8))
        return try #require((try JSONSerialization.jsonObject(with: tok.body) as? [String: Any])?["access_token"] as? String)
    }

    /// X's own SDK (xdk): initialize → append (base64 JSON) → finalize → status → posts.create, then a reply.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python)), .timeLimit(.minutes(6)))
    func xsOwnSDKUploadsAndPosts() async throws {
        let dir = try TempDir()
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        try await stopping(s) {
            let token = try await Self.xToken(s)
            let file = dir.file("clip.mp4")
            try Data((0..<2_500_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }).write(to: file)
            let r = try await offPool { try Self.run(Self.xScript, [s.baseURL, token, file.path, "posted by xdk", String(1_048_576), "first from xdk"]) }
            #expect(r["ok"] as? Bool == true, "\(r.value)")
            #expect(r["segments"] as? Int == 3 && r["state"] as? String == "succeeded")
            let post = try #require(r["post"] as? [String: Any], "\(r.value)")
            let stored = try #require(await s.state.allVideos().first)
            #expect(post["id"] as? String == stored.id && post["text"] as? String == "posted by xdk")
            #expect(stored.sha256 == (try FileHashing.sha256(path: file.path)).hex)
            // The reply (a first comment's call) is a post of its own, under the video's.
            let reply = try #require(r["reply"] as? [String: Any], "\(r.value)")
            #expect(await s.state.xRepliedTo(reply["id"] as? String ?? "") == stored.id && reply["text"] as? String == "first from xdk")
            // The same text again is duplicate content, as X answers it.
            let again = try await offPool { try Self.run(Self.xScript, [s.baseURL, token, file.path, "posted by xdk"]) }
            #expect(again["ok"] as? Bool == false && again["status"] as? Int == 403)
        }
    }

    /// v1.1's command form (what tweepy and older tools send), form-encoded and multipart, with v1.1's replies.
    @Test func xsV1CommandFormWithRawHTTP() async throws {
        let dir = try TempDir()
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        try await stopping(s) {
            let token = try await Self.xToken(s)
            let bytes = Data((0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 5) })
            let auth = ["Authorization": "Bearer \(token)"]
            let form = auth.merging(["Content-Type": "application/x-www-form-urlencoded"]) { $1 }
            let url = s.baseURL + "/1.1/media/upload.json"
            let initReply = try await RawHTTP.send(
                url, .POST, headers: form, body: Data("command=INIT&media_type=video/mp4&total_bytes=\(bytes.count)&media_category=tweet_video".utf8))
            let initJSON = try #require(try JSONSerialization.jsonObject(with: initReply.body) as? [String: Any])
            let id = try #require(initJSON["media_id_string"] as? String)
            #expect(initJSON["media_id"] is NSNumber)
            for (i, range) in [0..<400_000, 400_000..<700_000].enumerated() {
                var body = Data()
                let boundary = "b0undary"
                func field(_ n: String, _ v: String) { body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(n)\"\r\n\r\n\(v)\r\n".utf8)) }
                field("command", "APPEND")
                field("media_id", id)
                field("segment_index", String(i))
                body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"media\"; filename=\"blob\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8))
                body.append(bytes[range])
                body.append(Data("\r\n--\(boundary)--\r\n".utf8))
                let r = try await RawHTTP.send(url, .POST, headers: auth.merging(["Content-Type": "multipart/form-data; boundary=\(boundary)"]) { $1 }, body: body)
                #expect(r.status == 204)
            }
            // Out of order or missing segments are refused at FINALIZE; these are whole.
            let fin = try await RawHTTP.send(url, .POST, headers: form, body: Data("command=FINALIZE&media_id=\(id)".utf8))
            let finJSON = try #require(try JSONSerialization.jsonObject(with: fin.body) as? [String: Any])
            #expect(finJSON["media_id_string"] as? String == id && finJSON["size"] as? Int == bytes.count)
            let status = try await RawHTTP.send(url + "?command=STATUS&media_id=\(id)", .GET, headers: auth, body: Data())
            let info = (try JSONSerialization.jsonObject(with: status.body) as? [String: Any])?["processing_info"] as? [String: Any]
            #expect(info?["state"] as? String == "succeeded")
            let tweet = try await RawHTTP.send(
                s.baseURL + "/2/tweets", .POST, headers: auth.merging(["Content-Type": "application/json"]) { $1 },
                body: Data(#"{"text":"v1.1 media","media":{"media_ids":["\#(id)"]}}"#.utf8))
            #expect(tweet.status == 201)
            #expect(await s.state.allVideos().first?.sha256 == FileHashing.sha256(data: bytes))
            // A bad token and a segment over 5 MB get X's own refusals.
            let noAuth = try await RawHTTP.send(url, .POST, headers: ["Authorization": "Bearer nope"], body: Data())
            #expect(noAuth.status == 401)
        }
    }

    /// LinkedIn's own client (linkedin-api-client): userinfo → initializeUpload → parts → finalizeUpload →
    /// video status → create post → author finder, with the Rest.li encoding the library does itself.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python)), .timeLimit(.minutes(6)))
    func linkedInsOwnClientUploadsAndPosts() async throws {
        let dir = try TempDir()
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        try await stopping(s) {
            await s.registerAccount(platform: "linkedin", name: "brand", clientID: "lid", clientSecret: "lsec", refreshToken: "lrt")
            let tok = try await RawHTTP.send(
                s.baseURL + "/oauth/v2/accessToken", .POST, headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: Data("grant_type=refresh_token&refresh_token=lrt&client_id=lid&client_secret=lsec".utf8))
            let token = try #require((try JSONSerialization.jsonObject(with: tok.body) as? [String: Any])?["access_token"] as? String)
            let file = dir.file("clip.mp4")
            try Data((0..<9_000_000).map { UInt8(truncatingIfNeeded: $0 &* 11) }).write(to: file)
            let script = PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/linkedin_official_client.py").path
            let r = try await offPool { try Self.run(script, [s.baseURL, token, file.path, LinkedInAdapter.apiVersion()]) }
            #expect(r["ok"] as? Bool == true, "\(r.value)")
            #expect(r["finalize"] as? Int == 200 && r["status"] as? String == "AVAILABLE" && r["parts"] as? Int == 3)
            let post = try #require(r["post"] as? String, "\(r.value)")
            #expect(r["found"] as? [String] == [post])
            let stored = try #require(await s.state.allVideos().first)
            let sha = try FileHashing.sha256(path: file.path).hex
            #expect(stored.id == post && stored.sha256 == sha)
        }
    }

    /// LinkedIn's own client reads a post's numbers (the `memberCreatorPostAnalytics` finder, one call per
    /// metric type, the Rest.li union encoded by the library) from the sandbox unchanged, with LinkedIn's
    /// names and types, and finds what our adapter reads for the same post at the same moment; a grant
    /// without `r_member_postAnalytics` is LinkedIn's 403 to the library as to us.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python)), .timeLimit(.minutes(3)))
    func linkedInsOwnClientReadsThePostsNumbersAsOurAdapterDoes() async throws {
        let f = try #require(ConformanceFixture.all.first { $0.name == "linkedin" })
        try await ConformanceRig.with(f) { rig in
            let out = try await rig.deliver()
            // Twenty days on, the sandbox's numbers have levelled off: both reads see the same counts.
            await rig.state.advanceClock(by: 20 * 86_400)
            let ours = try #require(try await rig.adapter().readInsights([PostRef(remoteId: out.remoteId, url: out.url, asked: .public)])[out.remoteId])
            let token = try await rig.settings.tokens.accessToken()
            let script = PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/linkedin_official_client.py").path
            let base = rig.account.endpoint
            let r = try await offPool { try Self.run(script, [base, token, "analytics", LinkedInAdapter.apiVersion(), out.remoteId]) }
            let counts = try #require(r["counts"] as? [String: Int], "\(r.value)")
            #expect((r["statuses"] as? [String: Int])?.values.allSatisfy { $0 == 200 } == true, "\(r.value)")
            #expect((r["types"] as? [String: String]).map { $0.allSatisfy { $0.key == $0.value } } == true, "\(r.value)")
            #expect(counts["IMPRESSION"].map(Int64.init) == ours.views && counts["MEMBERS_REACHED"].map(Int64.init) == ours.reach, "\(counts) vs \(ours)")
            #expect(counts["REACTION"].map(Int64.init) == ours.likes && counts["COMMENT"].map(Int64.init) == ours.comments, "\(counts) vs \(ours)")
            #expect(counts["RESHARE"].map(Int64.init) == ours.shares && (ours.views ?? 0) > 0, "\(counts) vs \(ours)")
            await rig.state.withholdInsights(platform: "linkedin")
            let refused = try await offPool { try Self.run(script, [base, token, "analytics", LinkedInAdapter.apiVersion(), out.remoteId]) }
            #expect((refused["statuses"] as? [String: Int])?.values.allSatisfy { $0 == 403 } == true, "\(refused.value)")
        }
    }

    /// AWS's own SDK (boto3, its defaults) against the sandbox's S3: PutObject, GetObject, presigned links,
    /// multipart (the transfer manager's, and list/abort by hand), expiry and a wrong secret — the checks the media host relies on, as S3 itself makes them.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python)), .timeLimit(.minutes(6)))
    func awssOwnSDKAgainstTheSandboxS3() async throws {
        let dir = try TempDir()
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        try await stopping(s) {
            await s.state.registerS3(accessKeyID: "AKIDSANDBOX", secret: "sandbox/secret+key")
            let file = dir.file("clip.mp4")
            try Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 17) }).write(to: file)
            let script = PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/s3_official_client.py").path
            // The CRC-32C of 1000 × "y", worked out by our own (the script refuses a wrong one, sends this one).
            let crc = CRC32C.base64(CRC32C.checksum(Data(repeating: UInt8(ascii: "y"), count: 1000)))
            let r = try await offPool { try Self.run(script, [s.baseURL + "/s3", "AKIDSANDBOX", "sandbox/secret+key", file.path, crc]) }
            #expect(r["sha"] as? String != nil && r["get_sha"] as? String == r["sha"] as? String, "\(r.value)")
            #expect(r["link_status"] as? Int == 200 && r["link_sha"] as? String == r["sha"] as? String, "\(r.value)")
            #expect(r["expired_status"] as? Int == 403 && (r["expired_body"] as? String ?? "").contains("Request has expired"))
            #expect(r["bad_secret"] as? String == "SignatureDoesNotMatch")
            // Multipart: 12 MB in 5 MiB parts, the object whole, S3's multipart ETag, metadata and class kept.
            #expect(r["got_big_sha"] as? String == r["big_sha"] as? String && r["big_sha"] != nil, "\(r.value)")
            #expect((r["big_etag"] as? String)?.hasSuffix("-3\"") == true, "\(r.value)")
            #expect((r["big_meta"] as? [String: Any])?["team"] as? String == "video" && r["big_class"] as? String == "STANDARD_IA", "\(r.value)")
            #expect((r["listed"] as? [[Int]]) == [[1, 1000]] && r["after_abort"] as? String == "NoSuchUpload", "\(r.value)")
            // A part's wrong x-amz-checksum-crc32c is S3's 400 BadDigest; the right one is taken, and named again in complete.
            #expect(r["bad_digest"] as? String == "BadDigest" && r["digest_len"] as? Int == 1000, "\(r.value)")
        }
    }

    /// OpenAI's own library (openai) against the sandbox's chat-completions endpoint, the captions model a
    /// sandboxed pipeline asks: a JSON-object answer written from OmniPost's brief, typed as the library
    /// types it, and a request the API refuses raised as the library's `BadRequestError`.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python)), .timeLimit(.minutes(3)))
    func openAIsOwnLibraryGetsAChatCompletion() async throws {
        let dir = try TempDir()
        try await withSandbox(dir) { s in
            let brief = #"{"platform": "youtube", "asked": {"title": true, "hashtags": 2}, "draft": {"title": "Morning walk", "description": "", "tags": []}}"#
            let script = PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/openai_official_client.py").path
            let r = try await offPool { try Self.run(script, [s.baseURL, brief]) }
            #expect(r["ok"] as? Bool == true, "\(r.value)")
            #expect(r["object"] as? String == "chat.completion" && r["model"] as? String == "sandbox-writer" && r["finish_reason"] as? String == "stop")
            let content = try #require(r["content"] as? [String: Any], "\(r.value)")
            #expect(content["title"] as? String == "Watch: Morning walk")
            #expect(content["hashtags"] as? [String] == ["morning", "walk"])
            #expect((r["total_tokens"] as? Int ?? 0) > 0)
            #expect((r["refused"] as? [String: Any])?["status"] as? Int == 400 && (r["refused"] as? [String: Any])?["param"] as? String == "messages", "\(r.value)")
        }
    }
}
