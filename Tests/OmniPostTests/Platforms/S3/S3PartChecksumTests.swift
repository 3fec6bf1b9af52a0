import AsyncHTTPClient
import Foundation
import NIOCore
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import OmniPostWire
import Testing

/// What vouches for an S3 part (docs/upload-engine.md, "Transports"): over plain HTTP its sha256 in the
/// signature, as every AWS SDK does there; over HTTPS `UNSIGNED-PAYLOAD` and its CRC-32C in a signed
/// `x-amz-checksum-crc32c` header, the upload created with that algorithm and complete naming each part's
/// checksum — read here from what the sandbox's S3 received, and its refusals S3's own.
@Suite(.serialized) struct S3PartChecksumTests {
    static let key = "AKIDS3", secret = "s3-secret"

    /// A sandbox serving HTTPS too (the run's CA), with the bucket's keys.
    static func sandbox(_ dir: TempDir) async throws -> SandboxServer {
        let s = SandboxServer(root: dir.file("sandbox"))
        try TestTLS.seed(dir.file("sandbox"))
        try await s.start(tls: true)
        await s.state.registerS3(accessKeyID: key, secret: secret)
        return s
    }

    static func bucket(_ endpoint: String, http: HTTPClient) -> S3Bucket {
        var c = MediaHostConfig.S3(endpoint: endpoint, bucket: "clips", region: "us-east-1", accessKeyID: key, secretAccessKey: secret, prefix: "")
        c.pathStyle = true
        return S3Bucket(c, http: http)
    }

    static func stored(_ s: SandboxServer, _ key: String) async throws -> Data {
        let o = try #require(await s.state.object(bucket: "clips", key: key))
        return try Data(contentsOf: URL(fileURLWithPath: o.path))
    }

    @Test(.timeLimit(.minutes(3))) func overHTTPSEachPartCarriesItsCRC32CUnsignedAndAResumeNamesThemAllInComplete() async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            let endpoint = "https://127.0.0.1:\(try #require(s.tlsPort))/s3"
            let a = try S3Tests.adapter(endpoint: endpoint, bucket: "clips", sandbox: true, http: TestTLS.client)
            let f = try S3Tests.file(dir, size: 12 << 20 + 4321)
            // Killed after the first part: the session checkpointed with its algorithm and the part's CRC.
            let seen = try await interrupted {
                try await a.deliver(try S3Tests.job(f), checkpoint: $0, progress: { _, _ in })
            } at: {
                $0.confirmedOffset > 0
            }
            let text = try #require(seen.last?.session)
            let session = try JSONDecoder().decode(S3Adapter.Session.self, from: Data(text.utf8))
            #expect(session.checksum == "CRC32C")
            let first = try Data(contentsOf: f).prefix(5 << 20)
            #expect(session.parts?.map(\.crc32c) == [CRC32C.base64(CRC32C.checksum(first))], "\(text)")
            // The resume asks ListParts (which names part 1's CRC-32C), sends parts 2 and 3, and completes.
            let out = try await a.deliver(
                try S3Tests.job(f, session: text, offset: try #require(seen.last?.confirmedOffset)), checkpoint: { _ in }, progress: { _, _ in })
            #expect(out.remoteId == "walk.mp4")
            #expect(try await Self.stored(s, "walk.mp4") == (try Data(contentsOf: f)))
            let counts = await s.state.requestCounts
            #expect(counts["s3.part"] == 3 && counts["s3.part.unsigned"] == 3 && counts["s3.part.crc32c"] == 3, "\(counts)")
            #expect(counts["s3.part.signed"] == nil, "no part's sha256 was signed over HTTPS")
        }
    }

    @Test(.timeLimit(.minutes(3))) func overPlainHTTPEachPartsSHA256IsSignedAsTheAWSSDKsDo() async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            let a = try S3Tests.adapter(endpoint: s.baseURL + "/s3", bucket: "clips", sandbox: true)
            let f = try S3Tests.file(dir, size: 11 << 20)
            let cps = CheckpointLog()
            _ = try await a.deliver(try S3Tests.job(f), checkpoint: { cps.add($0) }, progress: { _, _ in })
            #expect(try await Self.stored(s, "walk.mp4") == (try Data(contentsOf: f)))
            let session = try JSONDecoder().decode(S3Adapter.Session.self, from: Data(try #require(cps.all.last?.session).utf8))
            #expect(session.checksum == nil && session.parts?.allSatisfy { $0.crc32c == nil } == true)
            let counts = await s.state.requestCounts
            #expect(counts["s3.part.signed"] == 3 && counts["s3.part.unsigned"] == nil && counts["s3.part.crc32c"] == nil, "\(counts)")
        }
    }

    /// An upload begun over HTTPS with CRC32C parts and resumed where payloads are signed (here
    /// `part_checksums: false`; a plain-HTTP endpoint is the same): each later part is signed AND carries
    /// the CRC-32C the upload's algorithm asks of it — never `UNSIGNED-PAYLOAD` where botocore signs.
    @Test(.timeLimit(.minutes(3))) func anUploadBegunWithCRC32CResumedWherePayloadsAreSignedSignsEachPartAndKeepsItsCRC() async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            let endpoint = "https://127.0.0.1:\(try #require(s.tlsPort))/s3"
            let first = try S3Tests.adapter(endpoint: endpoint, bucket: "clips", sandbox: true, http: TestTLS.client)
            let f = try S3Tests.file(dir, size: 12 << 20 + 77)
            let seen = try await interrupted {
                try await first.deliver(try S3Tests.job(f), checkpoint: $0, progress: { _, _ in })
            } at: {
                $0.confirmedOffset > 0
            }
            let text = try #require(seen.last?.session)
            #expect(text.contains("CRC32C"))
            let signing = try S3Tests.adapter(endpoint: endpoint, bucket: "clips", extra: ", part_checksums: false", sandbox: true, http: TestTLS.client)
            let cps = CheckpointLog()
            _ = try await signing.deliver(
                try S3Tests.job(f, session: text, offset: try #require(seen.last?.confirmedOffset)), checkpoint: { cps.add($0) }, progress: { _, _ in })
            #expect(try await Self.stored(s, "walk.mp4") == (try Data(contentsOf: f)))
            let counts = await s.state.requestCounts
            // Part 1 unsigned with its CRC before the cut; parts 2 and 3 signed, each with its CRC.
            #expect(counts["s3.part"] == 3 && counts["s3.part.unsigned"] == 1 && counts["s3.part.signed"] == 2, "\(counts)")
            #expect(counts["s3.part.crc32c"] == 3, "\(counts)")
            let session = try JSONDecoder().decode(S3Adapter.Session.self, from: Data(try #require(cps.all.last?.session).utf8))
            #expect(session.parts?.count == 3 && session.parts?.allSatisfy { $0.crc32c != nil } == true)
        }
    }

    /// S3 refuses a SigV4 request carrying an `x-amz-*` header it was not signed over (a checksum swapped
    /// on the way would otherwise pass); the sandbox does too, and our requests sign every one they send.
    @Test(.timeLimit(.minutes(2))) func anXAmzHeaderLeftOutOfTheSignatureIsRefused() async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            let b = Self.bucket(s.baseURL + "/s3", http: .shared)
            let data = ByteBuffer(string: "twelve bytes")
            let sha = data.withUnsafeReadableBytes { FileHashing.sha256(data: Data($0)) }
            var req = b.signed(.PUT, key: "n.txt", headers: ["x-amz-meta-kept": "1"], body: .bytes(data), length: 12, sha256: sha)
            req.headers.add(name: "x-amz-meta-added", value: "after signing")
            let resp = try await HTTPClient.shared.execute(req, timeout: .seconds(30))
            let text = String(buffer: try await resp.body.collect(upTo: 1 << 16))
            #expect(resp.status.code == 403 && text.contains("AccessDenied") && text.contains("x-amz-meta-added"), "\(text)")
            #expect(await s.state.object(bucket: "clips", key: "n.txt") == nil)
            // The same request as signed is taken.
            let ok = try await HTTPClient.shared.execute(
                b.signed(.PUT, key: "n.txt", headers: ["x-amz-meta-kept": "1"], body: .bytes(data), length: 12, sha256: sha), timeout: .seconds(30))
            #expect(ok.status == .ok)
            #expect(try await Self.stored(s, "n.txt") == Data("twelve bytes".utf8))
        }
    }

    /// A store without flexible checksums (older MinIO, Ceph): `part_checksums: false` signs each part's
    /// sha256 over HTTPS too, creates the upload with no algorithm and completes without checksums; a
    /// value that is no yes or no is refused where it is written.
    @Test(.timeLimit(.minutes(3))) func partChecksumsOffSignsEachPartOverHTTPSAsOverHTTP() async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            let endpoint = "https://127.0.0.1:\(try #require(s.tlsPort))/s3"
            let a = try S3Tests.adapter(endpoint: endpoint, bucket: "clips", extra: ", part_checksums: false", sandbox: true, http: TestTLS.client)
            let f = try S3Tests.file(dir, size: 11 << 20)
            let cps = CheckpointLog()
            _ = try await a.deliver(try S3Tests.job(f), checkpoint: { cps.add($0) }, progress: { _, _ in })
            #expect(try await Self.stored(s, "walk.mp4") == (try Data(contentsOf: f)))
            let session = try JSONDecoder().decode(S3Adapter.Session.self, from: Data(try #require(cps.all.last?.session).utf8))
            #expect(session.checksum == nil)
            let counts = await s.state.requestCounts
            #expect(counts["s3.part.signed"] == 3 && counts["s3.part.unsigned"] == nil && counts["s3.part.crc32c"] == nil, "\(counts)")
        }
        #expect(throws: (any Error).self) {
            _ = try S3Tests.adapter(endpoint: "https://s3.example.com", bucket: "clips", extra: ", part_checksums: sometimes")
        }
    }

    /// S3's answers to a part that does not match what vouches for it, or to an upload's checksum left out.
    @Test(.timeLimit(.minutes(3))) func aWrongOrMissingChecksumIsRefusedAsS3RefusesIt() async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            let b = Self.bucket("https://127.0.0.1:\(try #require(s.tlsPort))/s3", http: TestTLS.client)
            let id = try await b.createMultipartUpload("k.mp4", headers: ["x-amz-checksum-algorithm": "CRC32C"])
            let bytes = ByteBuffer(bytes: (0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            let crc = bytes.withUnsafeReadableBytes(CRC32C.checksum)
            // A CRC-32C of other bytes: 400 BadDigest, nothing stored.
            let wrong = await #expect(throws: DeliveryError.self) {
                _ = try await b.uploadPart("k.mp4", uploadId: id, number: 1, bytes: bytes, digest: .crc32c(crc ^ 1))
            }
            #expect(wrong?.httpStatus == 400 && wrong?.message.contains("BadDigest") == true, "\(String(describing: wrong))")
            #expect(await s.state.uploadParts(uploadId: id, bucket: "clips", key: "k.mp4")?.isEmpty == true)
            // The upload was created with CRC32C: a part vouched for by its signed sha256 alone is refused.
            let sha = bytes.withUnsafeReadableBytes { FileHashing.sha256(data: Data($0)) }
            let mismatch = await #expect(throws: DeliveryError.self) {
                _ = try await b.uploadPart("k.mp4", uploadId: id, number: 1, bytes: bytes, digest: .signedSHA256(sha))
            }
            #expect(mismatch?.message.contains("Checksum Type mismatch") == true, "\(String(describing: mismatch))")
            // A signed sha256 that is not the bytes' is refused too (plain HTTP's check).
            let plain = Self.bucket(s.baseURL + "/s3", http: .shared)
            let id2 = try await plain.createMultipartUpload("p.mp4", headers: [:])
            let badSHA = await #expect(throws: DeliveryError.self) {
                _ = try await plain.uploadPart("p.mp4", uploadId: id2, number: 1, bytes: bytes, digest: .signedSHA256(String(repeating: "0", count: 64)))
            }
            #expect(badSHA?.message.contains("XAmzContentSHA256Mismatch") == true)
            // The right CRC-32C is taken; complete without it is refused, with it the object is made.
            let etag = try await b.uploadPart("k.mp4", uploadId: id, number: 1, bytes: bytes, digest: .crc32c(crc))
            let missing = await #expect(throws: DeliveryError.self) {
                _ = try await b.completeMultipartUpload("k.mp4", uploadId: id, parts: [S3Bucket.Part(number: 1, etag: etag, size: 5 << 20)])
            }
            #expect(missing?.message.contains("must include the checksum for each part") == true, "\(String(describing: missing))")
            _ = try await b.completeMultipartUpload(
                "k.mp4", uploadId: id, parts: [S3Bucket.Part(number: 1, etag: etag, size: 5 << 20, crc32c: CRC32C.base64(crc))])
            #expect(try await Self.stored(s, "k.mp4") == Data(buffer: bytes))
        }
    }

    /// The C function against CRC-32C's check value (RFC 3720's polynomial: "123456789" → E3069283) and
    /// block by block against whole.
    @Test func crc32cIsTheCastagnoliChecksum() {
        #expect(CRC32C.checksum(Data("123456789".utf8)) == 0xE306_9283)
        let data = Data((0..<100_003).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        var c = CRC32C()
        for start in stride(from: 0, to: data.count, by: 4099) {
            data[start..<min(start + 4099, data.count)].withUnsafeBytes { c.update($0) }
        }
        #expect(c.value == CRC32C.checksum(data))
        #expect(CRC32C.base64(0xE306_9283) == "4waSgw==")
    }
}
