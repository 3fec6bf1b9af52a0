import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// A long upload drops the code mapped before its parts (`ChunkLoop.longUpload`, `MappedCode.compact`):
/// by the first part's checkpoint the process has fewer file-backed pages resident than it had right
/// before the delivery began, and the upload — its code mapped back as it runs — arrives whole.
@Suite(.serialized) struct LongUploadCompactionTests {
    @Test(.timeLimit(.minutes(3))) func aLongUploadDropsTheCodeMappedBeforeItsPartsAndStillArrivesWhole() async throws {
        let dir = try TempDir()
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        await s.state.registerS3(accessKeyID: S3PartChecksumTests.key, secret: S3PartChecksumTests.secret)
        try await stopping(s) {
            // 72 MiB, each MiB its own bytes: past the 64 MiB that makes an upload long.
            let f = dir.file("walk.mp4")
            #expect(FileManager.default.createFile(atPath: f.path, contents: nil))
            let h = try FileHandle(forWritingTo: f)
            for i in 0..<72 { try h.write(contentsOf: Data(repeating: UInt8(truncatingIfNeeded: i &* 37 &+ 1), count: 1 << 20)) }
            try h.close()
            #expect(Int64(72 << 20) >= ChunkLoop.longUpload)
            let a = try S3Tests.adapter(endpoint: s.baseURL + "/s3", bucket: "clips", chunk: 8 << 20, sandbox: true)
            let job = try S3Tests.job(f)
            let before = MappedCode.fileResidentKiB()
            let atFirstPart = FirstPartResidency()
            _ = try await a.deliver(job, checkpoint: { cp in if cp.confirmedOffset > 0 { atFirstPart.note(MappedCode.fileResidentKiB()) } }, progress: { _, _ in })
            let first = try #require(atFirstPart.kib)
            #expect(first < before, "file-backed KiB resident: \(before) before the delivery, \(first) at its first part")
            let o = try #require(await s.state.object(bucket: "clips", key: "walk.mp4"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: o.path)) == (try Data(contentsOf: f)))
        }
    }
}

/// The file-backed KiB resident when the first part was checkpointed.
final class FirstPartResidency: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Int?
    func note(_ kib: Int) { lock.withLock { if first == nil { first = kib } } }
    var kib: Int? { lock.withLock { first } }
}
