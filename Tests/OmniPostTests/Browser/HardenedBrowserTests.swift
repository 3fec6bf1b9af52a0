import AsyncHTTPClient
import Foundation
import OmniPostCore
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// The browser platforms under the unit's confinement, which Chromium inherits: the unit runs as a
/// user that is not root, `MemoryDenyWriteExecute=yes` stops Chromium's script compiler (the page
/// never renders), `RestrictNamespaces=yes` leaves Chromium no sandbox to build ("No usable
/// sandbox!"), and the unit's `SystemCallFilter=` refuses a call Chromium's zygote makes when it forks.
/// The daemon notices and starts Chromium so that it runs. The rules are applied as systemd applies
/// them — `PR_SET_MDWE` (Tests/clients/mdwe_exec.py), a seccomp filter refusing new namespaces
/// (Tests/clients/namespaces_denied_exec.py) and the unit file's own call filter as systemd 252 builds
/// it (Tests/clients/unit_syscall_filter_exec.py) — to the real binary running `accounts check` as
/// `nobody`, which opens the creator page and finds its anchors.
@Suite struct HardenedBrowserTests {
    static let clients = PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients")

    @Test(.timeLimit(.minutes(3))) func aCheckDrivesTheBrowserAsTheUnitConfinesTheDaemon() async throws {
        try #require(geteuid() == 0, "the test runs the binary as nobody, which only root may do")
        let dir = try TempDir()
        try await withSandbox(dir) { s in
            let yaml = """
                version: 1
                name: hardened
                root: \(dir.file("p").path)
                targets: [xiaohongshu:main]
                accounts:
                  xiaohongshu:main:
                    endpoint: \(s.baseURL)/sandbox/xiaohongshu
                """
            let pipeline = try dir.write("p.yaml", yaml).path
            let config = try PipelineConfig.load(path: pipeline)
            let token = await s.state.xiaohongshuSession(account: "main")
            let file = try dir.write("cookies.txt", "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tweb_session\t\(token)\n")
            _ = try CookieImport.run(config: config, account: "xiaohongshu:main", file: file.path)
            #expect(!Confinement.writeExecuteDenied(), "the test process itself may make memory executable")
            _ = try CheckCommandTests.run(["-R", "nobody", dir.url.path], executable: "/bin/chown")

            let unit = PipelineConfigTests.repoRoot.appendingPathComponent("packaging/omnipost@.service").path
            let args = [
                "-u", "nobody", "--", "/usr/bin/python3", Self.clients.appendingPathComponent("unit_syscall_filter_exec.py").path, unit,
                "/usr/bin/python3", Self.clients.appendingPathComponent("mdwe_exec.py").path,
                "/usr/bin/python3", Self.clients.appendingPathComponent("namespaces_denied_exec.py").path,
                CheckCommandTests.binary, "accounts", "check", pipeline
            ]
            let r = try await offPool { try CheckCommandTests.run(args, executable: "/usr/sbin/runuser") }
            try #require(r.status != 3, "this kernel has no PR_SET_MDWE (Linux 6.3 or later), or no seccomp filter for this machine (x86-64, systemd-analyze): \(r.out)")
            #expect(r.status == 0 && r.out.contains("logged in"), "exit \(r.status): \(r.out)")
        }
    }
}
