import Foundation

/// `ledger:` — a shared PostgreSQL ledger for several hosts (docs/several-hosts.md). Absent, the ledger is
/// the SQLite file at `paths.ledger`, as always. Either the URL alone or a mapping:
///
/// ```yaml
/// ledger: postgres://omnipost@db.example.com:5432/omnipost
/// ledger:
///   url: postgres://omnipost@db.example.com/omnipost
///   password_file: /etc/omnipost/db-password     # or password_env: OMNIPOST_DB_PASSWORD
///   tls: verify-full                             # disable | require | verify-full
///   ca_file: /etc/omnipost/db-ca.pem              # verify-full: the CA the server's certificate chains to
///   pool_size: 4
///   heartbeat: 10s                               # this host's beat; its leases run three beats
/// ```
///
/// The password is never part of the URL or the pipeline file (it would be in every backup and `ps`).
package struct PostgresLedgerConfig: Sendable, Equatable {
    package enum TLSMode: String, Sendable, CaseIterable {
        /// Plain TCP: only where the network between the hosts and the database is trusted.
        case disable
        /// Encrypted, the server's certificate not checked (libpq's `sslmode=require`).
        case require
        /// Encrypted, the certificate checked against `ca_file` (or the system's CAs) and the host name.
        case verifyFull = "verify-full"
    }
    package var host: String
    package var port = 5432
    package var user: String
    package var database: String
    package var passwordFile: URL?
    package var passwordEnv: String?
    package var tls = TLSMode.disable
    package var caFile: URL?
    /// Connections this host holds open at most (each stage's claim takes one for a moment).
    package var poolSize = 4
    /// `heartbeat:`, when written: how often this host beats (`HostConfig.heartbeat`, 10 s unless written).
    package var heartbeat: Duration?
    /// Where `ledger:` stands in the pipeline file: what a connection problem is reported at.
    package var location: SourceLocation?

    package init(host: String, port: Int = 5432, user: String, database: String) {
        self.host = host
        self.port = port
        self.user = user
        self.database = database
    }

    /// Where it points, without any secret: what `check`, `status` and errors name.
    package var display: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// The password, read when the ledger connects (a rotated file is read again at the next start).
    package func password() throws -> String? {
        if let f = passwordFile {
            do {
                return try String(contentsOf: f, encoding: .utf8).trimmingCharacters(in: .newlines)
            } catch {
                throw OmniError(.configInvalid, "the ledger's password_file \(f.path) cannot be read: \(error.localizedDescription)")
            }
        }
        if let e = passwordEnv {
            guard let v = ProcessInfo.processInfo.environment[e] else {
                throw OmniError(.configInvalid, "the ledger's password_env names \(e), which is not set in this process's environment")
            }
            return v
        }
        return nil
    }
}

extension PostgresLedgerConfig {
    package static let keys = ["url", "password_file", "password_env", "tls", "ca_file", "pool_size", "heartbeat"]

    /// The heartbeat's bounds: a beat a second at most (each is a write on the shared database), and
    /// one at least every five minutes (a dead host's uploads wait three beats before another takes them).
    package static let heartbeatRange: ClosedRange<Duration> = .seconds(1)...(.seconds(300))

    /// `ledger:` as a URL or a mapping; each problem at its key's line.
    static func parse(_ node: DocNode, baseDirectory: URL) throws -> PostgresLedgerConfig {
        var c = try parseKeys(node, baseDirectory: baseDirectory)
        c.location = node.location
        return c
    }

    private static func parseKeys(_ node: DocNode, baseDirectory: URL) throws -> PostgresLedgerConfig {
        if (try? node.string()) != nil { return try parseURL(node) }
        let m = try node.mapping(allowed: keys)
        guard let u = m["url"] else { throw node.fail("ledger: needs `url: postgres://user@host:port/database`") }
        var c = try parseURL(u)
        if let v = m["password_file"] {
            let file = resolvePath(try v.string(), against: baseDirectory)
            guard FileManager.default.isReadableFile(atPath: file.path) else { throw v.fail("password_file \(file.path) cannot be read") }
            c.passwordFile = file
        }
        if let v = m["password_env"] {
            if c.passwordFile != nil { throw v.fail("give the password in password_file or password_env, not both") }
            c.passwordEnv = try v.string()
        }
        if let v = m["tls"] { c.tls = TLSMode(rawValue: try v.oneOf(TLSMode.allCases.map(\.rawValue)))! }
        if let v = m["ca_file"] {
            let file = resolvePath(try v.string(), against: baseDirectory)
            guard FileManager.default.isReadableFile(atPath: file.path) else { throw v.fail("ca_file \(file.path) cannot be read") }
            guard c.tls == .verifyFull else { throw v.fail("ca_file is used only with tls: verify-full") }
            c.caFile = file
        }
        if let v = m["pool_size"] {
            c.poolSize = try v.int()
            guard (1...64).contains(c.poolSize) else { throw v.fail("pool_size must be between 1 and 64") }
        }
        if let v = m["heartbeat"] { c.heartbeat = try parseHeartbeat(v) }
        return c
    }

    /// `heartbeat: 10s` — a duration within `heartbeatRange`, or `heartbeat_invalid` at its line.
    static func parseHeartbeat(_ node: DocNode) throws -> Duration {
        let text = (try? node.string()) ?? ""
        guard let d = DurationText.parse(text.trimmingCharacters(in: .whitespaces)) else {
            throw node.fail(.heartbeatInvalid, "heartbeat: expected a duration like 10s or 1m, found '\(Excerpt.quote(text))'")
        }
        guard heartbeatRange.contains(d) else {
            throw node.fail(
                .heartbeatInvalid,
                "heartbeat: \(text) is outside 1s to 5m (a host beats at most once a second; a dead host's uploads wait three beats for another host)")
        }
        return d
    }

    /// `postgres://user@host:port/database` (or `postgresql://`). A password in it is refused: it belongs
    /// in `password_file` or `password_env`. Query options are not read (`tls:` and the rest are keys).
    static func parseURL(_ node: DocNode) throws -> PostgresLedgerConfig {
        do {
            return try parse(url: try node.string())
        } catch let e as OmniError where e.location == nil {
            throw node.fail(e.message)
        }
    }

    /// The URL alone (`ledger:`'s, or one a tool is given), each problem a sentence of its own.
    package static func parse(url text: String) throws -> PostgresLedgerConfig {
        func fail(_ m: String) -> OmniError { OmniError(.configInvalid, m) }
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? "") else {
            throw fail("ledger: '\(Excerpt.quote(text))' is not a postgres://user@host:port/database URL")
        }
        if url.password != nil {
            throw fail("a password is not kept in the pipeline file: put it in a file (`password_file:`, mode 600) or the environment (`password_env:`)")
        }
        if url.query != nil { throw fail("ledger: options go in keys of their own (tls:, ca_file:, pool_size:), not in the URL's query") }
        guard let host = url.host, !host.isEmpty else { throw fail("ledger: the URL names no host") }
        guard let user = url.user, !user.isEmpty else { throw fail("ledger: the URL names no user (postgres://user@host/database)") }
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw fail("ledger: the URL names no database (postgres://user@host/database)") }
        var c = PostgresLedgerConfig(host: host, user: user, database: database)
        if let p = url.port {
            guard (1...65535).contains(p) else { throw fail("ledger: port \(p) is out of range") }
            c.port = p
        }
        return c
    }
}
