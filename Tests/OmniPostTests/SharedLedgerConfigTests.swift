import Foundation
import OmniPostCore
import OmniPostPlatforms
import Testing

/// `ledger: postgres://…` in a pipeline: read like every other key (each problem at its line), and
/// `omnipost check` reaches the database or says plainly why it cannot.
@Suite struct SharedLedgerConfigTests {
    static func parse(_ extra: String, in dir: TempDir) throws -> PipelineConfig {
        try PlatformRegistry.parse(text: "targets: [folder:nas]\nsandbox: embedded\n" + extra, file: "test.yaml", baseDirectory: dir.url)
    }

    @Test func aURLOrAMappingIsRead() throws {
        let dir = try TempDir()
        try dir.write("db-password", "s3cret\n")
        let short = try Self.parse("ledger: postgres://omnipost@db.example.com/studio\n", in: dir)
        #expect(short.sharedLedger?.display == "postgres://omnipost@db.example.com:5432/studio")
        #expect(short.sharedLedger?.tls == .disable && short.sharedLedger?.poolSize == 4)
        #expect(try Self.parse("", in: dir).sharedLedger == nil, "none: the SQLite file, as always")

        let full = try #require(
            try Self.parse(
                "ledger:\n  url: postgresql://op@10.0.0.5:6543/omni\n  password_file: db-password\n  tls: verify-full\n  ca_file: db-password\n  pool_size: 8\n",
                in: dir
            ).sharedLedger)
        #expect(full.host == "10.0.0.5" && full.port == 6543 && full.user == "op" && full.database == "omni")
        #expect(full.tls == .verifyFull && full.poolSize == 8 && full.caFile?.lastPathComponent == "db-password")
        #expect(try full.password() == "s3cret")
        #expect(full.location?.description == "test.yaml:4:3")

        setenv("OMNIPOST_TEST_DB_PASSWORD", "from-env", 1)
        let env = try #require(try Self.parse("ledger: {url: 'postgres://a@h/d', password_env: OMNIPOST_TEST_DB_PASSWORD, tls: require}\n", in: dir).sharedLedger)
        #expect(try env.password() == "from-env" && env.tls == .require)
        let unset = try #require(try Self.parse("ledger: {url: 'postgres://a@h/d', password_env: OMNIPOST_TEST_DB_UNSET}\n", in: dir).sharedLedger)
        let e = try #require(throws: OmniError.self) { try unset.password() }
        #expect(e.message.contains("OMNIPOST_TEST_DB_UNSET, which is not set"))
    }

    @Test func eachProblemIsSaidAtItsLine() throws {
        let dir = try TempDir()
        let cases: [(String, ReasonCode, String, String)] = [
            ("ledger: mysql://a@h/d\n", .configInvalid, "test.yaml:3:9", "is not a postgres://user@host:port/database URL"),
            ("ledger: postgres://a:pw@h/d\n", .configInvalid, "test.yaml:3:9", "a password is not kept in the pipeline file"),
            ("ledger: postgres://a@h/d?sslmode=require\n", .configInvalid, "test.yaml:3:9", "options go in keys of their own"),
            ("ledger: postgres://h/d\n", .configInvalid, "test.yaml:3:9", "names no user"),
            ("ledger: postgres://a@h/\n", .configInvalid, "test.yaml:3:9", "names no database"),
            ("ledger: {url: 'postgres://a@h/d', tls: verify}\n", .configInvalid, "test.yaml:3:40", "is not one of disable, require, verify-full"),
            ("ledger: {url: 'postgres://a@h/d', pool_size: 0}\n", .configInvalid, "test.yaml:3:46", "pool_size must be between 1 and 64"),
            ("ledger: {url: 'postgres://a@h/d', password_file: nope}\n", .configInvalid, "test.yaml:3:50", "cannot be read"),
            ("ledger: {url: 'postgres://a@h/d', ca_file: test.yaml}\n", .configInvalid, "test.yaml:3:44", "ca_file is used only with tls: verify-full"),
            ("ledger: {url: 'postgres://a@h/d', pasword_env: X}\n", .unknownKey, "test.yaml:3:35", "did you mean 'password_env'"),
            ("ledger: {tls: require}\n", .configInvalid, "test.yaml:3:9", "needs `url:")
        ]
        try dir.write("test.yaml", "x")
        for (text, code, location, words) in cases {
            let e = try #require(throws: OmniError.self) { try Self.parse(text, in: dir) }
            #expect(e.code == code, "\(text)")
            #expect(e.location?.description == location, "\(text) → \(e)")
            #expect(e.message.contains(words), "\(text) → \(e.message)")
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary) && PostgresServer.available))
    func checkReachesTheDatabaseOrSaysWhyNot() async throws {
        let dir = try TempDir()
        let port = try DeadPort()
        let dead = try dir.write("dead.yaml", "targets: [folder:nas]\nsandbox: embedded\nledger: postgres://omnipost@127.0.0.1:\(port.port)/studio\n")
        let r = try CheckCommandTests.run(["check", dead.path])
        #expect(r.status == 1)
        #expect(r.out.contains("\(dead.path):3:9: ledger_unreachable: cannot reach the ledger postgres://omnipost@127.0.0.1:\(port.port)/studio: "), "\(r.out)")

        try await withPostgresDatabase { server, database in
            let good = try dir.write(
                "good.yaml",
                "targets: [folder:nas]\nsandbox: embedded\nledger: {url: '\(server.url(database))', password_file: '\(server.passwordFile.path)'}\n")
            let ok = try CheckCommandTests.run(["check", good.path])
            #expect(ok.status == 0, "\(ok.out)")
            #expect(ok.out.contains("note: ledger \(server.url(database)) reached (PostgreSQL 1"), "\(ok.out)")
            #expect(ok.out.contains("no ledger schema yet"), "check changes nothing: \(ok.out)")
            let wrong = try dir.write("wrong.yaml", "targets: [folder:nas]\nsandbox: embedded\nledger: \(server.url(database))\n")
            let refused = try CheckCommandTests.run(["check", wrong.path])
            #expect(refused.status == 1)
            #expect(refused.out.contains("\(wrong.path):3:9: ledger_unreachable: cannot reach the ledger"), "\(refused.out)")
            // `run` runs on it (nothing in the inbox: it ends at once), migrating it; `check` then sees the
            // schema and `status` reads it. No SQLite ledger is made beside the shared one.
            let run = try CheckCommandTests.run(["run", good.path, "--once"])
            #expect(run.status == 0, "\(run.out)")
            #expect(try CheckCommandTests.run(["check", good.path]).out.contains("schema at v"))
            let status = try CheckCommandTests.run(["status", good.path])
            #expect(status.status == 0, "\(status.out)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("ledger.sqlite").path))
            // `plan` reads the shared ledger (a copy of its rows) and judges the clip on it, with no note
            // that it cannot: a lone clip in a pipeline that requires a sidecar would fail.
            let clip = try Clips.make(width: 320, height: 240, seconds: 1)
            let plan = try CheckCommandTests.run(["plan", good.path, clip.path])
            #expect(plan.status == 1 && plan.out.contains("missing_sidecar: no sidecar"), "\(plan.out)")
            #expect(!plan.out.contains("note:"), "\(plan.out)")
        }
    }
}
