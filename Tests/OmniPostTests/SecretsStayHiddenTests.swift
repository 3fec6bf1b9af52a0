import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
import Testing

/// No secret or token ever leaves the ledger's sealed columns: not in the progress lines, `status` (text
/// or JSON), the outbox's reports, the ledger's events, nor a process's arguments. And an app's client
/// comes from the file, Google's client_secret.json, or the environment.
@Suite struct SecretsStayHiddenTests {
    @Test(.timeLimit(.minutes(3))) func tokensAppearNowhereButSealed() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main, tiktok:main, x:main, reddit:main, bluesky:main]")
        try TestPipelines.drop(try Clips.make(width: 540, height: 960, seconds: 4), as: "clip", sidecar: "title: hidden things\nprivacy: public\n", into: config)
        let lines = LinesBox()
        let p = try await TestPipelines.runOnce(config, lines: lines)
        try await stopping(p) {
            #expect(try p.context.ledger.allDeliveries().allSatisfy { $0.state == .published })
            // Every secret the run held: the stored tokens opened, the accounts' configured refresh tokens and passwords.
            let sealer = try Pipeline.sealer(config)
            var secrets = Set<String>()
            for v in try p.context.ledger.storedSecrets() { secrets.insert(try sealer.open(v)) }
            for a in p.context.config.accounts.values {
                if !a.refreshToken.isEmpty { secrets.insert(a.refreshToken) }
                if !a.clientSecret.isEmpty { secrets.insert(a.clientSecret) }
                if let pw = try a.text("app_password") { secrets.insert(pw) }
            }
            secrets = secrets.filter { $0.count >= 8 }
            #expect(secrets.count >= 6, "\(secrets.count) secrets")
            let report = try StatusReport.gather(config: p.context.config, ledger: p.context.ledger, profiles: p.context.profiles)
            var seen = lines.all.joined(separator: "\n") + (try report.text(ledger: p.context.ledger)) + (try report.json())
            for f in files(under: config.paths.outbox) { seen += (try? String(contentsOf: config.paths.outbox.appendingPathComponent(f), encoding: .utf8)) ?? "" }
            let events = try p.context.ledger.events()
            seen += events.map { "\($0.detail ?? "")" }.joined(separator: "\n")
            for s in secrets { #expect(!seen.contains(s), "a secret showed: \(s.prefix(4))…") }
            // The stored ones are sealed.
            #expect(try p.context.ledger.storedSecrets().allSatisfy { $0.hasPrefix("sealed:v1:") })
        }
    }

    /// A token is never a process argument: `set-token` takes it on standard input only.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)))
    func aTokenIsNeverAnArgument() throws {
        let dir = try TempDir()
        let pipeline = try dir.write("p.yaml", "version: 1\nroot: \(dir.url.path)/p\ntargets: [youtube:main]\naccounts:\n  youtube:main: {client_id: c, client_secret: s}\n")
        let r = try CheckCommandTests.run(["accounts", "set-token", pipeline.path, "youtube:main", "1//a-refresh-token"])
        #expect(r.status != 0 && r.out.contains("standard input"), "\(r.out)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CheckCommandTests.binary)
        p.arguments = ["accounts", "set-token", pipeline.path, "youtube:main", "-"]
        let input = Pipe(), out = Pipe()
        p.standardInput = input
        p.standardOutput = out
        p.standardError = out
        try p.run()
        input.fileHandleForWriting.write(Data("1//from-stdin\n".utf8))
        try input.fileHandleForWriting.close()
        let said = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0 && !said.contains("1//from-stdin"), "\(said)")
    }

    @Test func anAppsClientComesFromTheFileItsConsoleGaveOrTheEnvironment() throws {
        let dir = try TempDir()
        _ = try dir.write(
            "client_secret.json",
            #"{"installed": {"client_id": "123-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-secret", "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token", "redirect_uris": ["http://localhost"]}}"#
        )
        setenv("OMNIPOST_X_MAIN_CLIENT_ID", "x-from-env", 1)
        setenv("OMNIPOST_X_MAIN_CLIENT_SECRET", "x-secret-from-env", 1)
        defer { unsetenv("OMNIPOST_X_MAIN_CLIENT_ID"); unsetenv("OMNIPOST_X_MAIN_CLIENT_SECRET") }
        let config = try PlatformRegistry.parse(
            text: "version: 1\nroot: \(dir.url.path)/p\ntargets: [youtube:main, x:main]\naccounts:\n  youtube:main: {client_secrets_file: client_secret.json}\n  x:main: {}\n",
            file: "p.yaml", baseDirectory: dir.url)
        let yt = try #require(config.accounts["youtube:main"]), x = try #require(config.accounts["x:main"])
        #expect(yt.clientID == "123-abc.apps.googleusercontent.com" && yt.clientSecret == "GOCSPX-secret" && yt.authorizeURL == "https://accounts.google.com/o/oauth2/auth")
        #expect(x.clientID == "x-from-env" && x.clientSecret == "x-secret-from-env")
        _ = try dir.write("bad.json", #"{"web": {}}"#)
        let bad = #expect(throws: OmniError.self) {
            _ = try PlatformRegistry.parse(
                text: "version: 1\nroot: \(dir.url.path)/p\ntargets: [youtube:main]\naccounts:\n  youtube:main: {client_secrets_file: bad.json}\n",
                file: "p.yaml", baseDirectory: dir.url)
        }
        #expect(bad?.location?.line == 5 && bad?.message.contains("client file") == true, "\(String(describing: bad))")
    }
}
