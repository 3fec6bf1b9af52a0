import Foundation

/// `notify:` — where a person hears about what needs them: a drop that failed (with its reason and
/// place), a delivery that gave up, an account that cannot publish, a refresh token that lapses soon,
/// a quota nearly spent, a breaker that opened, a disk filling up. Each sink is a generic webhook
/// (JSON, HMAC-signed with a timestamp), a Slack- or Discord-compatible incoming webhook, ntfy, or
/// e-mail over SMTP (STARTTLS by default).
package struct NotifyConfig: Sendable, Equatable {
    package enum Kind: String, Sendable, CaseIterable { case webhook, slack, discord, ntfy, email }
    package struct Sink: Sendable, Equatable {
        package var name: String
        package var kind: Kind
        /// The webhook's address; for e-mail, `smtp://host:port` (what status and logs show).
        package var url: String
        package var secret: String?
        package var email: Email? = nil
    }
    /// An e-mail sink: the server, how the connection is secured, who it is from and to, and the
    /// login — its password from a file or the environment, never from the pipeline file itself.
    package struct Email: Sendable, Equatable {
        package var host: String
        package var port: Int
        /// starttls (587, the default), tls (465), or none (only to a relay on this machine).
        package var security: String
        package var from: String
        package var to: [String]
        package var username: String?
        package var passwordFile: URL?
        package var passwordEnv: String?
        /// Extra CAs to trust for this server (a private CA); the system's are trusted too.
        package var caFile: URL?

        package func password() -> String? {
            if let f = passwordFile { return (try? String(contentsOf: f, encoding: .utf8))?.trimmingCharacters(in: .newlines) }
            if let e = passwordEnv { return ProcessInfo.processInfo.environment[e] }
            return nil
        }
    }
    package var sinks: [Sink] = []
    /// Messages a sink gets in an hour at most; beyond it they wait and go out together, grouped.
    package var maxPerHour = 20
    /// A quota this full is worth a message.
    package var quotaThreshold = 0.8
    /// Free space under this (in work/) is worth a message.
    package var diskLowBytes: Int64 = 2 << 30
    /// More deliveries than this waiting to go (due now) for `backlogMinutes` is worth a message.
    package var backlog = 50
    package var backlogMinutes = 30
    /// Upload attempts of the last `successWindowHours` that ended well, below this fraction (with at
    /// least 10 attempts), is worth a message — seed 003's default thresholds.
    package var successRate = 0.8
    package var successWindowHours = 6
    /// The hour (UTC) of the daily digest; nil: none.
    package var digestHour: Int? = 8
    package init() {}
}

extension NotifyConfig {
    static func parse(_ v: DocNode, base: URL) throws -> NotifyConfig {
        var n = NotifyConfig()
        let m = try v.mapping(allowed: [
            "sinks", "max_per_hour", "quota_threshold", "disk_low", "backlog", "backlog_minutes", "success_rate",
            "success_window_hours", "digest_hour"
        ])
        if let x = m["backlog"] { n.backlog = max(1, try x.int()) }
        if let x = m["backlog_minutes"] { n.backlogMinutes = max(1, try x.int()) }
        if let x = m["success_rate"] {
            n.successRate = try x.double()
            if !(0...1).contains(n.successRate) { throw x.fail("success_rate is a fraction between 0 and 1") }
        }
        if let x = m["success_window_hours"] { n.successWindowHours = max(1, try x.int()) }
        if let x = m["digest_hour"] {
            if let t = try? x.string(), ["off", "none", "false"].contains(t.lowercased()) {
                n.digestHour = nil
            } else {
                let h = try x.int()
                if !(0...23).contains(h) { throw x.fail("digest_hour is an hour 0–23 (UTC), or off") }
                n.digestHour = h
            }
        }
        if let x = m["max_per_hour"] {
            n.maxPerHour = try x.int()
            if n.maxPerHour < 1 { throw x.fail("max_per_hour must be at least 1") }
        }
        if let x = m["quota_threshold"] {
            n.quotaThreshold = try x.double()
            if !(0.1...1).contains(n.quotaThreshold) { throw x.fail("quota_threshold is a fraction between 0.1 and 1 (0.8 = 80 %)") }
        }
        if let x = m["disk_low"] { n.diskLowBytes = try x.byteSize() }
        guard let list = m["sinks"] else { throw v.fail("notify needs `sinks:`, a list like [{kind: ntfy, url: https://ntfy.sh/my-topic}]") }
        for (i, s) in try list.sequence().enumerated() {
            let f = try s.mapping(allowed: ["kind", "url", "secret", "name", "smtp", "security", "from", "to", "username", "password_file", "password_env", "ca_file", "password"])
            guard let k = f["kind"] else { throw s.fail("a sink needs `kind:` (\(Kind.allCases.map(\.rawValue).joined(separator: ", ")))") }
            let kind = Kind(rawValue: try k.oneOf(Kind.allCases.map(\.rawValue)))!
            if kind == .email {
                let email = try parseEmail(s, f, base: base)
                let name = try f["name"]?.string() ?? "email-\(i + 1)"
                if n.sinks.contains(where: { $0.name == name }) { throw s.fail("two sinks are named '\(name)'") }
                n.sinks.append(Sink(name: name, kind: .email, url: "smtp://\(email.host):\(email.port)", secret: nil, email: email))
                continue
            }
            for key in ["smtp", "security", "from", "to", "username", "password_file", "password_env", "ca_file", "password"] {
                if let x = f[key] { throw x.fail("`\(key)` belongs to an email sink, not a \(kind.rawValue) one") }
            }
            guard let u = f["url"] else { throw s.fail("a \(kind.rawValue) sink needs `url:`") }
            let url = try u.string()
            guard let c = URLComponents(string: url), ["http", "https"].contains(c.scheme ?? ""), c.host?.isEmpty == false else {
                throw u.fail("'\(Excerpt.quote(url))' is not an http(s) URL")
            }
            let name = try f["name"]?.string() ?? "\(kind.rawValue)-\(i + 1)"
            if n.sinks.contains(where: { $0.name == name }) { throw s.fail("two sinks are named '\(name)'") }
            n.sinks.append(Sink(name: name, kind: kind, url: url, secret: try f["secret"]?.string()))
        }
        return n
    }

    /// `{kind: email, smtp: host:port, security, from, to, username, password_file | password_env, ca_file}`.
    static func parseEmail(_ s: DocNode, _ f: [String: DocNode], base: URL) throws -> Email {
        if let x = f["password"] { throw x.fail("a password is not kept in the pipeline file: put it in a file (`password_file:`, mode 600) or the environment (`password_env:`)") }
        if let x = f["url"] ?? f["secret"] { throw x.fail("an email sink takes `smtp: host:port`, not url or secret") }
        guard let sm = f["smtp"] else { throw s.fail("an email sink needs `smtp: host:port`, like smtp.example.com:587") }
        let text = try sm.string()
        guard let (host, port) = HTTPConfig.parseListen(text.contains(":") ? text : text + ":587"), port > 0, host != "0.0.0.0" else {
            throw sm.fail("smtp is host:port, like smtp.example.com:587")
        }
        let security = try f["security"]?.oneOf(["starttls", "tls", "none"]) ?? (port == 465 ? "tls" : "starttls")
        let loopback = host == "localhost" || host.hasPrefix("127.") || host == "::1"
        if security == "none", !loopback {
            throw (f["security"] ?? sm).fail(
                "security: none sends alerts (and any password) in clear; it is allowed only to a relay on this machine. Use starttls or tls for \(host)")
        }
        func address(_ node: DocNode) throws -> String {
            let a = try node.string().trimmingCharacters(in: .whitespaces)
            let parts = a.split(separator: "@")
            guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !a.contains(where: { $0 == "<" || $0 == ">" || $0.isWhitespace || $0.isNewline }) else {
                throw node.fail("'\(Excerpt.quote(a))' is not an e-mail address like ops@example.com")
            }
            return a
        }
        guard let fromNode = f["from"] else { throw s.fail("an email sink needs `from:`, the address alerts come from") }
        guard let toNode = f["to"] else { throw s.fail("an email sink needs `to:`, an address or a list of them") }
        let to = try (try? toNode.sequence()).map { try $0.map(address) } ?? [address(toNode)]
        if to.isEmpty { throw toNode.fail("`to:` needs at least one address") }
        var email = Email(host: host, port: port, security: security, from: try address(fromNode), to: to)
        email.username = try f["username"]?.string()
        if let p = f["password_file"] {
            let file = resolvePath(try p.string(), against: base)
            guard FileManager.default.isReadableFile(atPath: file.path) else { throw p.fail("password_file \(file.path) cannot be read") }
            email.passwordFile = file
        }
        if let p = f["password_env"] { email.passwordEnv = try p.string() }
        if email.username != nil, email.passwordFile == nil, email.passwordEnv == nil {
            throw (f["username"] ?? s).fail("a username needs its password in `password_file:` or `password_env:`")
        }
        if let c = f["ca_file"] { email.caFile = resolvePath(try c.string(), against: base) }
        return email
    }
}

/// A path from the pipeline file: absolute as it is, relative against the file's folder.
func resolvePath(_ p: String, against base: URL) -> URL {
    p.hasPrefix("/") ? URL(fileURLWithPath: p) : base.appendingPathComponent(p).standardizedFileURL
}
