import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// A long upload drops the code mapped before its parts (`ChunkLoop.longUpload`, `MappedCode.compact`):
/// the chunk loop records a drop of mappings (not the process's resident figure, which other suites
/// running beside this one move), and the upload — its code mapped back as it runs — arrives whole.
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
            let before = ChunkLoop.compactions.withLock { $0.count }
            _ = try await a.deliver(job, checkpoint: { _ in }, progress: { _, _ in })
            let after = ChunkLoop.compactions.withLock { $0 }
            #expect(after.count > before, "the long upload dropped no mapped code")
            #expect((after.last?.mappings ?? 0) > 0, "\(String(describing: after.last))")
            let o = try #require(await s.state.object(bucket: "clips", key: "walk.mp4"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: o.path)) == (try Data(contentsOf: f)))
        }
    }
}
