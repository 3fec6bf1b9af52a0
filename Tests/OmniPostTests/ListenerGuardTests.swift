import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore
@testable import OmniPostPipeline
import Testing

/// The listener as a reverse proxy on the same host sees it: with a token set, reads need it from this
/// machine too; every proxy header marks a request as from elsewhere; wrong tokens are throttled per
/// source, logged and counted; the session cookie is `Secure` behind https.
@Suite struct ListenerGuardTests {
    static func ask(_ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], form: String? = nil) async throws -> (
        status: Int, headers: HTTPHeaders, body: String
    ) {
        var req = HTTPClientRequest(url: url)
        req.method = method
        for (k, v) in headers { req.headers.add(name: k, value: v) }
        if let form {
            req.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            req.body = .bytes(ByteBuffer(string: form))
        }
        let r = try await DashboardTests.client.execute(req, timeout: .seconds(30))
        return (Int(r.status.code), r.headers, String(buffer: try await r.body.collect(upTo: 8 << 20)))
    }

    @Test(.timeLimit(.minutes(3))) func readsNeedTheTokenBehindAProxyAndGuessesAreThrottled() async throws {
        let dir = try TempDir()
        let token = "guard-token-0123456789abc"
        chmod(try dir.write("token", token + "\n").path, 0o600)
        let config = try TestPipelines.config(
            root: dir.url, extra: "http: {listen: \"127.0.0.1:0\", token_file: \(dir.url.path)/token, public_url: \"https://nas.example.com\"}",
            targets: "targets: [youtube:main]")
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let base = "http://127.0.0.1:\(try #require(p.listener).port)"

            // A token is set: no read from this machine without it (nginx in front adds nothing by default).
            #expect(try await Self.ask(base + "/healthz").status == 200)
            for path in ["/api/v1/drops", "/metrics", "/readyz"] { #expect(try await Self.ask(base + path).status == 401, "\(path)") }
            #expect(try await Self.ask(base + "/").status == 303)
            #expect(try await Self.ask(base + "/api/v1/drops", headers: [("Authorization", "Bearer \(token)")]).status == 200)

            // Signing in behind https: the cookie is Secure (and HttpOnly, SameSite=Strict).
            let signIn = try await Self.ask(base + "/login", method: .POST, form: "token=\(token)&back=/failures")
            let cookie = try #require(signIn.headers["Set-Cookie"].first)
            #expect(signIn.status == 303 && cookie.contains("; Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "\(cookie)")

            // Guesses from one client behind the proxy: five are answered, then that client is held back
            // (429 with Retry-After) even with the right token; another client is not.
            let guesser = [("X-Forwarded-For", "203.0.113.7")]
            for i in 0..<6 {
                let r = try await Self.ask(base + "/api/v1/drops", headers: guesser + [("Authorization", "Bearer wrong-\(i)-0123456789")])
                #expect(r.status == 401, "guess \(i)")
            }
            let held = try await Self.ask(base + "/api/v1/drops", headers: guesser + [("Authorization", "Bearer \(token)")])
            #expect(held.status == 429 && held.headers["Retry-After"].first.flatMap(Int.init) ?? 0 >= 1, "\(held.status)")
            let login = try await Self.ask(base + "/login", method: .POST, headers: guesser, form: "token=wrong")
            #expect(login.status == 429)
            #expect(try await Self.ask(base + "/api/v1/drops", headers: [("X-Forwarded-For", "198.51.100.2"), ("Authorization", "Bearer \(token)")]).status == 200)
            let metrics = try await Self.ask(base + "/metrics", headers: [("Authorization", "Bearer \(token)")])
            #expect(metrics.body.contains("omnipost_auth_failures_total 6"), "\(metrics.body.suffix(300))")
        }
    }

    /// `loopback_reads: open` keeps reads from this machine free — but never for a request a proxy passed
    /// on, whichever header says so (`X-Real-IP`, nginx's usual one, among them).
    @Test(.timeLimit(.minutes(3))) func everyProxyHeaderMarksARequestAsFromElsewhere() async throws {
        let dir = try TempDir()
        chmod(try dir.write("token", "open-token-0123456789abc\n").path, 0o600)
        let config = try TestPipelines.config(
            root: dir.url, extra: "http: {listen: \"127.0.0.1:0\", token_file: \(dir.url.path)/token, loopback_reads: open}",
            targets: "targets: [youtube:main]")
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let base = "http://127.0.0.1:\(try #require(p.listener).port)"
            #expect(try await Self.ask(base + "/api/v1/drops").status == 200)
            for h in [
                ("X-Real-IP", "203.0.113.9"), ("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "for=203.0.113.9"), ("Via", "1.1 nginx"),
                ("X-Forwarded-Host", "nas.example.com"), ("X-Forwarded-Proto", "https")
            ] {
                #expect(try await Self.ask(base + "/api/v1/drops", headers: [h]).status == 401, "\(h.0)")
            }
            // Without https in public_url, the cookie is not marked Secure (it would never be sent back).
            let signIn = try await Self.ask(base + "/login", method: .POST, form: "token=open-token-0123456789abc")
            #expect(signIn.headers["Set-Cookie"].first?.contains("Secure") == false)
        }
    }

    /// The throttle's own arithmetic: five free failures, then holds that double, capped, per source.
    @Test func theThrottleDoublesItsHoldPerSource() {
        let clock = TestClock(Date(timeIntervalSince1970: 1_000_000))
        let t = AuthThrottle(now: { clock.now() })
        for _ in 0..<5 { t.failure("a") }
        #expect(t.wait("a") == nil)
        t.failure("a")
        #expect(t.wait("a") == 5)
        t.failure("a")
        #expect(t.wait("a") == 10)
        for _ in 0..<20 { t.failure("a") }
        #expect(t.wait("a") == AuthThrottle.longestHold)
        #expect(t.wait("b") == nil && t.failures == 27)
        clock.advance(AuthThrottle.longestHold + 1)
        #expect(t.wait("a") == nil)
    }
}
