import Foundation
import Testing

/// `omnipost check` as a user runs it: the built binary, its output and exit status.
@Suite struct CheckCommandTests {
    static let binary = PipelineConfigTests.repoRoot.appendingPathComponent(".build/debug/omnipost").path

    static func run(_ args: [String]) throws -> (status: Int32, out: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
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
}
