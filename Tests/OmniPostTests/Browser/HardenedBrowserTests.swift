import AsyncHTTPClient
import Foundation
import OmniPostCore
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// The browser platforms under the unit's hardening: `MemoryDenyWriteExecute=yes` (set in
/// `packaging/omnipost@.service`) is inherited by Chromium, whose script compiler then cannot start —
/// the page never renders. The daemon notices the rule and starts Chromium without the compiler.
/// The rule is applied here as systemd 254+ applies it (`PR_SET_MDWE`, Tests/clients/mdwe_exec.py)
/// to the real binary running `accounts check`, which opens the creator page and finds its anchors.
@Suite struct HardenedBrowserTests {
    @Test(.timeLimit(.minutes(3))) func aCheckDrivesTheBrowserInAProcessThatMayNotMakeMemoryExecutable() async throws {
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
            #expect(!WriteExecute.denied(), "the test process itself may make memory executable")

            let wrapper = PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/mdwe_exec.py").path
            let r = try await Task.detached {
                try CheckCommandTests.run([wrapper, CheckCommandTests.binary, "accounts", "check", pipeline], executable: "/usr/bin/python3")
            }.value
            try #require(r.status != 3, "this kernel has no PR_SET_MDWE (Linux 6.3 or later): \(r.out)")
            #expect(r.status == 0 && r.out.contains("logged in"), "exit \(r.status): \(r.out)")
        }
    }
}
