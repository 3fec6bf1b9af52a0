import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import OmniPostCore
import OmniPostLedger
import OmniPostWire

/// Posts one alert to one sink in the sink's own format (a signed JSON webhook, Slack, Discord, ntfy,
/// e-mail). It needs only the pipeline's settings, so `omnipost notify test` sends through exactly the
/// code the daemon's notifier does.
package struct AlertSender: Sendable {
    let config: PipelineConfig
    let http: HTTPClient

    package init(config: PipelineConfig, http: HTTPClient) {
        self.config = config
        self.http = http
    }

    package struct Message: Sendable {
        package var key: String
        package var kind: String
        package var title: String
        package var body: String
        package var facts: AlertFacts?

        package init(key: String, kind: String, title: String, body: String, facts: AlertFacts? = nil) {
            self.key = key
            self.kind = kind
            self.title = title
            self.body = body
            self.facts = facts
        }
    }

    package enum Outcome: Sendable, Equatable { case sent, retry(String), refused(String) }

    /// The facts as the webhook's JSON object: times as RFC 3339.
    static func factsObject(_ f: AlertFacts) -> [String: Any] {
        var o: [String: Any] = ["at": isoStamp(f.at)]
        if let v = f.dropId { o["drop"] = v }
        if let v = f.target { o["target"] = v }
        if let v = f.deliveryId { o["delivery"] = v }
        if let v = f.account { o["account"] = v }
        if let v = f.reasonCode { o["reason"] = v }
        if let v = f.location { o["location"] = v }
        if let v = f.published { o["published"] = v }
        if let v = f.link { o["link"] = v }
        return o
    }

    /// A line of facts for the sinks that show text (Slack, Discord, ntfy, e-mail).
    static func factsLine(_ f: AlertFacts) -> String {
        var parts = ["at \(isoStamp(f.at))"]
        if let v = f.reasonCode { parts.append("reason \(v)") }
        if let v = f.location { parts.append("where \(v)") }
        if let v = f.published, !v.isEmpty { parts.append("published to \(v.joined(separator: ", "))") }
        if let v = f.link { parts.append(v) }
        return parts.joined(separator: " · ")
    }

    package func post(_ sink: NotifyConfig.Sink, _ m: Message) async -> Outcome {
        let text = m.facts.map { m.body + "\n" + Self.factsLine($0) } ?? m.body
        if let email = sink.email { return await mail(email, sink: sink.name, m, text: text) }
        var req = HTTPClientRequest(url: sink.url)
        req.method = .POST
        let payload: Data
        let now = Date().timeIntervalSince1970
        switch sink.kind {
        case .webhook:
            // `at` is when it happened (a message that waited for the sink keeps it); `sent_at` is now.
            var o: [String: Any] = [
                "pipeline": config.name, "kind": m.kind, "key": m.key, "title": m.title, "body": m.body,
                "at": isoStamp(m.facts?.at ?? now), "sent_at": isoStamp(now)
            ]
            if let f = m.facts { o["facts"] = Self.factsObject(f) }
            payload = (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            req.headers.add(name: "Content-Type", value: "application/json")
            req.headers.add(name: "Idempotency-Key", value: m.key)
            if let secret = sink.secret {
                req.headers.add(name: WebhookSignature.header, value: WebhookSignature.sign(payload, secret: secret, timestamp: Int(now)))
            }
        case .slack:
            payload = (try? JSONSerialization.data(withJSONObject: ["text": "*\(m.title)*\n\(text)"], options: [.withoutEscapingSlashes])) ?? Data()
            req.headers.add(name: "Content-Type", value: "application/json")
        case .discord:
            payload = (try? JSONSerialization.data(withJSONObject: ["content": String("**\(m.title)**\n\(text)".prefix(2000))], options: [.withoutEscapingSlashes])) ?? Data()
            req.headers.add(name: "Content-Type", value: "application/json")
        case .email:
            return .refused("\(sink.name) has no SMTP settings")
        case .ntfy:
            payload = Data(text.utf8)
            req.headers.add(name: "Title", value: String(m.title.prefix(200)))
            req.headers.add(name: "Tags", value: m.kind)
            // ntfy opens this when the notification is tapped: the drop's page.
            if let link = m.facts?.link { req.headers.add(name: "Click", value: link) }
            req.headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        }
        req.headers.add(name: "User-Agent", value: Product.userAgent)
        req.body = .bytes(ByteBuffer(data: payload))
        do {
            let r = try await http.execute(req, timeout: .seconds(20))
            _ = try? await r.body.collect(upTo: 1 << 20)
            let code = Int(r.status.code)
            if (200..<300).contains(code) { return .sent }
            if code == 429 || code == 408 || code >= 500 { return .retry("\(sink.name) answered \(code)") }
            return .refused("\(sink.name) answered \(code)")
        } catch {
            return .retry("\(sink.name) could not be reached: \(error)")
        }
    }

    /// An alert as e-mail. A 5xx answer (a refused address, a failed login) is given up on and said so;
    /// anything else — a 4xx, a timeout, a server that is down — is tried again with backoff.
    func mail(_ email: NotifyConfig.Email, sink: String, _ m: Message, text: String) async -> Outcome {
        do {
            var tls = try Pipeline.tlsConfiguration(config.upload)
            if let ca = email.caFile { tls.additionalTrustRoots.append(.certificates(try NIOSSLCertificate.fromPEMFile(ca.path))) }
            let client = SMTPClient(
                host: email.host, port: email.port, security: SMTPClient.Security(rawValue: email.security) ?? .starttls,
                username: email.username, password: email.password(), tls: tls)
            let message = AlertMail.compose(
                from: email.from, to: email.to, subject: m.title,
                body: text + "\n\n— OmniPost, pipeline \(config.name) (\(config.file))", key: m.key, kind: m.kind)
            try await client.send(from: email.from, to: email.to, message: message)
            return .sent
        } catch let f as SMTPClient.Failure {
            return f.permanent ? .refused("\(sink): \(f.description)") : .retry("\(sink): \(f.description)")
        } catch {
            return .retry("\(sink) could not be reached: \(error)")
        }
    }

    /// `omnipost notify test`: one message to each sink (or the one named), sent now; what each answered.
    package func test(sink name: String? = nil) async throws -> [(sink: String, outcome: Outcome)] {
        guard let notify = config.notify else { throw OmniError(.configInvalid, "\(config.file) has no `notify:` section: there is no sink to test") }
        let sinks = notify.sinks.filter { name == nil || $0.name == name }
        guard !sinks.isEmpty else {
            throw OmniError(.invalidValue, "no sink named '\(name ?? "")' (the sinks are \(notify.sinks.map(\.name).joined(separator: ", ")))")
        }
        let at = Date().timeIntervalSince1970
        var out: [(String, Outcome)] = []
        for s in sinks {
            let m = Message(
                key: "test:\(Int(at)):\(s.name)", kind: "test", title: "\(config.name): a test alert",
                body: "`omnipost notify test` sent this to \(s.name). Alerts from this pipeline reach you here.",
                facts: AlertFacts(at: at))
            out.append((s.name, await post(s, m)))
        }
        return out
    }
}
