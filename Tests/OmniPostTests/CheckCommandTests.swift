import Foundation
import OmniPostCore
import OmniPostPlatforms
import Testing

/// `omnipost check` as a user runs it: the built binary, its output and exit status.
@Suite struct CheckCommandTests {
    static let binary = PipelineConfigTests.repoRoot.appendingPathComponent(".build/debug/omnipost").path

    /// Runs `executable` (omnipost by default) to its end: its exit status and what it wrote, both streams.
    static func run(_ args: [String], executable: String = binary) throws -> (status: Int32, out: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func reportsEveryProblemWithPositionAndExitsOne() throws {
        let dir = try TempDir()
        let good = try dir.write("good.yaml", "title: fine\ntags: [a]\n")
        let typo = try dir.write("typo.yaml", "title: fine\nprivcy: public\n")
        let json = try dir.write("bad.json", "{\n  \"title\": \"x\",\n  \"tags\": [1, 2\n}\n")
        let list = try dir.write("clips_metadata.json", #"{"video_id": "v", "clips": [{"clip_id": 1, "filname": "a.mp4"}]}"#)
        let pipe = try dir.write("pipe.yaml", "targets: [youtube:main]\nsandbox: embedded\nwatch: {settle: soon}\n")
        let r = try Self.run(["check", good.path, typo.path, json.path, list.path, pipe.path])
        #expect(r.status == 1)
        #expect(r.out.contains("\(good.path): ok"))
        #expect(r.out.contains("\(typo.path):2:1: unknown_key: unknown key 'privcy'; did you mean 'privacy'?"))
        #expect(r.out.contains("\(json.path):4:1: manifest_syntax"))
        #expect(r.out.contains("\(list.path):1:44: unknown_key: unknown key 'filname'; did you mean 'filename'?"))
        #expect(r.out.contains("\(pipe.path):3:17: config_invalid: expected a duration"))
        let ok = try Self.run(["check", good.path, PipelineConfigTests.repoRoot.appendingPathComponent("pipelines/demo.yaml").path])
        #expect(ok.status == 0)
    }

    /// A sidecar with only `targets:` could be a short pipeline too; beside a file that can only be a
    /// pipeline it is read as a sidecar against it (it was read as a pipeline: "needs an entry under accounts").
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func aTargetsOnlySidecarBesideAPipelineIsASidecar() throws {
        let dir = try TempDir()
        let demo = PipelineConfigTests.repoRoot.appendingPathComponent("pipelines/demo.yaml").path
        let good = try dir.write("s.yaml", "targets: [youtube:main]\n")
        let r = try Self.run(["check", demo, good.path])
        #expect(r.status == 0 && r.out.contains("\(good.path): ok"), "\(r.out)")
        let unknown = try dir.write("u.yaml", "targets: [nowhere:main]\n")
        let u = try Self.run(["check", demo, unknown.path])
        #expect(u.status == 1 && u.out.contains("unknown_target") && !u.out.contains("config_invalid"), "\(u.out)")
    }

    /// Every target's settings, as the binary checks them: a bucket name S3 refuses, a webhook URL that
    /// is not one, a command that is not executable — each at its line, one per file.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func destinationSettingsAreCheckedAtTheirLines() async throws {
        let dir = try TempDir()
        let head = "sandbox: none\ntargets: [s3:archive, webhook:ops, command:upload]\naccounts:\n"
        let s3 = "  s3:archive: {bucket: Clips, region: us-east-1, access_key_id: k, secret_access_key: s}\n"
        let hook = "  webhook:ops: {url: \"https://hooks.example.com/x\"}\n"
        let cmd = "  command:upload: {run: [/bin/sh]}\n"
        let badBucket = try dir.write("bucket.yaml", head + s3 + hook + cmd)
        let badURL = try dir.write("url.yaml", head + s3.replacingOccurrences(of: "Clips", with: "clips") + "  webhook:ops: {url: \"mailto:ops@example.com\"}\n" + cmd)
        let badCmd = try dir.write("cmd.yaml", head + s3.replacingOccurrences(of: "Clips", with: "clips") + hook + "  command:upload: {run: [\(dir.url.path)/upload.sh]}\n")
        let good = try dir.write("good.yaml", head + s3.replacingOccurrences(of: "Clips", with: "clips") + hook + cmd)
        let r = try await offPool { try Self.run(["check", badBucket.path, badURL.path, badCmd.path, good.path]) }
        #expect(r.status == 1)
        #expect(r.out.contains("\(badBucket.path):4:24: config_invalid: bucket name 'Clips' may hold only lowercase letters"), "\(r.out)")
        #expect(r.out.contains("\(badURL.path):5:22: config_invalid: 'mailto:ops@example.com' is not an http(s) URL"), "\(r.out)")
        #expect(r.out.contains("\(badCmd.path):6:25: config_invalid: '\(dir.url.path)/upload.sh' is not an executable file"), "\(r.out)")
        #expect(r.out.contains("\(good.path): ok"))
    }

    /// A polled inbox gets a note recommending ready markers; one with markers on, or watched by inotify, none.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func recommendsMarkersForPolledInboxes() async throws {
        let dir = try TempDir()
        let polled = try dir.write("polled.yaml", "targets: [youtube:main]\nsandbox: embedded\nwatch: {mode: poll}\n")
        let marked = try dir.write("marked.yaml", "targets: [youtube:main]\nsandbox: embedded\nwatch: {mode: poll, ready_marker: true}\n")
        let local = try dir.write("local.yaml", "targets: [youtube:main]\nsandbox: embedded\nwatch: {mode: inotify}\n")
        let r = try await offPool { try Self.run(["check", polled.path, marked.path, local.path]) }
        #expect(r.status == 0)
        #expect(r.out.contains("\(polled.path): note: the inbox"))
        #expect(r.out.contains("is polled (watch.mode: poll)") && r.out.contains("ready_marker: true"))
        #expect(!r.out.contains("\(marked.path): note") && !r.out.contains("\(local.path): note"))
    }

    /// A sidecar is checked against its pipeline with the rules `run` applies, every problem in one pass, each
    /// at its line: a target the pipeline does not have, a privacy a target cannot take, a typo and a bad time
    /// together; `targets:` in a sidecar does not make it a pipeline; a pipeline whose `defaults:` no drop
    /// could publish with to one of its targets is not ok; a quote left open is placed where it opened.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func sidecarsAreCheckedAgainstTheirPipelineInOnePass() async throws {
        let dir = try TempDir()
        let pipe = try dir.write("p.yaml", "sandbox: embedded\ntargets: [youtube:main, instagram:main]\ndefaults: {privacy: private, title: \"{stem} by {author}\"}\n")
        let three = try dir.write("inbox/three.yaml", "title: \"Fine {stem}\"\nprivcy: public\ntargets: [youtube:main, tiktok:main]\npublish_at: tomorrow\n")
        let insta = try dir.write("inbox/insta.yaml", "title: x\nprivacy: private\ntargets: [instagram:main]\n")
        let good = try dir.write("inbox/good.yaml", "title: ok\nprivacy: public\ntargets: [instagram:main, youtube:main]\n")
        let broken = try dir.write("inbox/broken.yaml", "title: \"unclosed\ntags: [a]\n")
        let json = try dir.write("inbox/bad.json", "{\"title\": NaN, \"targets\": [\"youtube:main\",]}\n")
        let r = try await offPool { try Self.run(["check", "--pipeline", pipe.path, three.path, insta.path, good.path, broken.path, json.path]) }
        #expect(r.status == 1)
        #expect(r.out.contains("\(pipe.path):3:21: invalid_value: instagram:main: privacy 'private' does not exist for Instagram Reels"), "\(r.out)")
        #expect(!r.out.contains("\(pipe.path): ok"))
        #expect(r.out.contains("\(three.path):2:1: unknown_key: unknown key 'privcy'; did you mean 'privacy'?"), "\(r.out)")
        #expect(r.out.contains("\(three.path):3:10: unknown_target: target 'tiktok:main' is not defined in pipeline p"), "\(r.out)")
        #expect(r.out.contains("\(three.path):4:13: invalid_value: publish_at must be next_slot or a time"), "\(r.out)")
        #expect(!r.out.contains("unknown key 'title'"), "a sidecar with targets: is still a sidecar")
        #expect(r.out.contains("\(insta.path):2:10: invalid_value: instagram:main: privacy 'private' does not exist for Instagram Reels"), "\(r.out)")
        #expect(r.out.contains("\(good.path): ok\n\(good.path): note: checked against pipeline p"), "\(r.out)")
        #expect(r.out.contains("\(broken.path):1:8: manifest_syntax: syntax error"), "\(r.out)")
        #expect(r.out.contains("\(json.path):1:11: manifest_syntax: 'NaN' is not a JSON value"), "\(r.out)")
        // Without --pipeline: the pipeline among the files, and the sidecars in its inbox, are found as such.
        let again = try await offPool { try Self.run(["check", pipe.path, three.path]) }
        #expect(again.out.contains("\(three.path):3:10: unknown_target"), "\(again.out)")
        #expect(again.out.contains("\(pipe.path):3:21: invalid_value"), "\(again.out)")
        // Every problem of a pipeline in one pass too.
        let many = try dir.write("many.yaml", "sandbox: embedded\nwatch: {settle: soon}\nupload: {concurrency: 99}\ntargets: [youtube:main, youtub:second]\n")
        let m = try await offPool { try Self.run(["check", many.path]) }
        #expect(m.out.contains("\(many.path):2:17: config_invalid: expected a duration"), "\(m.out)")
        #expect(m.out.contains("\(many.path):3:23: config_invalid: concurrency must be between 1 and 16"), "\(m.out)")
        #expect(m.out.contains("\(many.path):4:25: config_invalid: unknown platform 'youtub'"), "\(m.out)")
    }

    /// What `check` says of a sidecar is what `run` does with it: the same code, message and place.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)), .timeLimit(.minutes(6)))
    func checkAndRunGiveTheSameAnswer() async throws {
        let dir = try TempDir()
        let pipe = try dir.write(
            "p.yaml",
            """
            name: agree
            watch: {mode: inotify, settle: 200ms}
            sidecar: {grace: 1s, missing: fail}
            sandbox: embedded
            targets: [youtube:main, instagram:main]
            """)
        try Clips.copy(try Clips.make(width: 540, height: 960, seconds: 3.2), to: dir.file("inbox/insta.mp4"))
        let sidecar = try dir.write("inbox/insta.yaml", "title: x\nprivacy: private\n")
        let checked = try await offPool { try Self.run(["check", "--pipeline", pipe.path, sidecar.path]) }
        let line = try #require(checked.out.split(separator: "\n").first { $0.hasPrefix(sidecar.path + ":") }, "\(checked.out)")
        let p = try await TestPipelines.runOnce(try PlatformRegistry.load(path: pipe.path))
        try await stopping(p) {
            let drop = try #require(try p.context.ledger.drops().first { $0.stem == "insta" })
            #expect(drop.reasonCode == "invalid_value")
            let relative = dir.file("inbox").path + "/" + (drop.reasonLocation ?? "")
            #expect(line == "\(relative): \(drop.reasonCode ?? ""): \(drop.reasonMessage ?? "")", "check: \(line)\nrun: \(drop.reasonLocation ?? "") \(drop.reasonMessage ?? "")")
            #expect(drop.reasonLocation == "insta.yaml:2:10")
        }
    }
}
