import ArgumentParser
import Foundation
import Logging
import OmniPostSandbox

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract:
            "Serve the bundled platform sandbox (YouTube, TikTok, Instagram, Facebook, Threads, X, LinkedIn, Vimeo, Bluesky, Reddit, S3, tus, a webhook receiver; their upload protocols and OAuth) on loopback."
    )

    @Option(help: "Port (0 picks a free one).") var port: Int = 8089
    @Option(help: "Host to bind.") var host: String = "127.0.0.1"
    @Option(help: "Folder for received uploads.") var root: String = "sandbox-data"
    @Option(name: .customLong("account"), help: "An account as platform:name=client_id:client_secret:refresh_token (repeatable).")
    var accounts: [String] = []
    @Option(name: .customLong("token"), help: "An access token that never expires, as platform:name=token (Vimeo's; repeatable).")
    var tokens: [String] = []
    @Option(name: .customLong("bluesky"), help: "A Bluesky account as platform:name=handle:app-password (repeatable).")
    var bluesky: [String] = []
    @Option(name: .customLong("s3-key"), help: "An S3 access key as id:secret (repeatable).")
    var s3Keys: [String] = []
    @Option(name: .customLong("webhook"), help: "A webhook receiver as name=secret, at /sandbox/webhook/<name> (repeatable).")
    var webhooks: [String] = []
    @Option(help: "Delay every chunk PUT this many milliseconds (a slow link).") var putDelayMs: Int = 0
    @Option(help: "Hold the reply to an upload's last chunk this many milliseconds after the post exists.") var finalReplyDelayMs: Int = 0

    func run() async throws {
        let server = SandboxServer(root: URL(fileURLWithPath: root), host: host, port: port)
        let list = accounts.isEmpty ? ["youtube:main=sandbox-client:sandbox-secret:sandbox-refresh-main"] : accounts
        for a in list {
            let parts = a.split(separator: "=", maxSplits: 1).map(String.init)
            let who = parts[0].split(separator: ":").map(String.init)
            let cred = parts.count == 2 ? parts[1].split(separator: ":", maxSplits: 2).map(String.init) : []
            guard who.count == 2, cred.count == 3 else {
                throw ValidationError("--account is platform:name=client_id:client_secret:refresh_token, got '\(a)'")
            }
            await server.registerAccount(platform: who[0], name: who[1], clientID: cred[0], clientSecret: cred[1], refreshToken: cred[2])
            print("account \(who[0]):\(who[1]) refresh_token=\(cred[2])")
        }
        for t in tokens {
            let parts = t.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0].split(separator: ":").count == 2, !parts[1].isEmpty else {
                throw ValidationError("--token is platform:name=token, got '\(t)'")
            }
            await server.state.registerStaticToken(parts[1], account: parts[0])
            print("token for \(parts[0])")
        }
        for b in bluesky {
            let parts = b.split(separator: "=", maxSplits: 1).map(String.init)
            let cred = parts.count == 2 ? parts[1].split(separator: ":", maxSplits: 1).map(String.init) : []
            guard parts[0].split(separator: ":").count == 2, cred.count == 2 else {
                throw ValidationError("--bluesky is platform:name=handle:app-password, got '\(b)'")
            }
            await server.state.registerBluesky(account: parts[0], handle: cred[0], appPassword: cred[1])
            print("bluesky \(parts[0]) handle=\(cred[0])")
        }
        for k in s3Keys {
            let parts = k.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw ValidationError("--s3-key is id:secret, got '\(k)'") }
            await server.state.registerS3(accessKeyID: parts[0], secret: parts[1])
            print("s3 key \(parts[0])")
        }
        for w in webhooks {
            let parts = w.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw ValidationError("--webhook is name=secret, got '\(w)'") }
            await server.state.registerWebhook(parts[0], secret: parts[1])
            print("webhook receiver \(parts[0])")
        }
        await server.state.setFaults(.init(youtubePutDelayMs: putDelayMs, finalReplyDelayMs: finalReplyDelayMs))
        try await server.runForeground { p in
            print("sandbox listening on http://\(host):\(p)")
            print("HTTPS (Reddit's media host) is signed by the CA in \(server.caFile.path)")
            fflush(nil)
            // The same routes over HTTPS (what the bench's S3 and tus rows use), once that port is bound too.
            Task {
                for _ in 0..<200 {
                    if let t = server.tlsPort {
                        print("sandbox listening over HTTPS on https://\(host):\(t)")
                        fflush(nil)
                        return
                    }
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
        }
    }
}
