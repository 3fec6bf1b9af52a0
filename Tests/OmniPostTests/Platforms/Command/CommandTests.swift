import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
import Testing

/// The command target: the user's program run with an argument array (never a shell), the delivery
/// document on stdin, its exit code classified, its stdout's JSON taken as the post, its stderr's last
/// lines in the failure, a timeout, and a re-run after an interruption told that it is one.
@Suite struct CommandTests {
    static let meta = PublishMetadata(title: "t", description: "d", tags: ["x"], privacy: .public, publishAt: nil, options: ["lang": "en"])

    static func script(_ dir: TempDir, _ name: String, _ body: String) throws -> String {
        let f = dir.file(name)
        try Data("#!/bin/sh\n\(body)\n".utf8).write(to: f)
        chmod(f.path, 0o755)
        return f.path
    }

    static func adapter(_ dir: TempDir, run: String, extra: String = "") throws -> any PlatformAdapter {
        let text = "version: 1\nroot: \(dir.url.path)/p\nsandbox: none\ntargets: [command:upload]\naccounts:\n  command:upload:\n    run: \(run)\n\(extra)"
        let config = try PlatformRegistry.parse(text: text, file: "p.yaml", baseDirectory: dir.url)
        let account = try #require(config.accounts["command:upload"])
        let settings = AdapterSettings(
            account: account, tokens: TokenProvider(account: account, http: HTTPClient.shared, store: MemoryTokenStore()),
            http: HTTPClient.shared, chunkSize: 1 << 20)
        return PlatformRegistry.makeAdapter(platform: "command", settings: settings)!
    }

    static func job(_ dir: TempDir, session: String? = nil) throws -> UploadJob {
        let f = dir.file("my clip $(id).mp4")
        if !FileManager.default.fileExists(atPath: f.path) { try Data("video bytes".utf8).write(to: f) }
        var j = UploadJob(deliveryId: 42, filePath: f.path, size: 11, metadata: meta, session: session, confirmedOffset: 0)
        j.expectedSha256 = try FileHashing.sha256(path: f.path).hex
        j.drop = DropFacts(dropId: "20261130-walk", target: "command:upload", stem: "walk", source: "walk.mp4", takenAt: Date())
        return j
    }

    @Test func aProgramGetsTheDocumentAndItsAnswerIsThePost() async throws {
        let dir = try TempDir()
        let out = dir.file("seen")
        let prog = try Self.script(
            dir, "upload",
            """
            cat > '\(out.path).json'
            printf '%s\\n' "$@" > '\(out.path).args'
            for last; do :; done; sha256sum "$last" | cut -d' ' -f1 > '\(out.path).sha'
            echo "$OMNIPOST_DROP_ID $OMNIPOST_DELIVERY_ID $OMNIPOST_RETRY" > '\(out.path).env'
            echo "uploading…"
            echo '{"id": "v-77", "url": "https://video.example/v-77"}'
            """)
        let a = try Self.adapter(dir, run: "[\(prog), --title, \"two words; $(rm -rf /)\"]")
        let result = try await a.deliver(try Self.job(dir), checkpoint: { _ in }, progress: { _, _ in })
        #expect(result.remoteId == "v-77" && result.url == "https://video.example/v-77")
        let doc = try readJSON(URL(fileURLWithPath: out.path + ".json"))
        #expect(doc["drop_id"] as? String == "20261130-walk" && doc["delivery_id"] as? Int == 42 && doc["retry"] as? Bool == false)
        // The program is handed a private name for the checked file (its own name kept), removed afterwards.
        let handed = try #require(doc["path"] as? String)
        #expect(handed.hasSuffix("/my clip $(id).mp4") && handed.contains("/.omnipost-private-") && !FileManager.default.fileExists(atPath: handed))
        #expect(try String(contentsOfFile: out.path + ".sha", encoding: .utf8) == (try Self.job(dir)).expectedSha256! + "\n")
        #expect((doc["metadata"] as? [String: Any])?["options"] as? [String: String] == ["lang": "en"])
        // Each argument arrives whole, the rendition's path last; nothing went through a shell.
        let args = try String(contentsOfFile: out.path + ".args", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(args == ["--title", "two words; $(rm -rf /)", handed])
        #expect(try String(contentsOfFile: out.path + ".env", encoding: .utf8) == "20261130-walk 42 0\n")
    }

    /// The clip is swapped for a link to another file after it was hashed: the program never runs on the
    /// other file's bytes (nothing is sent, `source_changed`); a file changed in place is caught the same way.
    @Test func aClipSwappedAfterItWasTakenIsNeverHandedToTheProgram() async throws {
        let dir = try TempDir()
        let ran = dir.file("ran")
        let prog = try Self.script(dir, "upload", "touch '\(ran.path)'; echo '{\"id\": \"x\"}'")
        let a = try Self.adapter(dir, run: "[\(prog)]")
        let job = try Self.job(dir)
        let secret = try dir.write("secret.key", "not for any program ")
        try FileManager.default.removeItem(atPath: job.filePath)
        try FileManager.default.createSymbolicLink(atPath: job.filePath, withDestinationPath: secret.path)
        let e = await #expect(throws: DeliveryError.self) { _ = try await a.deliver(job, checkpoint: { _ in }, progress: { _, _ in }) }
        #expect(e?.code == .sourceChanged && e?.kind == .permanent, "\(String(describing: e))")
        try FileManager.default.removeItem(atPath: job.filePath)
        try Data("video bytez".utf8).write(to: URL(fileURLWithPath: job.filePath))
        let e2 = await #expect(throws: DeliveryError.self) { _ = try await a.deliver(job, checkpoint: { _ in }, progress: { _, _ in }) }
        #expect(e2?.code == .sourceChanged)
        #expect(!FileManager.default.fileExists(atPath: ran.path), "the program never ran")
    }

    /// Where the rendition cannot be hard-linked into the drop's folder (another file system), the program
    /// is handed a checked copy: a run that leaves the copy as it was is the post (it used to be compared
    /// with the original's inode, so every such run ended `uncertain_post`); a program that writes into the
    /// copy it was handed is not vouched for.
    @Test func aProgramHandedACopyIsVouchedForByTheCopy() async throws {
        let dir = try TempDir()
        guard let shm = dir.elsewhere() else { return }  // one file system: no copy to test
        var b = stat()
        #expect(stat(dir.url.path, &b) == 0)
        let clip = shm + "/walk.mp4"
        try Data("video bytes".utf8).write(to: URL(fileURLWithPath: clip))
        var job = UploadJob(deliveryId: 42, filePath: clip, size: 11, metadata: Self.meta, session: nil, confirmedOffset: 0)
        job.expectedSha256 = try FileHashing.sha256(path: clip).hex
        job.drop = DropFacts(dropId: "20261207-walk", target: "command:upload", stem: "walk", source: "walk.mp4", takenAt: Date())
        job.scratchDirectory = dir.file("work").path
        let seen = dir.file("seen")
        let post = try Self.script(dir, "post", "cat >/dev/null; for last; do :; done; stat -c %d \"$last\" > '\(seen.path)'; echo '{\"id\": \"v-1\"}'")
        let result = try await Self.adapter(dir, run: "[\(post)]").deliver(job, checkpoint: { _ in }, progress: { _, _ in })
        #expect(result.remoteId == "v-1")
        // It was a copy: on the work folder's file system, not tmpfs.
        #expect(try String(contentsOfFile: seen.path, encoding: .utf8) == "\(b.st_dev)\n")
        // A program that adds to its copy, or rewrites it in place at the same size, is not vouched for.
        for (name, edit) in [("adds", "echo more >> \"$last\""), ("rewrites", "sleep 0.05; printf 'VIDEO BYTES' > \"$last\"")] {
            let edits = try Self.script(dir, name, "cat >/dev/null; for last; do :; done; \(edit); echo '{\"id\": \"v-2\"}'")
            let e = await #expect(throws: DeliveryError.self) {
                _ = try await Self.adapter(dir, run: "[\(edits)]").deliver(job, checkpoint: { _ in }, progress: { _, _ in })
            }
            #expect(e?.code == .uncertainPost, "\(name): \(String(describing: e))")
        }
    }

    @Test func exitCodesTimeoutsAndReRunsAreClassified() async throws {
        let dir = try TempDir()
        // 75 (EX_TEMPFAIL) by default means: again later. Its last words are in the failure.
        let busy = try Self.script(dir, "busy", "echo 'step 1' >&2; echo 'the site is busy' >&2; exit 75")
        let e1 = await #expect(throws: DeliveryError.self) {
            _ = try await Self.adapter(dir, run: "[\(busy)]").deliver(try Self.job(dir), checkpoint: { _ in }, progress: { _, _ in })
        }
        #expect(e1?.kind == .retryNow && e1?.message.contains("exited with 75; its last words: step 1 | the site is busy") == true, "\(String(describing: e1))")
        // Any other code: failed for good, not retried.
        let bad = try Self.script(dir, "bad", "echo 'login rejected' >&2; exit 3")
        let e2 = await #expect(throws: DeliveryError.self) {
            _ = try await Self.adapter(dir, run: "[\(bad)]").deliver(try Self.job(dir), checkpoint: { _ in }, progress: { _, _ in })
        }
        #expect(e2?.kind == .permanent && e2?.message.contains("login rejected") == true)
        // Codes of the user's choosing.
        let e3 = await #expect(throws: DeliveryError.self) {
            _ = try await Self.adapter(dir, run: "[\(bad)]", extra: "    retry_exit_codes: [3, 75]\n").deliver(try Self.job(dir), checkpoint: { _ in }, progress: { _, _ in })
        }
        #expect(e3?.kind == .retryNow)
        // A program that hangs is killed at its timeout; the next run is told it is a re-run.
        let slow = try Self.script(dir, "slow", "sleep 20")
        let e4 = await #expect(throws: DeliveryError.self) {
            _ = try await Self.adapter(dir, run: "[\(slow)]", extra: "    timeout: 300ms\n").deliver(try Self.job(dir), checkpoint: { _ in }, progress: { _, _ in })
        }
        #expect(e4?.kind == .retryNow && e4?.message.contains("did not finish within") == true)
        let seen = dir.file("retry")
        let checks = try Self.script(dir, "checks", "cat | grep -q '\"retry\":true' && echo \"$OMNIPOST_RETRY\" > '\(seen.path)'; echo '{\"id\": \"found-it\"}'")
        let again = try await Self.adapter(dir, run: "[\(checks)]").deliver(try Self.job(dir, session: "started"), checkpoint: { _ in }, progress: { _, _ in })
        #expect(again.remoteId == "found-it")
        #expect(try String(contentsOf: seen, encoding: .utf8) == "1\n")
        // A chatty program: 200,000 lines of progress, then its answer.
        let chatty = try Self.script(dir, "chatty", "cat > /dev/null; seq 1 200000; echo '{\"id\": \"after-much-talk\"}'")
        #expect(try await Self.adapter(dir, run: "[\(chatty)]").deliver(try Self.job(dir), checkpoint: { _ in }, progress: { _, _ in }).remoteId == "after-much-talk")
        // No JSON on stdout: the post is named by the drop and delivery.
        let quiet = try Self.script(dir, "quiet", "cat > /dev/null")
        #expect(try await Self.adapter(dir, run: "[\(quiet)]").deliver(try Self.job(dir), checkpoint: { _ in }, progress: { _, _ in }).remoteId == "20261130-walk-42")
    }

    @Test func settingsAreCheckedAtTheirLines() throws {
        let dir = try TempDir()
        try dir.write("not-executable", "#!/bin/sh\n")
        func check(_ lines: String) -> OmniError? { AccountChecks.problem("command:upload", lines, dir: dir.url) }
        let plain = check("    run: [\(dir.file("not-executable").path), --x]\n")
        #expect(plain?.message.contains("is not an executable file") == true && plain?.location?.line == 7, "\(String(describing: plain))")
        #expect(check("    run: [no-such-uploader-xyz]\n")?.message.contains("not an executable file on PATH") == true)
        #expect(check("    run: [\(dir.url.path)]\n")?.message.contains("is a folder") == true)
        #expect(check("    timeout: 5m\n")?.message.contains("needs `run`") == true)
        #expect(check("    run: [sh]\n    timeout: 0s\n")?.message.contains("more than 0") == true)
        #expect(check("    run: [sh]\n    retry_exit_codes: [0]\n")?.message.contains("1 to 255") == true)
        #expect(check("    run: sh\n    timeout: 10m\n") == nil, "a program on PATH, written alone")
    }

    /// Through the whole pipeline: a command target beside YouTube, in sandbox mode.
    @Test(.timeLimit(.minutes(3))) func aPipelineRunsTheCommand() async throws {
        let dir = try TempDir()
        let copy = dir.file("copied.mp4")
        let prog = try Self.script(dir, "upload", "for last; do :; done; cp \"$last\" '\(copy.path)'; echo '{\"id\": \"c-1\", \"url\": \"https://example.invalid/c-1\"}'")
        let config = try TestPipelines.config(
            root: dir.url.appendingPathComponent("p"),
            extra: """
                accounts:
                  command:upload: {run: [\(prog)]}
                """, targets: "targets: [youtube:main, command:upload]")
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "walk", sidecar: "title: a walk\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let deliveries = try p.context.ledger.allDeliveries()
            #expect(deliveries.map(\.state) == [.published, .published], "\(deliveries.map { $0.errorMessage ?? "" })")
            let cmd = try #require(deliveries.first { $0.platform == "command" })
            #expect(cmd.remoteId == "c-1" && cmd.remoteUrl == "https://example.invalid/c-1")
            #expect(try FileHashing.sha256(path: copy.path).hex == cmd.renditionSha256)
        }
    }
}
