import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import OmniPostWire
import Testing

/// An upload's bytes never follow a redirect, and a 3xx to a part is one failure whatever the part's size
/// (a `.bytes` body AsyncHTTPClient could send again, or `BodySlices`' stream over TLS past 256 KiB) or
/// the scheme: S3's bucket in another region (301 PermanentRedirect, 307 TemporaryRedirect, 400
/// AuthorizationHeaderMalformed) is `config_invalid` naming its region and endpoint, never `auth_revoked`;
/// a tus PATCH redirected elsewhere is sent again to its own URL. Where a redirect points is a second
/// listener that counts what reaches it: nothing may.
@Suite(.serialized) struct UploadRedirectTests {
    static func sandbox(_ dir: TempDir) async throws -> SandboxServer {
        let s = SandboxServer(root: dir.file("sandbox"))
        try TestTLS.seed(dir.file("sandbox"))
        try await s.start(tls: true)
        await s.state.registerS3(accessKeyID: S3PartChecksumTests.key, secret: S3PartChecksumTests.secret)
        return s
    }

    /// A part under one slice (sent whole, replayable) and one over it (streamed over TLS).
    static let sizes = [100 << 10, (1 << 20) + 333]

    @Test(.timeLimit(.minutes(3)), arguments: [SandboxState.S3BucketHome.Answer.temporaryRedirect, .permanentRedirect, .authorizationHeaderMalformed])
    func anS3PartToABucketOfAnotherRegionIsOneConfigFailureOverHTTPAndHTTPSWhateverItsSize(answer: SandboxState.S3BucketHome.Answer) async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        let elsewhere = try CountingListener()
        try await stopping(s) {
            var seen: [(String, DeliveryError)] = []
            for tls in [false, true] {
                let endpoint = (tls ? "https://127.0.0.1:\(try #require(s.tlsPort))" : s.baseURL) + "/s3"
                // The daemon's pair of clients: the no-redirect one for every S3 request.
                let bucket = S3PartChecksumTests.bucket(endpoint, http: tls ? TestTLS.uploads : UploadRedirect.shared)
                let id = try await bucket.createMultipartUpload("walk.mp4", headers: [:])
                // From here the bucket lives in eu-west-1, its endpoint the second listener.
                await s.state.setS3BucketHome("clips", .init(region: "eu-west-1", answer: answer, endpoint: "http://127.0.0.1:\(elsewhere.port)"))
                for size in Self.sizes {
                    let bytes = BodySlicesTests.random(size)
                    let crc = bytes.withUnsafeReadableBytes(CRC32C.checksum)
                    let digest: S3Bucket.PartDigestHeader = bucket.signsPayload ? .signedSHA256(FileHashing.sha256(data: Data(buffer: bytes))) : .crc32c(crc)
                    let e = await #expect(throws: DeliveryError.self) {
                        _ = try await bucket.uploadPart("walk.mp4", uploadId: id, number: 1, bytes: bytes, digest: digest)
                    }
                    if let e { seen.append(("\(tls ? "https" : "http") \(size)", e)) }
                }
                await s.state.setS3BucketHome("clips", nil)
                #expect(await s.state.uploadParts(uploadId: id, bucket: "clips", key: "walk.mp4")?.isEmpty == true, "no part was stored")
            }
            #expect(seen.count == 4)
            let first = try #require(seen.first?.1)
            for (what, e) in seen {
                #expect(e.code == .configInvalid && e.kind == .permanent, "\(what): \(e)")
                // One sentence in all four cases: the same code, words, region and endpoint.
                #expect(e.message == first.message, "\(what): \(e.message)")
                #expect(e.httpStatus == first.httpStatus)
            }
            #expect(first.message.contains("region eu-west-1") && first.message.contains("signed for us-east-1"), "\(first.message)")
            #expect(first.message.contains("`region:` to eu-west-1") && first.message.contains("`endpoint:`"), "\(first.message)")
            if answer != .authorizationHeaderMalformed {
                #expect(first.message.contains("127.0.0.1:\(elsewhere.port)"), "the endpoint S3 named: \(first.message)")
            }
            let statuses: [SandboxState.S3BucketHome.Answer: Int] = [.temporaryRedirect: 307, .permanentRedirect: 301, .authorizationHeaderMalformed: 400]
            #expect(first.httpStatus == statuses[answer])
            #expect(elsewhere.connections == 0, "the redirect was followed")
            #expect(await s.state.requestCounts["s3.part"] == nil)
        }
    }

    /// The media host's one PUT of a rendition, a body streamed from disk: S3's redirect to the bucket's
    /// region is not followed (over HTTP or HTTPS) and is the media host's settings to fix, naming the region.
    @Test(.timeLimit(.minutes(2)), arguments: [SandboxState.S3BucketHome.Answer.temporaryRedirect, .permanentRedirect, .authorizationHeaderMalformed])
    func theMediaHostsPutToABucketOfAnotherRegionIsNotFollowed(answer: SandboxState.S3BucketHome.Answer) async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        let elsewhere = try CountingListener()
        let bytes = Data(BodySlicesTests.random(300 << 10).readableBytesView)
        let file = dir.file("rendition.mp4")
        try bytes.write(to: file)
        try await stopping(s) {
            await s.state.setS3BucketHome("clips", .init(region: "eu-west-1", answer: answer, endpoint: "http://127.0.0.1:\(elsewhere.port)"))
            for tls in [false, true] {
                let endpoint = (tls ? "https://127.0.0.1:\(try #require(s.tlsPort))" : s.baseURL) + "/s3"
                let bucket = S3PartChecksumTests.bucket(endpoint, http: tls ? TestTLS.uploads : UploadRedirect.shared)
                let e = await #expect(throws: DeliveryError.self) {
                    try await bucket.put(
                        file: file.path, key: "media/rendition.mp4", size: Int64(bytes.count), sha256: FileHashing.sha256(data: bytes), contentType: "video/mp4")
                }
                #expect(e?.code == .configInvalid && e?.kind == .permanent, "\(tls ? "https" : "http"): \(String(describing: e))")
                #expect(e?.message.contains("eu-west-1") == true && e?.message.contains("`region:`") == true, "\(e?.message ?? "")")
            }
            #expect(elsewhere.connections == 0, "the redirect was followed")
        }
    }

    /// The whole delivery: the bucket's answer at the first request (the HEAD choosing the key, whose answer
    /// has no body) is the same failure the daemon records — not `auth_revoked`, which a followed redirect's
    /// refused signature was, nor a bare "HEAD was refused (HTTP 400)": the region from
    /// `x-amz-bucket-region`, the account's settings named.
    @Test(.timeLimit(.minutes(2)), arguments: [("TemporaryRedirect", 307), ("PermanentRedirect", 301), ("AuthorizationHeaderMalformed", 400)])
    func anS3DeliveryToABucketOfAnotherRegionFailsAsItsSettingsNotItsKeys(answer: String, status: Int) async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        let elsewhere = try CountingListener()
        try await stopping(s) {
            // Through the sandbox's control route, as a test outside the process would set it.
            var put = HTTPClientRequest(url: s.baseURL + "/sandbox/s3/clips/home")
            put.method = .PUT
            put.body = .bytes(ByteBuffer(string: #"{"region": "ap-southeast-2", "answer": "\#(answer)", "endpoint": "http://127.0.0.1:\#(elsewhere.port)"}"#))
            #expect(try await HTTPClient.shared.execute(put, timeout: .seconds(10)).status == .ok)
            let a = try S3Tests.adapter(endpoint: s.baseURL + "/s3", bucket: "clips", sandbox: true)
            let f = try S3Tests.file(dir, size: 300 << 10)
            let e = await #expect(throws: DeliveryError.self) {
                _ = try await a.deliver(try S3Tests.job(f), checkpoint: { _ in }, progress: { _, _ in })
            }
            #expect(e?.code == .configInvalid && e?.kind == .permanent, "\(String(describing: e))")
            // Its first request is the HEAD that chooses the key.
            #expect(e?.message.contains("HEAD walk.mp4") == true && e?.httpStatus == status, "\(String(describing: e))")
            #expect(e?.message.contains("the bucket clips is in region ap-southeast-2, and requests are signed for us-east-1") == true, "\(String(describing: e))")
            #expect(e?.message.contains("under `accounts: s3:archive`, set `region:` to ap-southeast-2") == true, "\(String(describing: e))")
            if status == 307 {
                // No body: the endpoint is the Location's, its scheme kept.
                #expect(e?.message.contains("endpoint http://127.0.0.1:\(elsewhere.port);") == true, "\(String(describing: e))")
            }
            #expect(elsewhere.connections == 0)
        }
    }

    /// A HEAD's bodiless 400 without `x-amz-bucket-region` (an S3-compatible store that sends none) still
    /// reads as the wrong region, naming the block to change; a Location's scheme is kept, its query left out.
    @Test func aBodilessAnswerToAHeadReadsAsTheWrongRegionAndNamesItsSettings() throws {
        var b = S3PartChecksumTests.bucket("https://s3.us-east-1.amazonaws.com", http: UploadRedirect.shared)
        b.settingsBlock = "`media_host: s3:`"
        let e = try #require(b.misaddressed(400, code: "", text: "", headers: [:], what: "HEAD a.mp4", bodiless: true))
        #expect(e.code == .configInvalid && e.kind == .permanent && e.httpStatus == 400)
        #expect(e.message.contains("signed for region us-east-1, and the bucket clips is not in it"), "\(e.message)")
        #expect(e.message.contains("under `media_host: s3:`, set `region:` to the bucket's region"), "\(e.message)")
        // The same 400 with a body and another code is not a region answer; nor a HEAD's 403.
        #expect(b.misaddressed(400, code: "InvalidArgument", text: "<Error><Code>InvalidArgument</Code></Error>", headers: [:], what: "x") == nil)
        #expect(b.misaddressed(403, code: "", text: "", headers: [:], what: "HEAD a.mp4", bodiless: true) == nil)
        #expect(b.redirectTarget("https://s3.eu-west-1.amazonaws.com/clips/a.mp4?X-Amz-Signature=secret") == "https://s3.eu-west-1.amazonaws.com")
        let moved = b.misaddressed(301, code: "", text: "", headers: ["Location": "https://s3.amazonaws.com:8443/x?sig=secret"], what: "HEAD a.mp4", bodiless: true)
        #expect(moved?.message.contains("endpoint https://s3.amazonaws.com:8443;") == true && moved?.message.contains("secret") == false, "\(String(describing: moved))")
    }

    /// A bare 3xx to a part or an object's PUT — no `<Code>`, no `x-amz-bucket-region` — is not S3 naming
    /// the bucket's region but a load balancer in front of it: the class every upload's redirect is in (a
    /// `307` sent again, another 3xx `rejected_by_platform` naming where it pointed without its query), never
    /// "set `region:`" — whatever the request (a load balancer moves the first one it meets: a HEAD, the
    /// multipart upload's start). S3's own redirect reads as before.
    @Test func aBareRedirectOfAnS3PartIsALoadBalancersNotTheWrongRegion() throws {
        let b = S3PartChecksumTests.bucket("http://127.0.0.1:9000", http: UploadRedirect.shared)
        func answer(_ status: Int, _ headers: HTTPHeaders, _ body: String = "moved", bytes: Bool = true) -> DeliveryError {
            b.refusal(HTTPClientResponse(status: .init(statusCode: status), headers: headers), ByteBuffer(string: body), "part 1 of a.mp4", carriesBytes: bytes)
        }
        let moved: HTTPHeaders = ["Location": "http://10.0.0.9:9000/clips/a.mp4?X-Amz-Signature=secret"]
        let again = answer(307, moved)
        #expect(again.kind == .retryNow && again.code == .platformError && again.httpStatus == 307, "\(again)")
        #expect(again.message.hasPrefix("http://127.0.0.1:9000 answered HTTP 307 while sending part 1 of a.mp4"), "\(again.message)")
        for status in [301, 302, 303, 308] {
            let e = answer(status, moved)
            #expect(e.kind == .permanent && e.code == .rejectedByPlatform && e.httpStatus == status, "\(e)")
            #expect(e.message.contains("redirecting it to http://10.0.0.9:9000/clips/a.mp4") && !e.message.contains("secret"), "\(e.message)")
            #expect(!e.message.contains("region"), "\(e.message)")
        }
        // S3's own: its `<Code>`, or the region header.
        let s3 = answer(307, moved, "<Error><Code>TemporaryRedirect</Code><Endpoint>s3.eu-west-1.amazonaws.com</Endpoint></Error>")
        #expect(s3.code == .configInvalid && s3.message.contains("set `region:`"), "\(s3)")
        let regional = answer(301, ["Location": "http://10.0.0.9:9000/", "x-amz-bucket-region": "eu-west-1"])
        #expect(regional.code == .configInvalid && regional.message.contains("region eu-west-1"), "\(regional)")
        // Starting or completing an upload, or a HEAD, carries no bytes but meets the same load balancer.
        let start = answer(303, moved, bytes: false)
        #expect(start.code == .rejectedByPlatform && start.message.contains("answered HTTP 303 for part 1 of a.mp4"), "\(start)")
        let head = b.refusal(HTTPClientResponse(status: .init(statusCode: 301), headers: moved), ByteBuffer(), "HEAD a.mp4", head: true)
        #expect(head.code == .rejectedByPlatform && !head.message.contains("region"), "\(head)")
        // S3's own bodiless answer to a HEAD names the bucket's region: still the settings to fix.
        let s3Head = b.refusal(HTTPClientResponse(status: .init(statusCode: 301), headers: ["x-amz-bucket-region": "eu-west-1"]), ByteBuffer(), "HEAD a.mp4", head: true)
        #expect(s3Head.code == .configInvalid, "\(s3Head)")
    }

    /// A tus PATCH answered `307` to another host: not followed (no bytes, no `Authorization` there), the
    /// same failure over HTTP and HTTPS, small and large — `platform_error`, retried to the part's own URL.
    @Test(.timeLimit(.minutes(2))) func aTusPatchRedirectedToAnotherHostIsNotFollowedAndIsOneRetryableFailure() async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        let elsewhere = try CountingListener()
        try await stopping(s) {
            for tls in [false, true] {
                let base = tls ? "https://127.0.0.1:\(try #require(s.tlsPort))" : s.baseURL
                let tus = TusClient(
                    http: tls ? TestTLS.uploads : UploadRedirect.shared, headers: [("Authorization", "Bearer tus-secret")])
                for size in Self.sizes {
                    let url = try await tus.create(base + "/tus/files/", length: Int64(size), metadata: [])
                    await s.state.setFaults(.init(redirectChunks: ["http://127.0.0.1:\(elsewhere.port)/tus/files/moved"]))
                    let e = await #expect(throws: DeliveryError.self) {
                        // A query on the upload URL (a signed one's credential) stays out of the sentence.
                        _ = try await tus.patch(url + "?sig=secret", offset: 0, bytes: BodySlicesTests.random(size), checksum: nil)
                    }
                    #expect(e?.message.contains("secret") == false && e?.message.contains("to PATCH \(url) (sending bytes from 0)") == true, "\(String(describing: e))")
                    #expect(e?.kind == .retryNow && e?.code == .platformError && e?.httpStatus == 307, "\(String(describing: e))")
                    #expect(e?.message.contains("redirecting it to http://127.0.0.1:\(elsewhere.port)/tus/files/moved") == true, "\(String(describing: e))")
                    #expect(try await tus.offset(url)?.offset == 0, "nothing was taken")
                    // Sent again to its own URL, the part lands.
                    #expect(try await tus.patch(url, offset: 0, bytes: BodySlicesTests.random(size), checksum: nil) == .accepted(Int64(size)))
                }
            }
            #expect(elsewhere.connections == 0, "the PATCH (its bytes and Authorization) went to the redirect's host")
        }
    }

    /// Through the upload engine: a PATCH redirected once is sent again to the upload's own URL and the
    /// delivery completes with the file's bytes, nothing sent to where the redirect pointed.
    @Test(.timeLimit(.minutes(2))) func aTusDeliveryWhosePartIsRedirectedOnceCompletesAtItsOwnURL() async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        let elsewhere = try CountingListener()
        try await stopping(s) {
            await s.state.setFaults(.init(redirectChunks: ["http://127.0.0.1:\(elsewhere.port)/tus/files/moved"]))
            let a = try TusTests.adapter("https://127.0.0.1:\(try #require(s.tlsPort))/tus/files/", http: TestTLS.client)
            let f = try S3Tests.file(dir, size: (2 << 20) + 77)
            let job = try S3Tests.job(f)
            let out = try await a.deliver(job, checkpoint: { _ in }, progress: { _, _ in })
            #expect(out.remoteId.contains("/tus/files/"))
            #expect(await s.state.postCount(sha256: try #require(job.expectedSha256)) == 1)
            #expect(await s.state.faults.redirectChunks.isEmpty, "the redirect was answered")
            #expect(elsewhere.connections == 0)
        }
    }

    /// The classes a redirect of a part falls in, by status: 307 again later, 301/302/303/308 for good.
    @Test func aPermanentRedirectOfAPartIsNotRetried() {
        for status in [301, 302, 303, 308] {
            let e = UploadRedirect.failure(status: status, location: "/elsewhere?sig=secret", url: "https://up.example.com/p/1?x=1", what: "sending part 1", platform: "TikTok")
            #expect(e.kind == .permanent && e.code == .rejectedByPlatform && e.httpStatus == status)
            #expect(e.message.contains("https://up.example.com/elsewhere") && !e.message.contains("secret"), "\(e.message)")
        }
        #expect(UploadRedirect.failure(status: 307, location: "https://b.example.com/", url: "https://a.example.com/", what: "x", platform: "X").kind == .retryNow)
        // YouTube's 308 Resume Incomplete without a Location is no redirect at all; with one, YouTube's calls
        // hand it back (`protocolAnswers`) and the session goes on at that URI.
        #expect(UploadRedirect.location(status: 308, headers: ["Range": "bytes=0-99"]) == nil)
        let moved = AuthorizedHTTP.Reply(status: 308, headers: ["Range": "bytes=0-99", "Location": "/upload?upload_id=b"], body: Data())
        #expect(YouTubeResumable.movedSession(moved, from: "https://up.example.com/upload?upload_id=a") == "https://up.example.com/upload?upload_id=b")
        #expect(YouTubeResumable.movedSession(moved, from: "https://up.example.com/upload?upload_id=b") == nil)
        // Handed back only on the session's own origin; another host, port or scheme is a redirect.
        #expect(UploadRedirect.sameOrigin("/upload?upload_id=b", as: "https://up.example.com/upload?upload_id=a"))
        #expect(UploadRedirect.sameOrigin("https://UP.example.com:443/x", as: "https://up.example.com/upload"))
        #expect(!UploadRedirect.sameOrigin("https://evil.example.com/x", as: "https://up.example.com/upload"))
        #expect(!UploadRedirect.sameOrigin("http://up.example.com/x", as: "https://up.example.com/upload"))
        #expect(!UploadRedirect.sameOrigin("https://up.example.com:8443/x", as: "https://up.example.com/upload"))
    }
}
