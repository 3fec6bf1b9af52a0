import Foundation
import OmniPostCore
import Testing

@Suite struct SafeFilesTests {
    static let otherFS = "/dev/shm"

    @Test(.enabled(if: FileManager.default.isWritableFile(atPath: otherFS)))
    func moveAcrossFilesystemsCopiesVerifiesThenRemoves() throws {
        let dir = try TempDir()
        let src = URL(fileURLWithPath: Self.otherFS).appendingPathComponent("omnipost-\(UUID().uuidString).mp4")
        let payload = Data((0..<300_000).map { UInt8($0 % 253) })
        try payload.write(to: src)
        defer { try? FileManager.default.removeItem(at: src) }
        let dst = dir.file("archive/2026/11/21/d/clip.mp4")
        try SafeFiles.moveOriginal(from: src, to: dst)
        #expect(!FileManager.default.fileExists(atPath: src.path))
        #expect(try Data(contentsOf: dst) == payload)
        #expect(files(under: dir.file("archive")).count == 1)  // no temp copy left behind
    }

    @Test func aMoveInterruptedAfterTheCopyFinishesOnRetry() throws {
        let dir = try TempDir()
        let src = try dir.write("inbox/a.mp4", "the same bytes")
        let dst = try dir.write("archive/a.mp4", "the same bytes")
        try SafeFiles.moveOriginal(from: src, to: dst)
        #expect(!FileManager.default.fileExists(atPath: src.path))
        let other = try dir.write("inbox/b.mp4", "new bytes")
        let taken = try dir.write("archive/b.mp4", "old bytes")
        #expect(throws: OmniError.self) { try SafeFiles.moveOriginal(from: other, to: taken) }
        #expect(FileManager.default.fileExists(atPath: other.path))  // never lost
    }

    @Test func atomicWritesLeaveNoTemporaryFiles() throws {
        let dir = try TempDir()
        let url = dir.file("outbox/r.result.json")
        try SafeFiles.writeAtomically(Data("{}".utf8), to: url)
        try SafeFiles.writeAtomically(Data("{\"v\":2}".utf8), to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "{\"v\":2}")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("outbox").path) == ["r.result.json"])
    }
}
