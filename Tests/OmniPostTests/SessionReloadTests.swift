import Foundation
import OmniPostCore
@testable import OmniPostPipeline
import OmniPostPlatforms
import Testing

/// A reload starts a new listener; the dashboard's sessions live outside it (`SessionStore`), so whoever
/// signed in stays signed in — the same cookie reads and posts forms afterwards. A reload that changes
/// the token signs everyone out.
@Suite struct SessionReloadTests {
    @Test(.timeLimit(.minutes(3))) func aReloadKeepsTheSessionAndANewTokenEndsIt() async throws {
        let dir = try TempDir()
        let root = dir.file("p")
        let token = dir.file("token")
        try "session-token-0123456789abcdef\n".write(to: token, atomically: true, encoding: .utf8)
        chmod(token.path, 0o600)
        let port = try EmailAlertTests.freePort()
        func text(_ targets: String) -> String {
            ReloadTests.pipelineText(root: root, targets: targets) + "\nhttp: {listen: \"127.0.0.1:\(port)\", token_file: \(token.path)}\n"
        }
        let file = try dir.write("p.yaml", text("youtube:main"))
        let lines = LinesBox()
        let first = try await Pipeline.open(config: try PlatformRegistry.load(path: file.path), logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        let supervisor = Supervisor(
            pipelines: [(file.path, first)], logger: TestPipelines.logger, progress: ProgressSink { lines.add($0) }, load: { try PlatformRegistry.load(path: $0) })
        let running = Task { try await supervisor.run() }
        let base = "http://127.0.0.1:\(port)"

        let signIn = try await DashboardTests.http(base + "/login", method: .POST, form: ["token": "session-token-0123456789abcdef", "back": "/failures"])
        let cookie = String(try #require(signIn.headers["Set-Cookie"].first).split(separator: ";")[0])
        let before = try await DashboardTests.http(base + "/failures", cookie: cookie)
        #expect(before.status == 200 && before.body.contains("Sign out"), "signed in: \(before.status)")
        #expect(try await DashboardTests.http(base + "/failures").status == 303, "without the cookie: sent to sign in")

        // A reload: the old listener stops, a new one binds the same address.
        try text("youtube:main, x:main").write(to: file, atomically: true, encoding: .utf8)
        await supervisor.reload()
        let second = try #require(await supervisor.pipelines.first)
        #expect(second !== first && second.listener !== first.listener, "a new pipeline with a new listener")
        let after = try await DashboardTests.http(base + "/failures", cookie: cookie)
        #expect(after.status == 200 && after.body.contains("Sign out"), "the same cookie still works: \(after.status)")
        // Its CSRF value still posts a form: sign out through it.
        let csrf = try #require(
            after.body.range(of: #"name="csrf" value="([^"]+)""#, options: .regularExpression).map {
                String(String(after.body[$0]).components(separatedBy: "value=\"")[1].dropLast())
            })

        // A new token: the old sessions are not this listener's any more.
        try "another-token-0123456789abcdef\n".write(to: token, atomically: true, encoding: .utf8)
        chmod(token.path, 0o600)
        await supervisor.reload()
        #expect(try await DashboardTests.http(base + "/failures", cookie: cookie).status == 303, "a changed token signs everyone out: \(lines.all)")
        // Its form refused too (401: the guard no longer knows the session).
        #expect(try await DashboardTests.http(base + "/logout", method: .POST, form: ["csrf": csrf], cookie: cookie).status == 401)

        running.cancel()
        _ = try? await running.value
        for p in await supervisor.pipelines { await p.close() }
    }
}
