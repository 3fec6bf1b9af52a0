import AsyncHTTPClient
import Foundation
import Logging
import OmniPostCore
@testable import OmniPostPipeline
import OmniPostPlatforms
import Testing

/// `media_host: {serve: true}`: the daemon hands a platform that fetches media from a URL (Threads) a
/// signed link that expires, on its own `http:` listener, and serves that file — with Range — only to
/// a link of its own that has not expired.
@Suite struct ServedMediaTests {
    static let signer = MediaLinkSigner(key: Data(repeating: 7, count: 32))
    static let sha = String(repeating: "ab", count: 32)

    @Test func linksAreSignedForOneNameAndExpire() throws {
        let link = Self.signer.link(base: "https://nas.example", name: Self.sha + ".mp4", ttl: 60, now: Date(timeIntervalSince1970: 1_000_000))
        let q = try #require(URLComponents(string: link)?.queryItems)
        let expires = q.first { $0.name == "expires" }?.value, sig = q.first { $0.name == "sig" }?.value
        #expect(link.hasPrefix("https://nas.example/media/\(Self.sha).mp4?expires=1000060&sig="))
        #expect(Self.signer.verify(name: Self.sha + ".mp4", expires: expires, sig: sig, now: Date(timeIntervalSince1970: 1_000_030)))
        // Past its time; another name; a later expiry; another key; a name that is not a rendition's.
        #expect(!Self.signer.verify(name: Self.sha + ".mp4", expires: expires, sig: sig, now: Date(timeIntervalSince1970: 1_000_061)))
        #expect(!Self.signer.verify(name: String(repeating: "cd", count: 32) + ".mp4", expires: expires, sig: sig, now: Date(timeIntervalSince1970: 1_000_030)))
        #expect(!Self.signer.verify(name: Self.sha + ".mp4", expires: "1000999", sig: sig, now: Date(timeIntervalSince1970: 1_000_030)))
        #expect(!MediaLinkSigner(key: Data(repeating: 8, count: 32)).verify(name: Self.sha + ".mp4", expires: expires, sig: sig, now: Date(timeIntervalSince1970: 1_000_030)))
        #expect(!MediaLinkSigner.isServable("../secret.key") && !MediaLinkSigner.isServable(Self.sha + ".mp4/x"))
    }

    @Test func theListenerServesASignedFileWithRangesAndRefusesTheRest() async throws {
        let dir = try TempDir()
        let folder = dir.file("media")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let bytes = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 13) })
        try bytes.write(to: folder.appendingPathComponent(Self.sha + ".mp4"))
        try Data("secret".utf8).write(to: dir.file("secret.key"))
        var config = HTTPConfig()
        config.port = 0
        let l = try await HTTPListener.start(config, media: (folder, Self.signer), logger: Logger(label: "test"))
        let base = "http://127.0.0.1:\(l.port)"
        func get(_ url: String, range: String? = nil) async throws -> (Int, Data) {
            var req = HTTPClientRequest(url: url)
            if let range { req.headers.add(name: "Range", value: range) }
            let r = try await HTTPClient.shared.execute(req, timeout: .seconds(30))
            return (Int(r.status.code), Data(buffer: try await r.body.collect(upTo: 1 << 20)))
        }
        let link = Self.signer.link(base: base, name: Self.sha + ".mp4", ttl: 60)
        let whole = try await get(link)
        #expect(whole.0 == 200 && whole.1 == bytes)
        let part = try await get(link, range: "bytes=1000-1999")
        #expect(part.0 == 206 && part.1 == bytes[1000..<2000])
        #expect(try await get(base + "/media/\(Self.sha).mp4").0 == 403)
        #expect(try await get(link.replacingOccurrences(of: "sig=", with: "sig=0")).0 == 403)
        let expired = Self.signer.link(base: base, name: Self.sha + ".mp4", ttl: -5)
        #expect(try await get(expired).0 == 403)
        #expect(try await get(base + "/media/..%2Fsecret.key?expires=9999999999&sig=00").0 == 403)
        let health = try await get(base + "/healthz")
        #expect(health.0 == 200 && String(decoding: health.1, as: UTF8.self) == "ok\n")
        await l.stop()
    }

    @Test func theListenerIsLoopbackUnlessATokenGuardsIt() throws {
        let dir = try TempDir()
        func parse(_ extra: String) throws -> PipelineConfig {
            try PlatformRegistry.parse(
                text: "version: 1\nroot: \(dir.url.path)/p\ntargets: [youtube:main]\naccounts:\n  youtube:main: {client_id: c, client_secret: s, refresh_token: r}\n" + extra,
                file: "p.yaml", baseDirectory: dir.url)
        }
        let open = #expect(throws: OmniError.self) { _ = try parse("http: {listen: \"0.0.0.0:8700\"}\n") }
        #expect(open?.message.contains("needs `token_file:`") == true && open?.location?.line == 6, "\(String(describing: open))")
        let tokenFile = try dir.write("token", "0123456789abcdef0123\n")
        // A token others can read is refused at its line.
        let shared = #expect(throws: OmniError.self) { _ = try parse("http: {listen: \"0.0.0.0:8700\", token_file: token}\n") }
        #expect(shared?.message.contains("chmod 600") == true && shared?.location?.line == 6)
        chmod(tokenFile.path, 0o600)
        #expect(try parse("http: {listen: \"0.0.0.0:8700\", token_file: token}\n").http?.tokenFile != nil)
        #expect(try parse("http: {listen: \"[::1]:9000\"}\n").http?.port == 9000)
        let noURL = #expect(throws: OmniError.self) { _ = try parse("media_host: {serve: true}\n") }
        #expect(noURL?.message.contains("public_url") == true)
        let both = #expect(throws: OmniError.self) { _ = try parse("media_host: {serve: true, s3: {bucket: b}}\n") }
        #expect(both?.message.contains("not both") == true)
        let ok = try parse("http: {listen: \"127.0.0.1:8700\", public_url: \"https://nas.example.com:8700/\"}\nmedia_host: {serve: true, link_ttl: 30m}\n")
        #expect(ok.mediaHost?.served == true && ok.http?.publicURL == "https://nas.example.com:8700" && ok.mediaHost?.linkTTL == .seconds(1800))
    }

    /// A Threads post in sandbox mode with the daemon serving the media: the sandbox's Threads fetches
    /// the rendition from the daemon's listener through the signed link.
    @Test(.timeLimit(.minutes(3))) func threadsFetchesTheRenditionFromTheDaemon() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, extra: "media_host: {serve: true, link_ttl: 10m}", targets: "targets: [threads:brand]")
        try Clips.copy(try Clips.make(width: 540, height: 960, seconds: 3.3), to: config.paths.inbox.appendingPathComponent("t.mp4"))
        try dir.write("inbox/t.yaml", "title: served by the daemon\nprivacy: public\n")
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let deliveries = try p.context.ledger.allDeliveries()
            #expect(deliveries.map(\.state) == [.published], "\(deliveries.map { $0.errorMessage ?? "" })")
            let video = try #require(await p.sandbox!.state.allVideos().first)
            #expect(video.platform == "threads" && video.sha256 == deliveries.first?.renditionSha256)
            // The file the link named is in the daemon's media folder, under its sha256; nothing went to the sandbox's S3.
            #expect(FileManager.default.fileExists(atPath: config.paths.root.appendingPathComponent("media/\(video.sha256).mp4").path))
            #expect(await p.sandbox!.state.requestCounts["s3.put"] == nil)
            #expect(p.listener != nil)
        }
    }
}
