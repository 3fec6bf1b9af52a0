import Foundation
import OmniPostCore
@testable import OmniPostPipeline
import OmniPostPlatforms
import Testing

/// What leaves the daemon for a child process, a terminal or a browser: no secret in a child's
/// environment, no control character obeyed by a terminal, no redirect to another site.
@Suite(.serialized) struct ChildAndTerminalSafetyTests {
    /// A secret in the daemon's environment reaches neither ffmpeg/ffprobe (ToolRunner) nor a command
    /// target; what a program needs it is given by name (`pass_env`), never an `OMNIPOST_` variable.
    @Test func childrenGetAnAllowListedEnvironment() async throws {
        setenv("OMNIPOST_TEST_CANARY_CLIENT_SECRET", "canary-secret-value", 1)
        setenv("OMNIPOST_TEST_PASSED_VAR", "given", 1)
        setenv("LC_TIME", "C", 1)
        defer { unsetenv("OMNIPOST_TEST_CANARY_CLIENT_SECRET"); unsetenv("OMNIPOST_TEST_PASSED_VAR") }
        let r = try await ToolRunner().run("/bin/sh", ["-c", "env"], timeout: .seconds(10), environment: ["EXTRA_ONE": "1"])
        #expect(!r.stdout.contains("canary-secret-value") && !r.stdout.contains("OMNIPOST_TEST_PASSED_VAR"))
        #expect(r.stdout.contains("PATH=") && r.stdout.contains("EXTRA_ONE=1") && r.stdout.contains("LC_TIME=C"))

        // A command target: by default nothing but the allowed few and its own OMNIPOST_ variables.
        let dir = try TempDir()
        let out = dir.file("env.txt")
        let script = try CommandTests.script(dir, "post.sh", "cat >/dev/null; env > \(out.path); echo '{\"id\": \"1\"}'")
        let plain = try CommandTests.adapter(dir, run: "[\(script)]")
        _ = try await plain.deliver(try CommandTests.job(dir), checkpoint: { _ in }, progress: { _, _ in })
        var seen = try String(contentsOf: out, encoding: .utf8)
        #expect(!seen.contains("canary-secret-value") && !seen.contains("OMNIPOST_TEST_PASSED_VAR") && seen.contains("OMNIPOST_DELIVERY_ID=42"))
        // `pass_env` names what it needs; an OMNIPOST_ name is refused at its line.
        let dir2 = try TempDir()
        let out2 = dir2.file("env.txt")
        let script2 = try CommandTests.script(dir2, "post.sh", "cat >/dev/null; env > \(out2.path); echo '{\"id\": \"1\"}'")
        _ = try await CommandTests.adapter(dir2, run: "[\(script2)]", extra: "    pass_env: [LC_TIME, HOSTNAME_NOT_SET]\n")
            .deliver(try CommandTests.job(dir2), checkpoint: { _ in }, progress: { _, _ in })
        seen = try String(contentsOf: out2, encoding: .utf8)
        #expect(seen.contains("LC_TIME=C") && !seen.contains("canary-secret-value"))
        let refused = #expect(throws: OmniError.self) {
            _ = try CommandTests.adapter(dir2, run: "[\(script2)]", extra: "    pass_env: [OMNIPOST_TEST_PASSED_VAR]\n")
        }
        #expect(refused?.message.contains("never passed") == true && refused?.location?.line == 8, "\(String(describing: refused))")
    }

    /// Escape sequences and line breaks in a file name are shown, never obeyed: a name cannot retitle the
    /// terminal, clear the screen or forge a progress line of its own.
    @Test func controlCharactersInUserTextAreEscapedOnEveryLine() {
        let name = "clip\u{1B}]0;owned\u{07}\u{1B}[2J\n  d-1  upload  [x:main] uploading → published https://evil\u{9B}31m\u{202E}4pm.exe"
        let shown = TerminalText.escape(name)
        #expect(!shown.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{202E}" })
        #expect(shown.contains("\\u{1B}]0;owned\\u{7}") && shown.contains("\\n  d-1") && shown.contains("\\u{202E}"))
        #expect(TerminalText.escape("plain 🎬 title — ok") == "plain 🎬 title — ok")
        let lines = LinesBox()
        let sink = ProgressSink { lines.add($0) }
        sink.line("  d-1  validate   received → rejected  " + name)
        #expect(lines.all.count == 1 && !lines.all[0].contains("\n") && !lines.all[0].contains("\u{1B}"))
    }

    /// After sign-in the browser goes back only to a path of this site, whatever a link put in `back=`:
    /// browsers drop tabs and line breaks, so `/\t/evil.example/` is `//evil.example/` to them.
    @Test func signInGoesBackOnlyToALocalPath() {
        for hostile in [
            "/\t/evil.example/", "/\n/evil.example", "\t//evil.example", "//evil.example", "/\\evil.example", "/\\\\evil",
            "https://evil.example/", " //evil.example", "/ /evil", "javascript:alert(1)", "", "evil.example"
        ] {
            #expect(DashboardRoutes.localPath(hostile) == "/", "\(hostile.debugDescription)")
        }
        #expect(DashboardRoutes.localPath("/failures") == "/failures")
        #expect(DashboardRoutes.localPath("/drops/20261205-a?pipeline=alpha") == "/drops/20261205-a?pipeline=alpha")
        #expect(DashboardRoutes.localPath(nil) == "/")
    }

    /// A failed sidecar that is a link (moved to failed/ as a link) shows no lines on the dashboard: the
    /// excerpt is read without following a link anywhere below the drop's folder.
    @Test func theDashboardsSidecarExcerptNeverFollowsALink() throws {
        let dir = try TempDir()
        let secret = try dir.write("p.yaml", "accounts:\n  youtube:main: {client_secret: do-not-show}\n")
        let failed = dir.file("failed/d-1")
        try dir.write("failed/d-1/ok.yaml", "titel: typo\n")
        try FileManager.default.createSymbolicLink(atPath: failed.appendingPathComponent("bad.yaml").path, withDestinationPath: secret.path)
        try FileManager.default.createSymbolicLink(atPath: failed.appendingPathComponent("sub").path, withDestinationPath: dir.url.path)
        #expect(DashboardViews.readBeneath(failed, "ok.yaml") == "titel: typo\n")
        #expect(DashboardViews.readBeneath(failed, "bad.yaml") == nil)
        #expect(DashboardViews.readBeneath(failed, "sub/p.yaml") == nil)
        #expect(DashboardViews.readBeneath(failed, "../../p.yaml") == nil)
    }
}
