import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// E-mail alerts through a real SMTP server (aiosmtpd, from the test virtualenv) that requires
/// STARTTLS and AUTH: a failed drop's alert waits while the server is down, arrives once when it comes
/// back — over TLS, logged in, with the reason and what to do — and is not sent again by a restarted
/// notifier; a refused login is given up on and said so; the sink's settings are checked at their lines.
@Suite struct EmailAlertTests {
    /// A port nothing listens on now (bound, read, released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw OmniError(.internalError, "no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func received(_ dir: URL) -> [[String: Any]] {
        let files = ((try? FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)) ?? []).filter { $0.pathExtension == "json" }.sorted {
            $0.path < $1.path
        }
        return files.compactMap { (try? JSONSerialization.jsonObject(with: Data(contentsOf: $0))) as? [String: Any] }
    }

    @Test func emailSinksAreCheckedAtTheirLines() throws {
        func problem(_ sink: String) -> OmniError? {
            do {
                _ = try PipelineConfig.parse(
                    text: "version: 1\nroot: /tmp/p\nsandbox: embedded\ntargets: [youtube:main]\nnotify:\n  sinks:\n    - \(sink)\n", file: "p.yaml",
                    baseDirectory: URL(fileURLWithPath: "/tmp"));
                return nil
            } catch let e as OmniError { return e } catch { return OmniError(.internalError, "\(error)") }
        }
        let ok = "{kind: email, smtp: \"smtp.example.com:587\", from: omnipost@example.com, to: ops@example.com"
        #expect(problem(ok + "}") == nil)
        #expect(problem(ok + ", password: hunter2}")?.message.contains("not kept in the pipeline file") == true)
        #expect(problem(ok + ", security: none}")?.message.contains("only to a relay on this machine") == true)
        #expect(problem("{kind: email, smtp: \"127.0.0.1:25\", security: none, from: a@example.com, to: b@example.com}") == nil)
        #expect(problem(ok + ", username: me}")?.message.contains("password_file") == true)
        #expect(problem("{kind: email, smtp: \"smtp.example.com:587\", from: nobody, to: ops@example.com}")?.message.contains("not an e-mail address") == true)
        #expect(problem("{kind: email, from: a@example.com, to: b@example.com}")?.message.contains("needs `smtp: host:port`") == true)
        let e = problem(ok + ", to2: x}")
        #expect(e?.location?.line == 7, "\(String(describing: e))")
        #expect(problem("{kind: ntfy, url: \"https://ntfy.sh/t\", from: a@example.com}")?.message.contains("belongs to an email sink") == true)
        // Port 465 is TLS from the first byte unless said otherwise.
        let c = try PipelineConfig.parse(
            text:
                "version: 1\nroot: /tmp/p\nsandbox: embedded\ntargets: [youtube:main]\nnotify: {sinks: [{kind: email, smtp: \"mail.example.com:465\", from: a@example.com, to: [b@example.com, c@example.com]}]}\n",
            file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
        #expect(c.notify?.sinks.first?.email?.security == "tls" && c.notify?.sinks.first?.email?.to.count == 2)
    }

    @Test func messagesAreWellFormed() {
        let m = AlertMail.compose(
            from: "omnipost@example.com", to: ["a@example.com"], subject: "studio: clip — failed", body: ".starts with a dot\nline two",
            key: "drop_failed:x", kind: "drop_failed", date: Date(timeIntervalSince1970: 0))
        #expect(m.contains("Subject: =?UTF-8?B?") && m.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000") && m.contains("Message-ID: <"))
        #expect(m.split(separator: "\r\n", omittingEmptySubsequences: false).allSatisfy { $0.utf8.count <= 998 })
        let again = AlertMail.compose(from: "omnipost@example.com", to: ["a@example.com"], subject: "s", body: "b", key: "drop_failed:x", kind: "k")
        func id(_ s: String) -> Substring? { s.split(separator: "\r\n").first { $0.hasPrefix("Message-ID:") } }
        #expect(id(m) == id(again), "the same alert, the same Message-ID")
        #expect(SMTPClient.dotStuffed(".a\nb\n..c") == "..a\r\nb\r\n...c\r\n")
        #expect(AlertMail.encodedWord("plain ASCII") == "plain ASCII" && AlertMail.encodedWord("a\r\nBcc: x@y.z").contains("\r\n") == false)
    }

    @Test(.enabled(if: PythonServer.has("aiosmtpd")), .timeLimit(.minutes(3))) func anAlertArrivesOnceOverSTARTTLSAfterTheServerWasDown() async throws {
        let dir = try TempDir()
        let port = try Self.freePort()
        _ = try dir.write("smtp.pass", "s3cret-pass\n")
        let mailbox = dir.file("mailbox")
        let config = try TestPipelines.config(
            root: dir.url,
            extra: """
                notify:
                  digest_hour: off
                  sinks:
                    - {kind: email, name: mail, smtp: "127.0.0.1:\(port)", from: omnipost@example.com, to: [ops@example.com, oncall@example.com],
                       username: alerts, password_file: \(dir.url.path)/smtp.pass, ca_file: \(TestTLS.folder.appendingPathComponent("ca.pem").path)}
                """, targets: "targets: [youtube:main]")
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "bad", sidecar: "title: x\ntitel: typo\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let ledger = p.context.ledger
            let notifier = Notifier(ctx: p.context, config: try #require(config.notify), http: p.http)
            try notifier.produce()
            // The server is down: the alert waits, with why.
            await notifier.send()
            let waiting = try #require(try ledger.notifications(sink: "mail").first)
            #expect(waiting.sentAt == nil && !waiting.givenUp && waiting.lastError?.contains("could not be reached") == true, "\(waiting)")

            // It comes back: the alert goes once, over STARTTLS, logged in.
            let server = try PythonServer(script: "smtp_server.py", arguments: [String(port), TestTLS.folder.path, mailbox.path, "alerts", "s3cret-pass"])
            defer { server.process.terminate() }
            await notifier.send(now: Date().addingTimeInterval(120))
            let got = Self.received(mailbox)
            #expect(got.count == 1, "\(got)")
            let mail = try #require(got.first)
            #expect(mail["tls"] as? Bool == true && mail["auth"] as? Bool == true, "\(mail)")
            #expect(mail["from"] as? String == "omnipost@example.com" && (mail["to"] as? [String])?.sorted() == ["oncall@example.com", "ops@example.com"])
            let content = mail["content"] as? String ?? ""
            let body = content.components(separatedBy: "\r\n\r\n").dropFirst().joined().replacingOccurrences(of: "\r\n", with: "")
            let text = String(decoding: Data(base64Encoded: body) ?? Data(), as: UTF8.self)
            #expect(content.contains("Subject: test: bad failed") && text.contains("unknown_key") && text.contains("omnipost retry"), "\(content)\n\(text)")
            #expect(try ledger.notifications(sink: "mail").first?.sentAt != nil)

            // A restarted notifier reads the same facts again and sends nothing twice.
            let again = Notifier(ctx: p.context, config: try #require(config.notify), http: p.http)
            try ledger.setNotifyCursor(0)
            try again.produce()
            await again.send(now: Date().addingTimeInterval(600))
            #expect(Self.received(mailbox).count == 1)

            // A login the server refuses (535) is given up on, and the ledger says why.
            try ledger.enqueueNotification(sink: "mail", key: "test:wrong-login", kind: "test", title: "t", body: "b")
            var bad = try #require(config.notify)
            _ = try dir.write("wrong.pass", "not-it\n")
            bad.sinks[0].email?.passwordFile = dir.file("wrong.pass")
            await Notifier(ctx: p.context, config: bad, http: p.http).send(now: Date().addingTimeInterval(900))
            let refused = try #require(try ledger.notifications(sink: "mail").first { $0.key == "test:wrong-login" })
            #expect(refused.givenUp && refused.lastError?.contains("535") == true, "\(refused)")
            #expect(Self.received(mailbox).count == 1)
        }
    }
}
