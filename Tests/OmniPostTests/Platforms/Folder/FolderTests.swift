import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
import Testing

/// The folder target: a verified copy under a template name, resumed from its partial file, never
/// overwriting other bytes, reconciled by sha256; its settings checked at their lines.
@Suite struct FolderTests {
    static let meta = PublishMetadata(title: "t", description: "d", tags: ["a"], privacy: .public, publishAt: nil, options: [:])

    static func adapter(_ dir: TempDir, settings extra: String, chunk: Int64 = 1 << 20) throws -> any PlatformAdapter {
        let text = """
            version: 1
            root: \(dir.url.path)/p
            sandbox: none
            targets: [folder:nas]
            accounts:
              folder:nas: {\(extra)}
            """
        let config = try PlatformRegistry.parse(text: text, file: "p.yaml", baseDirectory: dir.url)
        let account = try #require(config.accounts["folder:nas"])
        let settings = AdapterSettings(
            account: account, tokens: TokenProvider(account: account, http: HTTPClient.shared, store: MemoryTokenStore()),
            http: HTTPClient.shared, chunkSize: chunk)
        return PlatformRegistry.makeAdapter(platform: "folder", settings: settings)!
    }

    static func job(_ file: URL, session: String? = nil, offset: Int64 = 0, stem: String = "clip") throws -> UploadJob {
        let size = try #require(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64)
        var j = UploadJob(deliveryId: 7, filePath: file.path, size: size, metadata: meta, session: session, confirmedOffset: offset)
        j.expectedSha256 = try FileHashing.sha256(path: file.path).hex
        j.drop = DropFacts(
            dropId: "d-1", target: "folder:nas", stem: stem, source: "sub/\(stem).mp4", sidecarPath: nil,
            takenAt: Date(timeIntervalSince1970: 1_790_000_000))
        return j
    }

    static func bytes(_ dir: TempDir, _ name: String, size: Int, seed: UInt8 = 3) throws -> URL {
        let f = dir.file(name)
        try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }).write(to: f)
        return f
    }

    /// Someone who can write the destination share plants links: as the partial file (pointing at a file
    /// of the daemon's), as the published name, as the companion's name, and as a subfolder pointing out
    /// of the share. Nothing outside is written or read; the links are never followed.
    @Test func plantedLinksInTheDestinationAreNeverWrittenThrough() async throws {
        let dir = try TempDir()
        let nas = dir.file("nas")
        try FileManager.default.createDirectory(at: nas, withIntermediateDirectories: true)
        let precious = try dir.write("precious/ledger.sqlite", "the daemon's own bytes\n")
        let file = try Self.bytes(dir, "r.mp4", size: 2 << 20 + 7)
        try dir.write("clip.yaml", "title: t\n")
        // 1. The partial file and the companion's name are links to a file outside.
        try FileManager.default.createSymbolicLink(atPath: nas.appendingPathComponent(".clip.mp4.omnipost-partial").path, withDestinationPath: precious.path)
        try FileManager.default.createSymbolicLink(atPath: nas.appendingPathComponent("clip.yaml").path, withDestinationPath: precious.path)
        let a = try Self.adapter(dir, settings: "path: \(nas.path), copy_sidecar: true")
        var job = try Self.job(file)
        job.drop?.sidecarPath = dir.file("clip.yaml").path
        let out = try await a.deliver(job, checkpoint: { _ in }, progress: { _, _ in })
        #expect(out.remoteId == "clip.mp4")
        #expect(try String(contentsOf: precious, encoding: .utf8) == "the daemon's own bytes\n")
        var st = stat()
        #expect(lstat(nas.appendingPathComponent("clip.mp4").path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG && st.st_nlink == 1)
        #expect(try FileHashing.sha256(path: nas.appendingPathComponent("clip.mp4").path).hex == job.expectedSha256)
        #expect(lstat(nas.appendingPathComponent("clip.yaml").path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG, "the companion replaced the link, not written through it")
        // 2. The published name is a link (to the outside file): another name is chosen; the link stays untouched.
        let other = try Self.bytes(dir, "o.mp4", size: 1 << 20, seed: 9)
        try FileManager.default.createSymbolicLink(atPath: nas.appendingPathComponent("walk.mp4").path, withDestinationPath: precious.path)
        let out2 = try await a.deliver(try Self.job(other, stem: "walk"), checkpoint: { _ in }, progress: { _, _ in })
        #expect(out2.remoteId.hasPrefix("walk-"), "\(out2.remoteId)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: nas.appendingPathComponent("walk.mp4").path) == precious.path)
        #expect(try String(contentsOf: precious, encoding: .utf8) == "the daemon's own bytes\n")
        // 3. A subfolder of the template is a link out of the share: refused, nothing lands outside.
        let outside = dir.file("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: nas.appendingPathComponent("2026").path, withDestinationPath: outside.path)
        let b = try Self.adapter(dir, settings: "path: \(nas.path), name: \"2026/{stem}.{ext}\"")
        await #expect(throws: DeliveryError.self) { _ = try await b.deliver(try Self.job(other, stem: "away"), checkpoint: { _ in }, progress: { _, _ in }) }
        do { _ = try await b.deliver(try Self.job(other, stem: "away"), checkpoint: { _ in }, progress: { _, _ in }) } catch let e as DeliveryError {
            #expect(e.code == .pathEscape && e.kind == .permanent, "\(e)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
        // 4. A resumed copy whose partial file became a hard link to the outside file starts afresh.
        let c = try Self.adapter(dir, settings: "path: \(nas.path)")
        let third = try Self.bytes(dir, "t.mp4", size: 1 << 20, seed: 5)
        try FileManager.default.linkItem(atPath: precious.path, toPath: nas.appendingPathComponent(".hard.mp4.omnipost-partial").path)
        _ = try await c.deliver(try Self.job(third, session: "hard.mp4", offset: 5, stem: "hard"), checkpoint: { _ in }, progress: { _, _ in })
        #expect(try String(contentsOf: precious, encoding: .utf8) == "the daemon's own bytes\n")
        #expect(try FileHashing.sha256(path: nas.appendingPathComponent("hard.mp4").path).hex == (try FileHashing.sha256(path: third.path).hex))
    }

    @Test func aCopyLandsVerifiedUnderItsTemplateNameWithItsCompanions() async throws {
        let dir = try TempDir()
        let nas = dir.file("nas")
        let file = try Self.bytes(dir, "r.mp4", size: 3 << 20 + 123)
        try dir.write("clip.yaml", "title: t\n")
        let a = try Self.adapter(dir, settings: "path: \(nas.path), name: \"{year}/{stem}-{drop}.{ext}\", copy_sidecar: true, copy_result: true")
        var job = try Self.job(file)
        job.drop?.sidecarPath = dir.file("clip.yaml").path
        let year = Calendar.current.component(.year, from: job.drop!.takenAt)
        let out = try await a.deliver(job, checkpoint: { _ in }, progress: { _, _ in })
        let landed = nas.appendingPathComponent("\(year)/clip-d-1.mp4")
        #expect(out.remoteId == "\(year)/clip-d-1.mp4")
        #expect(try FileHashing.sha256(path: landed.path).hex == job.expectedSha256)
        #expect(try String(contentsOf: nas.appendingPathComponent("\(year)/clip-d-1.yaml"), encoding: .utf8) == "title: t\n")
        let doc = try readJSON(nas.appendingPathComponent("\(year)/clip-d-1.omnipost.json"))
        #expect(doc["drop_id"] as? String == "d-1")
        #expect(doc["sha256"] as? String == job.expectedSha256)
        #expect((doc["metadata"] as? [String: Any])?["title"] as? String == "t")
        // No partial file is left behind.
        let left = try FileManager.default.contentsOfDirectory(atPath: nas.appendingPathComponent("\(year)").path)
        #expect(!left.contains { $0.hasSuffix("omnipost-partial") }, "\(left)")
    }

    /// A copy cut part-way is never under its name half-written (its resume is the conformance suite's
    /// restart); a finished copy is found by its bytes; another file's name is never overwritten.
    @Test func aHalfCopyIsNeverUnderItsNameAndAnotherFilesNameIsNeverOverwritten() async throws {
        let dir = try TempDir()
        let nas = dir.file("nas")
        let file = try Self.bytes(dir, "r.mp4", size: 5 << 20 + 7)
        let a = try Self.adapter(dir, settings: "path: \(nas.path)")
        let seen = try await interrupted {
            try await a.deliver(try Self.job(file), checkpoint: $0, progress: { _, _ in })
        } at: {
            $0.confirmedOffset >= 2 << 20
        }
        let last = try #require(seen.last)
        #expect(last.session == "clip.mp4" && last.confirmedOffset == 2 << 20)
        #expect(!FileManager.default.fileExists(atPath: nas.appendingPathComponent("clip.mp4").path), "never under its name half-written")
        _ = try await a.deliver(try Self.job(file, session: last.session, offset: last.confirmedOffset), checkpoint: { _ in }, progress: { _, _ in })
        // The same delivery once more (a lost reply): found there, nothing written.
        let again = try await a.deliver(try Self.job(file, session: "clip.mp4", offset: 5 << 20 + 7), checkpoint: { _ in }, progress: { _, _ in })
        #expect(again.reconciled && again.bytesSent == 0)
        let fresh = try await a.deliver(try Self.job(file), checkpoint: { _ in }, progress: { _, _ in })
        #expect(fresh.reconciled && fresh.remoteId == "clip.mp4", "the same bytes already there are the post")
        // A re-edited clip of the same name lands beside it, under its sha256's first 8 hex digits.
        let edited = try Self.bytes(dir, "r2.mp4", size: 4096, seed: 9)
        let j2 = try Self.job(edited)
        let second = try await a.deliver(j2, checkpoint: { _ in }, progress: { _, _ in })
        #expect(second.remoteId == "clip-\(j2.expectedSha256!.prefix(8)).mp4")
        #expect(try FileHashing.sha256(path: nas.appendingPathComponent("clip.mp4").path).hex == (try Self.job(file)).expectedSha256, "the first is untouched")
        // A third file whose both names are taken by other bytes is refused, permanently.
        let third = try Self.bytes(dir, "r3.mp4", size: 4096, seed: 9)
        try FileManager.default.removeItem(at: nas.appendingPathComponent(second.remoteId))
        try Data("other".utf8).write(to: nas.appendingPathComponent(second.remoteId))
        let e = await #expect(throws: DeliveryError.self) { _ = try await a.deliver(try Self.job(third), checkpoint: { _ in }, progress: { _, _ in }) }
        #expect(e?.kind == .permanent && e?.message.contains("nothing was overwritten") == true, "\(String(describing: e))")
    }

    /// A sidecar's `overrides: {folder: {name: …}}` names the copy; a bad one is refused at validation.
    @Test func aSidecarsNameOverrideNamesTheCopy() async throws {
        let dir = try TempDir()
        let file = try Self.bytes(dir, "r.mp4", size: 1000)
        let a = try Self.adapter(dir, settings: "path: \(dir.file("nas").path)")
        var job = try Self.job(file)
        job.metadata.options["name"] = "for-client/{stem}-v2.{ext}"
        #expect(try await a.deliver(job, checkpoint: { _ in }, progress: { _, _ in }).remoteId == "for-client/clip-v2.mp4")
        // A name the file system cannot hold fails for good, said so; nothing is retried.
        var long = try Self.job(file)
        long.metadata.options["name"] = String(repeating: "n", count: 300) + ".mp4"
        let e = await #expect(throws: DeliveryError.self) { _ = try await a.deliver(long, checkpoint: { _ in }, progress: { _, _ in }) }
        #expect(e?.kind == .permanent && e?.message.contains("shorten") == true, "\(String(describing: e))")
        var bad = Self.meta
        bad.options["name"] = "{stem}-{dayz}.mp4"
        #expect(a.preflight(bad)?.message.contains("did you mean {day}?") == true)
    }

    @Test func aFolderThatIsAFileOrMissingIsSaidClearly() async throws {
        let dir = try TempDir()
        let file = try Self.bytes(dir, "r.mp4", size: 1000)
        // A share that is not mounted: its parent is not there either — wait and try again, no guessing.
        let a = try Self.adapter(dir, settings: "path: /nonexistent-omnipost/share")
        let e = await #expect(throws: DeliveryError.self) { _ = try await a.deliver(try Self.job(file), checkpoint: { _ in }, progress: { _, _ in }) }
        if case .retryAt = e?.kind {} else { Issue.record("expected a later retry, got \(String(describing: e))") }
        #expect(e?.message.contains("not mounted") == true)
    }

    @Test func settingsAreCheckedAtTheirLines() throws {
        let dir = try TempDir()
        try dir.write("plain", "x")
        func check(_ lines: String) -> OmniError? { AccountChecks.problem("folder:nas", lines, dir: dir.url) }
        let relative = check("    path: share/out\n")
        #expect(relative?.message.contains("must be absolute") == true && relative?.location?.line == 7, "\(String(describing: relative))")
        let isFile = check("    path: \(dir.file("plain").path)\n")
        #expect(isFile?.message.contains("is a file, not a folder") == true)
        let placeholder = check("    path: /tmp\n    name: \"{stem}-{dte}.{ext}\"\n")
        #expect(placeholder?.message.contains("did you mean {date}?") == true && placeholder?.location?.line == 8, "\(String(describing: placeholder))")
        let climbs = check("    path: /tmp\n    name: ../{stem}.mp4\n")
        #expect(climbs?.message.contains("no ..") == true)
        let typo = check("    path: /tmp\n    copy_sidcar: true\n")
        #expect(typo?.code == .unknownKey && typo?.message.contains("did you mean 'copy_sidecar'?") == true && typo?.location?.line == 8, "\(String(describing: typo))")
        let missing = check("    name: x.mp4\n")
        #expect(missing?.message.contains("needs `path`") == true && missing?.location?.line == 7, "\(String(describing: missing))")
        #expect(check("    path: /tmp\n    copy_result: true\n") == nil)
    }

    /// Through the whole pipeline: a drop to YouTube and a NAS folder, the folder's copy verified.
    @Test(.timeLimit(.minutes(3))) func aPipelineCopiesTheClipBesideItsPosts() async throws {
        let dir = try TempDir()
        let nas = dir.file("nas")
        let config = try TestPipelines.config(
            root: dir.url.appendingPathComponent("p"),
            extra: """
                accounts:
                  folder:nas: {path: \(nas.path), name: "{date}/{stem}.{ext}", copy_result: true}
                """, targets: "targets: [youtube:main, folder:nas]")
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        try TestPipelines.drop(clip, as: "walk", sidecar: "title: a walk\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let deliveries = try p.context.ledger.allDeliveries()
            #expect(deliveries.map(\.state) == [.published, .published], "\(deliveries.map { $0.errorMessage ?? "" })")
            let folder = try #require(deliveries.first { $0.platform == "folder" })
            let landed = nas.appendingPathComponent(try #require(folder.remoteId))
            #expect(try FileHashing.sha256(path: landed.path).hex == folder.renditionSha256)
            #expect(folder.remoteId?.hasSuffix("/walk.mp4") == true, "\(folder.remoteId ?? "")")
            #expect(FileManager.default.fileExists(atPath: landed.deletingPathExtension().path + ".omnipost.json"))
        }
    }
}
