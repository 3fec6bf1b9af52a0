import Foundation
import OmniPostCore

/// A private PostgreSQL server for the tests: `initdb` in a fresh temporary folder, `postgres` on a free
/// loopback port, password authentication over TCP (the password in a file, as `ledger: {password_file:}`
/// reads it). `make test` installs Debian's `postgresql` package when missing.
///
/// initdb and the server refuse to run as root, and the tests run as root on the build machine: the
/// server then runs as `nobody` (setpriv), which owns the folder. It is started under a small shell
/// that waits on this process's pipe: when the pipe closes — `stop()`, or this test process ending,
/// however it ends — the shell stops the server (fast shutdown), waits for it and removes the folder.
/// One server serves the whole test process; each test gets a database of its own (`withPostgresDatabase`).
final class PostgresServer: @unchecked Sendable {  // immutable after init but for `guardian`, stopped once
    let port: Int
    let dir: URL
    let user = "omnipost"
    let password: String
    /// The password, in a file the tests name as `password_file:`.
    let passwordFile: URL
    private let guardian = Process()
    private let pipe = Pipe()

    /// The server's binaries: Debian keeps them under /usr/lib/postgresql/<major>/bin (only wrappers are on
    /// PATH); the newest major installed is used.
    static let bin: URL? = {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let majors = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).compactMap(Int.init).sorted()
        for major in majors.reversed() {
            let b = root.appendingPathComponent("\(major)/bin")
            if FileManager.default.isExecutableFile(atPath: b.appendingPathComponent("initdb").path) { return b }
        }
        return nil
    }()

    static var available: Bool { bin != nil }

    nonisolated(unsafe) private static var instance: PostgresServer?
    private static let lock = NSLock()

    /// The server for this test process, started on first use.
    static func shared() throws -> PostgresServer {
        lock.lock()
        defer { lock.unlock() }
        if let i = instance { return i }
        let s = try PostgresServer()
        instance = s
        return s
    }

    /// Whether a commit waits for its WAL write (PostgreSQL's default). The shared server does not (speed);
    /// a server a test stops with `pg_ctl -m immediate` must, or commits the clients were told of are lost.
    let synchronousCommit: Bool

    convenience init() throws { try self.init(synchronousCommit: false) }

    init(synchronousCommit: Bool) throws {
        self.synchronousCommit = synchronousCommit
        guard let bin = Self.bin else { throw OmniError(.internalError, "PostgreSQL is not installed (make test installs Debian's postgresql)") }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("omnipost-pg-\(UUID().uuidString.prefix(12))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        password = UUID().uuidString
        passwordFile = dir.appendingPathComponent("password")
        try Data(password.utf8).write(to: passwordFile)
        let asRoot = getuid() == 0
        // Run as `nobody` when root: it owns the folder (0700 — the data directory must not be readable by others).
        let runAs = asRoot ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] : []
        if asRoot { try Self.sh("chown -R nobody:nogroup '\(dir.path)' && chmod 0700 '\(dir.path)'") }
        try Self.sh(
            (runAs + [
                bin.appendingPathComponent("initdb").path, "-D", dir.appendingPathComponent("data").path, "-U", user,
                "--pwfile=\(passwordFile.path)", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"
            ]).map { "'\($0)'" }.joined(separator: " ") + " >'\(dir.path)/initdb.log' 2>&1")
        // A port nobody holds now; the server binds it a moment later (tests running beside may race for it: rare, and it fails loudly).
        port = try DeadPort().port
        let server =
            (runAs + [
                bin.appendingPathComponent("postgres").path, "-D", dir.appendingPathComponent("data").path, "-p", "\(port)",
                "-k", dir.path, "-c", "listen_addresses=127.0.0.1",
                // A test server: durability is not what is tested (a crash of the machine loses the test anyway).
                "-c", "fsync=off", "-c", "synchronous_commit=\(synchronousCommit ? "on" : "off")", "-c", "full_page_writes=off", "-c", "max_connections=200"
            ]).map { "'\($0)'" }.joined(separator: " ")
        guardian.executableURL = URL(fileURLWithPath: "/bin/sh")
        guardian.arguments = [
            "-c",
            """
            \(server) </dev/null >>'\(dir.path)/server.log' 2>&1 & pid=$!
            cat >/dev/null
            kill -INT $pid; wait $pid; rm -rf '\(dir.path)'
            """
        ]
        guardian.standardInput = pipe
        guardian.standardOutput = FileHandle.nullDevice
        guardian.standardError = FileHandle.nullDevice
        try guardian.run()
        try waitUntilReady(bin: bin)
    }

    private func waitUntilReady(bin: URL) throws {
        for _ in 0..<300 {
            if (try? Self.sh("'\(bin.appendingPathComponent("pg_isready").path)' -q -h 127.0.0.1 -p \(port)")) != nil { return }
            guard guardian.isRunning else { break }
            usleep(100_000)
        }
        let log = (try? String(contentsOf: dir.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
        throw OmniError(.internalError, "the test PostgreSQL server did not start on port \(port): \(log.suffix(800))")
    }

    /// Stops the server (fast shutdown: sessions are ended) and waits until it has gone and its folder is removed.
    func stop() {
        try? pipe.fileHandleForWriting.close()
        guardian.waitUntilExit()
    }

    /// A URL naming `database` on this server, as a pipeline's `ledger:` would.
    func url(_ database: String) -> String { "postgres://\(user)@127.0.0.1:\(port)/\(database)" }

    /// Runs SQL as the superuser with psql (the server's own client) over the server's Unix socket,
    /// where it trusts local logins; returns its output.
    @discardableResult
    func psql(_ sql: String, database: String = "postgres") throws -> String {
        try Self.check(
            CheckCommandTests.run(
                ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", dir.path, "-p", "\(port)", "-U", user, "-d", database, "-c", sql],
                executable: Self.bin!.appendingPathComponent("psql").path), "psql")
    }

    /// A new, empty database.
    func createDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try psql("CREATE DATABASE \(name)")
        return name
    }

    /// Drops `name`, ending sessions still connected to it.
    func dropDatabase(_ name: String) throws {
        try psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs a shell command; throws with its output when it fails.
    @discardableResult
    static func sh(_ command: String) throws -> String {
        try check(CheckCommandTests.run(["-c", command], executable: "/bin/sh"), String(command.prefix(200)))
    }

    private static func check(_ r: (status: Int32, out: String), _ what: String) throws -> String {
        guard r.status == 0 else { throw OmniError(.internalError, "`\(what)` failed: \(r.out.suffix(800))") }
        return r.out
    }
}

/// A database of its own on the test process's server, handed to `body` and dropped afterwards —
/// whichever way `body` ends.
func withPostgresDatabase<T>(_ body: (PostgresServer, String) async throws -> T) async throws -> T {
    let server = try PostgresServer.shared()
    let name = try server.createDatabase()
    do {
        let v = try await body(server, name)
        try server.dropDatabase(name)
        return v
    } catch {
        try? server.dropDatabase(name)
        throw error
    }
}
