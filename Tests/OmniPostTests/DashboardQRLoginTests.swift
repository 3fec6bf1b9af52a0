import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// The dashboard's QR login (issue 28): a signed-in operator asks for it on the Accounts page, the
/// daemon opens the account's login page in real headless Chromium, the Accounts page draws the very
/// QR code that page shows (as SVG), the phone's scan is simulated through the sandbox, and the page then
/// says the cookies are sealed — which they are, in the daemon's ledger, enough for a post.
@Suite struct DashboardQRLoginTests {
    /// The dark modules an SVG drawn by `QRCodeDrawing` holds, back as rows (quiet zone removed).
    static func modules(_ svg: String, size: Int) -> [[Bool]] {
        var grid = Array(repeating: Array(repeating: false, count: size), count: size)
        let d = svg.components(separatedBy: " d=\"").dropFirst().first?.prefix { $0 != "\"" } ?? ""
        for square in d.split(separator: "z") {
            let xy = square.dropFirst().split(separator: "h").first?.split(separator: " ").compactMap { Int($0) } ?? []
            guard xy.count == 2, (4..<(size + 4)).contains(xy[0]), (4..<(size + 4)).contains(xy[1]) else { continue }
            grid[xy[1] - 4][xy[0] - 4] = true
        }
        return grid
    }

    @Test(.timeLimit(.minutes(3))) func aScanShownOnTheAccountsPageSealsTheCookies() async throws {
        let dir = try TempDir()
        let token = "dashboard-token-0123456789"
        chmod(try dir.write("token", token + "\n").path, 0o600)
        let config = try TestPipelines.config(
            root: dir.url,
            extra: """
                http: {listen: "127.0.0.1:0", token_file: \(dir.url.path)/token, loopback_reads: open}
                accounts:
                  xiaohongshu:main: {min_gap: 0s, jitter: 0s}
                """,
            targets: "targets: [youtube:main, xiaohongshu:main]")
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let base = "http://127.0.0.1:\(try #require(p.listener).port)"
            let sandbox = try #require(p.sandbox)
            // Whatever session the account had, this login replaces it.
            let before = try p.context.ledger.cookieJars().first { $0.account == "xiaohongshu:main" }?.importedAt

            // Read without signing in: no button; the form itself refuses without a session.
            let plain = try await DashboardTests.http(base + "/accounts").body
            #expect(!plain.contains("Log in by QR code"))
            #expect(try await DashboardTests.http(base + "/ui/account-login", method: .POST, form: ["account": "xiaohongshu:main"]).status == 403)

            let signIn = try await DashboardTests.http(base + "/login", method: .POST, form: ["token": token])
            let cookie = String(try #require(signIn.headers["Set-Cookie"].first).split(separator: ";")[0])
            let signed = try await DashboardTests.http(base + "/accounts", cookie: cookie).body
            // Only the account driven through its pages has the button.
            #expect(signed.components(separatedBy: "Log in by QR code").count - 1 == 1, "\(signed)")
            let csrf = try #require(signed.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first?.prefix { $0 != "\"" })
            // An account that signs in by OAuth is told it has no QR login; nothing starts.
            let oauth = try await DashboardTests.http(base + "/ui/account-login", method: .POST, form: ["account": "youtube:main", "csrf": String(csrf)], cookie: cookie)
            #expect(oauth.status == 303 && oauth.headers["Location"].first?.contains("does%20not%20log%20in%20by%20QR") == true, "\(oauth.headers)")

            let start = try await DashboardTests.http(
                base + "/ui/account-login", method: .POST, form: ["account": "xiaohongshu:main", "csrf": String(csrf)], cookie: cookie)
            #expect(start.status == 303 && start.headers["Location"].first?.hasPrefix("/accounts?said=") == true, "\(start.headers)")

            // The page shows the code the login page shows, and reloads itself while the scan is awaited.
            var page = ""
            for _ in 0..<300 where !page.contains("<svg class=\"qr\"") {
                try await Task.sleep(for: .milliseconds(100))
                page = try await DashboardTests.http(base + "/accounts", cookie: cookie).body
            }
            #expect(page.contains("<meta http-equiv=\"refresh\" content=\"2\">") && page.contains("Scan with the Xiaohongshu app"), "\(page)")
            let qr = try #require(await sandbox.state.replicaQRCodes("xiaohongshu").first, "the login page showed a QR code")
            let expected = QRCodeSVG.matrix(sandbox.baseURL + "/sandbox/xiaohongshu/qr/" + qr)
            let svg = try #require(page.components(separatedBy: "<svg class=\"qr\"").dropFirst().first)
            #expect(Self.modules(svg, size: expected.count) == expected, "the drawn code is the page's")
            // A second login while this one waits is refused: one browser at a time.
            let second = try await DashboardTests.http(
                base + "/ui/account-login", method: .POST, form: ["account": "xiaohongshu:main", "csrf": String(csrf)], cookie: cookie)
            #expect(second.status == 303)

            #expect(await sandbox.state.replicaScan("xiaohongshu", qr: qr, account: "main"))
            for _ in 0..<300 where !page.contains("cookie(s) sealed in the ledger") {
                try await Task.sleep(for: .milliseconds(100))
                page = try await DashboardTests.http(base + "/accounts", cookie: cookie).body
            }
            #expect(page.contains("cookie(s) sealed in the ledger") && !page.contains("http-equiv=\"refresh\" content=\"2\""), "\(page)")
            let jar = try #require(try p.context.ledger.cookieJars().first { $0.account == "xiaohongshu:main" })
            #expect(jar.cookies >= 1 && jar.importedAt != before)
            let sealed = try #require(try CookieImport.load(config: config, account: "xiaohongshu:main"))
            #expect(sealed.cookies.contains { $0.name == "web_session" })
        }
    }
}
