import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// `SIGHUP` reads the pipeline files again. A reload in the middle of an upload loses nothing and posts
/// nothing twice: the held work is released and resumed from its checkpoint by the new configuration,
/// which the next drop is planned with. A file that no longer reads is refused with its place, and the
/// pipeline keeps running as it was. The real binary does all of it on a real signal.
@Suite struct ReloadTests {
    static func pipelineText(root: URL, targets: String) -> String {
        """
        version: 1
        name: reload
        root: \(root.path)
        watch: {mode: inotify, settle: 200ms}
        sidecar: {grace: 1s, missing: fail}
        sandbox: embedded
        upload: {chunk_size: 256KiB, concurrency: 2}
        \(TestPipelines.generousQuotas)
        targets: [\(targets)]
        """
    }

    /// Polls `done` every 100 ms until it holds or `seconds` pass.
    static func until(_ seconds: Double, _ done: () throws -> Bool) async throws -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if try done() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try done()
    }

    @Test(.timeLimit(.minutes(4))) func aReloadMidUploadLosesNothingAndPostsOnce() async throws {
        let dir = try TempDir()
        let root = dir.file("p")
        let file = try dir.write("p.yaml", Self.pipelineText(root: root, targets: "youtube:main"))
        let config = try PlatformRegistry.load(path: file.path)
        let lines = LinesBox()
        let first = try await Pipeline.open(config: config, logger: TestPipelines.logger, progress: ProgressSink { lines.add($0) }, embedding: TestPipelines.embedding)
        let sandbox = try #require(first.sandbox)
        // A slow link: each 256 KiB chunk takes 250 ms, so the reload lands mid-upload.
        var faults = SandboxState.Faults()
        faults.youtubePutDelayMs = 250
        await sandbox.state.setFaults(faults)
        let supervisor = Supervisor(
            pipelines: [(file.path, first)], logger: TestPipelines.logger, progress: ProgressSink { lines.add($0) },
            load: { try PlatformRegistry.load(path: $0) })
        let running = Task { try await supervisor.run() }
        // Each drop a different clip: the same bytes twice would be skipped as already posted.
        for i in 1...2 {
            try TestPipelines.drop(
                try Clips.make(width: 640, height: 360, seconds: 3 + Double(i)), as: "before-\(i)", sidecar: "title: before \(i)\nprivacy: public\n", into: config)
        }
        let ledger = first.context.ledger
        let midUpload = try await Self.until(60) { try ledger.allDeliveries().contains { $0.state == .uploading && $0.confirmedOffset > 0 } }
        #expect(midUpload, "an upload was under way when the reload came")

        // The file changes: a second target. The reload swaps the pipeline; what was held carries on.
        try Self.pipelineText(root: root, targets: "youtube:main, x:main").write(to: file, atomically: true, encoding: .utf8)
        await supervisor.reload()
        let second = try #require(await supervisor.pipelines.first)
        #expect(second !== first && second.sandbox === sandbox, "a new pipeline, the same sandbox")
        #expect(lines.all.contains { $0.contains("reload \(file.path): done (youtube:main, x:main)") }, "\(lines.all)")
        let settled = try await Self.until(90) { try ledger.drops().count == 2 && ledger.drops().allSatisfy { $0.state == .archived } }
        #expect(settled, "\((try? ledger.drops().map { "\($0.stem) \($0.state) \($0.reasonCode ?? "") \($0.reasonMessage ?? "")" }) ?? [])")

        // A drop after the reload is planned with the new file: both targets.
        await sandbox.state.setFaults(SandboxState.Faults())
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1.5), as: "after", sidecar: "title: after\nprivacy: public\n", into: config)
        let after = try await Self.until(90) { try ledger.drops().first { $0.stem == "after" }?.state == .archived }
        #expect(after)
        let byDrop = Dictionary(grouping: try ledger.allDeliveries(), by: \.dropId)
        for d in try ledger.drops() {
            let ds = byDrop[d.id] ?? []
            #expect(ds.filter { $0.platform == "youtube" && $0.state == .published }.count == 1, "\(d.stem): \(ds.map { "\($0.target) \($0.state)" })")
            // Planned before the reload: YouTube only. Not yet planned when it came (still being validated): the new
            // file's targets. After it: both. Whatever it got, each published once.
            if d.stem == "after" { #expect(ds.contains { $0.platform == "x" }, "\(d.stem)") }
            #expect(ds.allSatisfy { $0.state == .published }, "\(d.stem): \(ds.map { "\($0.target) \($0.state)" })")
        }
        // Posted once each: three videos on the sandbox's YouTube, each the whole rendition.
        let videos = await sandbox.state.allVideos().filter { $0.platform == "youtube" }
        #expect(videos.count == 3 && Set(videos.map(\.sha256)).count == 3, "\(videos.map(\.id))")
        let interrupted = try ledger.allAttempts().filter { $0.outcome == "interrupted" }
        #expect(!interrupted.isEmpty, "the reload interrupted an upload, which then resumed")
        // A cut made by the reload is no failure of the platform's: no retry counted, no breaker moved.
        let attempts = try ledger.allAttempts()
        #expect(
            attempts.allSatisfy { $0.outcome == "published" || $0.outcome == "interrupted" },
            "\(attempts.map { "\($0.outcome ?? "running") \($0.errorCode ?? "")" })")
        #expect(try ledger.breakers().allSatisfy { $0.failures == 0 })
        #expect(try ledger.events(afterId: 0, limit: 10_000).contains { $0.stage == "reload" && $0.toState == "reloaded" })

        // A file that no longer reads: refused at its line, and the pipeline runs on as it was.
        try (Self.pipelineText(root: root, targets: "youtube:main, x:main") + "\ntitel: typo\n").write(to: file, atomically: true, encoding: .utf8)
        await supervisor.reload()
        let refusals = await supervisor.refusals, current = await supervisor.pipelines.first
        #expect(refusals == 1 && current === second)
        #expect(lines.all.contains { $0.contains("refused, still running as before") && $0.contains("p.yaml:") }, "\(lines.all.suffix(3))")
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 2), as: "still", sidecar: "title: still\nprivacy: public\n", into: config)
        let still = try await Self.until(90) { try ledger.drops().first { $0.stem == "still" }?.state == .archived }
        #expect(still, "the old configuration kept working after a refused reload")

        running.cancel()
        _ = try? await running.value
        for p in await supervisor.pipelines { await p.close() }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)), .timeLimit(.minutes(3)))
    func theBinaryReloadsOnSIGHUP() async throws {
        let dir = try TempDir()
        let root = dir.file("p")
        let file = try dir.write("p.yaml", Self.pipelineText(root: root, targets: "youtube:main"))
        let out = dir.file("out.log")
        let p = try DaemonProcess.start(file, log: out)
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        func log() -> String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
        #expect(try await Self.until(60) { log().contains("inbox") })
        try await Task.sleep(for: .milliseconds(500))
        try Self.pipelineText(root: root, targets: "youtube:main, x:main").write(to: file, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        #expect(try await Self.until(60) { log().contains("reload \(file.path): done (youtube:main, x:main)") }, "\(log())")
        let config = try PlatformRegistry.load(path: file.path)
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "one", sidecar: "title: one\nprivacy: public\n", into: config)
        let ledger = try Ledger(path: config.paths.ledger.path)
        #expect(
            try await Self.until(90) {
                try ledger.allDeliveries().filter { $0.state == .published }.map(\.platform).sorted() == ["x", "youtube"]
            }, "\(log())")
        // A broken file: refused with its place; the daemon lives on.
        try "version: 1\ntargets: [youtub:main]\n".write(to: file, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        #expect(try await Self.until(30) { log().contains("refused, still running as before") }, "\(log())")
        #expect(p.isRunning && log().contains("p.yaml:2"), "\(log())")
        kill(p.processIdentifier, SIGTERM)
        let exited = try await Self.until(30) { !p.isRunning }
        #expect(exited && p.terminationStatus == 0)
    }
}
