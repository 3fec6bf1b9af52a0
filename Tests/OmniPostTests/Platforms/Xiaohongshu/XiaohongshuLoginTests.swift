import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// `accounts add` for a platform driven through its pages (Xiaohongshu, WeChat Channels): the login page opened headless, its QR code read from the page and
/// drawn in the terminal (the very code the page shows), the phone's scan simulated through the
/// sandbox, and the browser's cookies sealed in the ledger — enough for a post.
@Suite struct XiaohongshuLoginTests {
    final class Said: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func add(_ s: String) { lock.withLock { lines.append(s) } }
        var text: String { lock.withLock { lines.joined(separator: "\n") } }
    }

    static func config(_ dir: TempDir, endpoint: String, platform: String = "xiaohongshu") throws -> PipelineConfig {
        try PlatformRegistry.parse(
            text: """
                version: 1
                name: qr
                root: \(dir.file("p").path)
                targets: [\(platform):main]
                accounts:
                  \(platform):main:
                    endpoint: \(endpoint)
                """, file: "p.yaml", baseDirectory: dir.url)
    }

    /// Each browser platform, with its replica's session cookie.
    @Test(.timeLimit(.minutes(2)), arguments: [("xiaohongshu", "web_session"), ("wechat_channels", "sessionid")])
    func aScannedQRCodeSealsTheBrowsersCookies(_ platform: String, _ cookie: String) async throws {
        let dir = try TempDir()
        try await withSandbox(dir) { s in
            let config = try Self.config(dir, endpoint: s.baseURL + "/sandbox/" + platform, platform: platform)
            let account = try config.account("\(platform):main")
            #expect(BrowserLogin.applies(to: account))
            let said = Said()
            let login = Task { try await BrowserLogin.connect(config: config, account: account, timeout: .seconds(60), say: { said.add($0) }) }
            var waited = 0
            while !said.text.contains("scan this QR code"), waited < 600 {
                try await Task.sleep(for: .milliseconds(50))
                waited += 1
            }
            let qr = try #require(await s.state.replicaQRCodes(platform).first, "the login page showed a QR code")
            // What the terminal shows is the page's code: the modules of the login link the sandbox drew.
            let drawn = TerminalQR.render(QRCodeSVG.matrix(s.baseURL + "/sandbox/\(platform)/qr/" + qr))
            #expect(said.text.contains(drawn), "\(said.text)")
            #expect(await s.state.replicaScan(platform, qr: qr, account: "main"))
            let n = try await login.value
            #expect(n >= 1)
            let jar = try #require(try CookieImport.load(config: config, account: "\(platform):main"))
            #expect(jar.cookies.contains { $0.name == cookie })
            #expect(try Ledger(path: config.paths.ledger.path).cookieJars().first?.account == "\(platform):main")
        }
    }

    @Test(.timeLimit(.minutes(2))) func noScanWithinTheTimeStoresNothing() async throws {
        let dir = try TempDir()
        try await withSandbox(dir) { s in
            let config = try Self.config(dir, endpoint: s.baseURL + "/sandbox/xiaohongshu")
            let account = try config.account("xiaohongshu:main")
            await #expect(throws: OmniError.self) {
                _ = try await BrowserLogin.connect(config: config, account: account, timeout: .seconds(2), say: { _ in })
            }
            #expect(try CookieImport.load(config: config, account: "xiaohongshu:main") == nil)
        }
    }
}
