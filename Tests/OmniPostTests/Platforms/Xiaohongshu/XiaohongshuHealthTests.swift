import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// `accounts check` (and the daemon's checks at start and ahead of a due post, through the same
/// `AccountHealth.checkOne`) for Xiaohongshu: cookies imported with `accounts import-cookies`, the
/// upload page opened logged in with its first anchors there; an ended session and a redesigned page
/// reported with the command or the step that fixes them — before any post is tried.
@Suite struct XiaohongshuHealthTests {
    @Test(.timeLimit(.minutes(2))) func aCheckFindsAnEndedSessionAndARedesignedPageAheadOfAPost() async throws {
        let dir = try TempDir()
        try await withSandbox(dir) { s in
            let config = try XiaohongshuLoginTests.config(dir, endpoint: s.baseURL + "/sandbox/xiaohongshu")
            let token = await s.state.xiaohongshuSession(account: "main")
            let file = try dir.write("cookies.txt", "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tweb_session\t\(token)\n")
            _ = try CookieImport.run(config: config, account: "xiaohongshu:main", file: file.path)

            let good = try await AccountHealth.check(config: config, http: HTTPClient.shared)
            #expect(good.count == 1 && good.first?.ok == true, "\(good)")
            #expect(good.first?.identity?.contains("logged in") == true)

            var f = SandboxState.XiaohongshuFaults()
            f.sessionExpired = true
            await s.state.setXiaohongshuFaults(f)
            let ended = try #require(try await AccountHealth.check(config: config, http: HTTPClient.shared).first)
            #expect(!ended.ok)
            #expect(ended.error?.hasPrefix("auth_revoked") == true, "\(ended.error ?? "")")
            #expect(ended.error?.contains("omnipost accounts add <pipeline.yaml> xiaohongshu:main") == true)

            f = .init()
            f.changedLayout = true
            await s.state.setXiaohongshuFaults(f)
            let changed = try #require(try await AccountHealth.check(config: config, http: HTTPClient.shared).first)
            #expect(changed.error?.hasPrefix("recipe_broken") == true, "\(changed.error ?? "")")
            #expect(changed.error?.contains("step 'video'") == true)
            // The ledger notes the last check for `status` and `accounts list`.
            let summary = try Ledger(path: config.paths.ledger.path).tokenSummaries().first { $0.account == "xiaohongshu:main" }
            #expect(summary?.checkOK == false)
            // A health check never posts.
            #expect(await s.state.xiaohongshuNotes().isEmpty)
        }
    }
}
