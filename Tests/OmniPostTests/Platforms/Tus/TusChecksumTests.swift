import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Which `PATCH` carries tus's `Upload-Checksum` (docs/upload-engine.md, "Transports"): the extension is the
/// client's choice; ours sends its sha1 where the server offers it over plain HTTP, none over HTTPS (TLS
/// checks every record), and the account's `upload_checksum` says yes or no whatever the scheme — read here
/// from what the sandbox's tus server checked, and a wrong checksum refused as tus says (460).
@Suite(.serialized) struct TusChecksumTests {
    static func sandbox(_ dir: TempDir) async throws -> SandboxServer {
        let s = SandboxServer(root: dir.file("sandbox"))
        try TestTLS.seed(dir.file("sandbox"))
        try await s.start(tls: true)
        return s
    }

    /// One upload of 3 MiB + 5 in 1 MiB PATCHes; what the server holds must be the file.
    static func upload(
        _ s: SandboxServer, _ dir: TempDir, url: String, extra: String = "", http: HTTPClient = .shared, seed: Int = 1
    ) async throws -> [String: Int] {
        let f = try TusTests.file(dir, size: 3 << 20 + 5, seed: seed)
        let a = try TusTests.adapter(url, extra: extra, http: http)
        let out = try await a.deliver(try TusTests.job(f), checkpoint: { _ in }, progress: { _, _ in })
        #expect(out.remoteId.hasPrefix(url.replacingOccurrences(of: "/tus/files/", with: "/tus/files")), "the upload is on the listener it was created on")
        #expect(await s.state.postCount(sha256: try #require(try TusTests.job(f).expectedSha256)) == 1)
        return await s.state.requestCounts
    }

    /// `upload_checksum:` that is no yes or no is refused where it is written, not ignored.
    @Test func anUploadChecksumThatIsNoYesOrNoIsRefused() {
        #expect(throws: (any Error).self) { _ = try TusTests.adapter("https://tus.example.com/files/", extra: "    upload_checksum: sometimes\n") }
    }

    @Test(.timeLimit(.minutes(3))) func overPlainHTTPEachPatchCarriesItsSHA1() async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            let counts = try await Self.upload(s, dir, url: s.baseURL + "/tus/files/")
            #expect(counts["tus.patch"] == 4 && counts["tus.patch.sha1"] == 4, "\(counts)")
        }
    }

    @Test(.timeLimit(.minutes(3))) func overHTTPSNoPatchCarriesAChecksumUnlessTheAccountAsks() async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            let url = "https://127.0.0.1:\(try #require(s.tlsPort))/tus/files/"
            let counts = try await Self.upload(s, dir, url: url, http: TestTLS.client)
            #expect(counts["tus.patch"] == 4 && counts["tus.patch.sha1"] == nil, "\(counts)")
            // `upload_checksum: true`: the sha1 over HTTPS too.
            let forced = try await Self.upload(s, dir, url: url, extra: "    upload_checksum: true\n", http: TestTLS.client, seed: 2)
            #expect(forced["tus.patch"] == 8 && forced["tus.patch.sha1"] == 4, "\(forced)")
        }
        // And `upload_checksum: false` over plain HTTP: none.
        let dir2 = try TempDir()
        let s2 = try await Self.sandbox(dir2)
        try await stopping(s2) {
            let counts = try await Self.upload(s2, dir2, url: s2.baseURL + "/tus/files/", extra: "    upload_checksum: false\n")
            #expect(counts["tus.patch"] == 4 && counts["tus.patch.sha1"] == nil, "\(counts)")
        }
    }

    /// A checksum of other bytes: 460 Checksum Mismatch, the bytes dropped (the offset does not move); the
    /// client takes it as bytes damaged on the way, to be sent again. The right one is taken.
    @Test(.timeLimit(.minutes(3))) func aWrongChecksumIs460AndTheBytesAreDropped() async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            let tus = TusClient(http: .shared)
            let url = try await tus.create(s.baseURL + "/tus/files/", length: 1000, metadata: [])
            let bytes = ByteBuffer(bytes: (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 3) })
            let sum = Data(Insecure.SHA1.hash(data: Data(buffer: bytes))).base64EncodedString()
            let wrong = Data(Insecure.SHA1.hash(data: Data("other".utf8))).base64EncodedString()
            let e = await #expect(throws: DeliveryError.self) { _ = try await tus.patch(url, offset: 0, bytes: bytes, checksum: "sha1 " + wrong) }
            #expect(e?.httpStatus == 460 && e?.kind == .retryNow, "\(String(describing: e))")
            #expect(try await tus.offset(url)?.offset == 0)
            #expect(try await tus.patch(url, offset: 0, bytes: bytes, checksum: "sha1 " + sum) == .accepted(1000))
        }
    }

    @Test func theChecksumFollowsTheUploadsScheme() {
        let caps = TusClient.Capabilities(extensions: ["checksum"], checksums: ["sha1", "sha256"])
        #expect(caps.checksum(for: "http://tus.local/files/1") == "sha1")
        #expect(caps.checksum(for: "https://tus.example.com/files/1") == nil)
        #expect(caps.checksum(for: "https://tus.example.com/files/1", forced: true) == "sha1")
        #expect(caps.checksum(for: "http://tus.local/files/1", forced: false) == nil)
        // A server without the extension is sent none, whatever the account says.
        #expect(TusClient.Capabilities(extensions: [], checksums: []).checksum(for: "http://a/1", forced: true) == nil)
    }
}
