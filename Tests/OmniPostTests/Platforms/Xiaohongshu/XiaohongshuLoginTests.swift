import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// `accounts add` for a platform driven through its pages (Xiaohongshu, WeChat Channels; Douyin and Kuaishou by `via: browser`): the login page opened headless, its QR code read from the page and
/// drawn in the terminal (the very code the page shows), the phone's scan simulated through the
/// sandbox, and the browser's cookies sealed in the ledger — enough for a post.
@Suite struct XiaohongshuLoginTests {
    final class Said: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func add(_ s: String) { lock.withLock { lines.append(s) } }
        var text: String { lock.withLock { lines.joined(separator: "\n") } }
    }

    static func config(_ dir: TempDir, endpoint: String, platform: String = "xiaohongshu", via: String = "") throws -> PipelineConfig {
        try PlatformRegistry.parse(
            text: """
                version: 1
                name: qr
                root: \(dir.file("p").path)
                targets: [\(platform):main]
                accounts:
                  \(platform):main:
                    endpoint: \(endpoint)\(via)
                """, file: "p.yaml", baseDirectory: dir.url)
    }

    /// Each platform driven through its pages, with its replica's folder and session cookie. Each login
    /// page is shaped its platform's way: Xiaohongshu's and Kuaishou's open on another form and show
    /// the code after a switch is clicked (`qr_reveal:`), WeChat's draws it in a frame of another
    /// origin, Douyin's is the site's root with the code a data: image.
    @Test(
        .timeLimit(.minutes(2)),
        arguments: [
            ("xiaohongshu", "xiaohongshu", "web_session"), ("wechat_channels", "wechat_channels", "sessionid"), ("douyin", "douyin-creator", "sessionid"),
            ("kuaishou", "kuaishou-creator", "kuaishou.web.cp.api_st")
        ])
    func aScannedQRCodeSealsTheBrowsersCookies(_ platform: String, _ folder: String, _ cookie: String) async throws {
        let dir = try TempDir()
        try await withSandbox(dir) { s in
            let via = ["douyin", "kuaishou"].contains(platform) ? "\n    via: browser" : ""
            let config = try Self.config(dir, endpoint: s.baseURL + "/sandbox/" + folder, platform: platform, via: via)
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
            let drawn = TerminalQR.render(QRCodeSVG.matrix(s.baseURL + "/sandbox/\(folder)/qr/" + qr))
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
