import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// `omnipost doctor` on a real machine's parts: ffmpeg and its encoders, the inbox's watch against the
/// inotify limits it is given, free space, the clock against an API's `Date`, a key file others can
/// read, the ledger's integrity and journal, an account that cannot publish, a listener open beyond
/// loopback — each not-pass with its fix.
@Suite struct DoctorTests {
    @Test(.timeLimit(.minutes(2))) func eachCheckSaysPassWarnOrFailWithItsFix() async throws {
        let dir = try TempDir()
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        try await stopping(s) {
            await s.registerAccount(platform: "youtube", name: "main", clientID: "c", clientSecret: "s", refreshToken: "good")
            chmod(try dir.write("token", "0123456789abcdef0123\n").path, 0o600)
            let config = try PlatformRegistry.parse(
                text: """
                    version: 1
                    root: \(dir.url.path)/p
                    http: {listen: "0.0.0.0:0", token_file: token}
                    targets: [youtube:main, x:main]
                    accounts:
                      youtube:main: {client_id: c, client_secret: s, refresh_token: good, endpoint: "\(s.baseURL)", token_url: "\(s.baseURL)/token"}
                      x:main: {client_id: c, client_secret: s, refresh_token: revoked, endpoint: "\(s.baseURL)", token_url: "\(s.baseURL)/2/oauth2/token"}
                    """, file: "p.yaml", baseDirectory: dir.url)
            try config.paths.createAll()
            for i in 0..<12 { try FileManager.default.createDirectory(at: config.paths.inbox.appendingPathComponent("d\(i)"), withIntermediateDirectories: true) }
            _ = try Ledger(path: config.paths.ledger.path)
            let key = config.paths.root.appendingPathComponent("secret.key")
            _ = try Sealer.load(file: key, env: "OMNIPOST_TEST_NO_SUCH_VAR")
            let sysctl: Doctor.Sysctl = { ["fs.inotify.max_user_watches": "16", "fs.inotify.max_user_instances": "4"][$0] }
            // Accounts first, while the key file is still private (one others can read is refused outright).
            let before = await Doctor.run(config: config, http: HTTPClient.shared, sysctl: sysctl)
            #expect(before.first { $0.check == "account youtube:main" }?.level == .pass && before.first { $0.check == "account x:main" }?.level == .fail, "\(before)")
            #expect(before.first { $0.check == "account x:main" }?.fix?.contains("accounts add") == true)
            chmod(key.path, 0o644)
            chmod(dir.file("token").path, 0o644)
            let findings = await Doctor.run(config: config, http: HTTPClient.shared, sysctl: sysctl)
            func finding(_ check: String) -> Doctor.Finding? { findings.first { $0.check == check } }
            #expect(finding("ffmpeg")?.level == .pass && finding("ffprobe")?.level == .pass && finding("encoder libx264")?.level == .pass)
            #expect(finding("inotify watches")?.level == .warn && finding("inotify watches")?.fix?.contains("max_user_watches") == true, "\(findings)")
            #expect(finding("inotify instances")?.level == .warn)
            #expect(finding("credentials key")?.level == .fail && finding("credentials key")?.fix == "chmod 600 \(key.path)")
            #expect(finding("ledger integrity")?.level == .pass && finding("ledger journal")?.level == .pass)
            let host = try #require(URLComponents(string: s.baseURL)?.host)
            #expect(finding("clock vs \(host)")?.level == .pass, "\(String(describing: finding("clock vs \(host)")))")
            #expect(finding("http listener")?.level == .warn && finding("http token")?.level == .fail)
            #expect(findings.filter { $0.level != .pass }.allSatisfy { $0.fix != nil }, "every warning and failure says what to do")
            #expect(findings.contains { $0.check == "space work" })
        }
    }
}
