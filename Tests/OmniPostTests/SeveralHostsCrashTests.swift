import Foundation
import OmniPostCore
import Testing

/// The crash test across hosts (issue 27, "Tests with real parts"): three `omnipost run` daemons on one
/// inbox against PostgreSQL, SIGKILLed at random moments — each restarted but one, killed for good — and
/// the PostgreSQL server itself stopped as a crash stops it (`pg_ctl -m immediate`) and started again on
/// the same port and data a few seconds later, mid-run. Afterwards: every clip posted exactly once per
/// target (the sandbox's records), every original in archive/ once and byte-identical, one drop and one
/// filing per clip, one quota spend per post. The moments come from a seed, printed with the figures:
/// `OMNIPOST_CRASH_SEED=<n>` replays a run's plan (the machine's timing still varies).
@Suite(.serialized, .enabled(if: PostgresServer.available, "PostgreSQL is not installed (make test installs it)"))
struct SeveralHostsCrashTests {
    static let binary = CheckCommandTests.binary
    static let hosts = SeveralHostsRig.hosts
    static let clips = 10
    static let defaultSeed: UInt64 = 27

    /// What the test does next, drawn from the seed.
    enum Step: CustomStringConvertible {
        /// SIGKILL host `i`; restart it after `restartAfterMs`, or never (nil: killed for good).
        case kill(Int, restartAfterMs: Int?)
        /// `pg_ctl -m immediate stop`, then start again after `downMs`.
        case restartDatabase(downMs: Int)

        var description: String {
            switch self {
            case .kill(let i, let after): "kill \(SeveralHostsRig.hosts[i])" + (after.map { ", back after \($0) ms" } ?? " for good")
            case .restartDatabase(let ms): "database down \(ms) ms"
            }
        }
    }

    /// Five kills (the third for good) and one database restart after the second, each after a pause of
    /// 1–3 s; which host, and how long each is down, from the seed.
    static func plan(seed: UInt64) -> [(pauseMs: Int, step: Step)] {
        var rng = SplitMix64(seed)
        var alive = Array(hosts.indices)
        var steps: [(Int, Step)] = []
        for n in 0..<5 {
            let pause = Int.random(in: 1000...3000, using: &rng)
            let i = alive.randomElement(using: &rng)!
            if n == 2 {
                alive.removeAll { $0 == i }
                steps.append((pause, .kill(i, restartAfterMs: nil)))
            } else {
                steps.append((pause, .kill(i, restartAfterMs: Int.random(in: 300...1500, using: &rng))))
            }
            if n == 1 { steps.append((Int.random(in: 500...2000, using: &rng), .restartDatabase(downMs: Int.random(in: 2000...4000, using: &rng)))) }
        }
        return steps
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)), .timeLimit(.minutes(5)))
    func daemonsKilledAtRandomAndTheDatabaseRestartedPostEveryClipOnce() async throws {
        let seed = ProcessInfo.processInfo.environment["OMNIPOST_CRASH_SEED"].flatMap { UInt64($0) } ?? Self.defaultSeed
        let plan = Self.plan(seed: seed)
        print("crash test across hosts: seed \(seed) (OMNIPOST_CRASH_SEED=\(seed) replays it): \(plan.map { "+\($0.pauseMs) ms \($0.step)" }.joined(separator: "; "))")
        // A server of its own: stopping the one the other tests share would fail them. Commits wait for their
        // WAL write, as PostgreSQL's do by default: an immediate stop must not lose one a daemon was told of.
        let server = try await offPool { try PostgresServer(synchronousCommit: true) }
        defer { server.stopAfterPausing() }
        let database = try await offPool { try server.createDatabase() }
        let started = Date()
        let rig = try await SeveralHostsRig(server: server, database: database, clips: Self.clips, putDelayMs: 200)
        var daemons: [CrashTests.Child] = []
        for i in Self.hosts.indices { daemons.append(try rig.daemon(i)) }
        defer { for d in daemons where d.process.isRunning { d.kill9() } }

        // The plan, at its moments. A kill lands wherever the daemon is (taking in, converting, uploading,
        // filing); a restarted daemon frees its dead predecessor's claims at start-up, the others take the
        // for-good host's over once its leases lapse (three heartbeats).
        var kills = 0
        var downSeconds = 0.0
        var forGood: Int? = nil
        var doneEarly = false
        for (pause, step) in plan {
            try await Task.sleep(for: .milliseconds(pause))
            if try await rig.settled() { doneEarly = true }
            switch step {
            case .kill(let i, let after):
                // SIGKILL, then the child reaped: at once, as the sibling tests do it on the test's thread.
                daemons[i].kill9()
                kills += 1
                if let after {
                    try await Task.sleep(for: .milliseconds(after))
                    daemons[i] = try rig.daemon(i)
                } else {
                    forGood = i
                }
            case .restartDatabase(let ms):
                let down = Date()
                try await offPool { try server.crash() }
                try await Task.sleep(for: .milliseconds(ms))
                try await offPool { try server.resume() }
                downSeconds = Date().timeIntervalSince(down)
            }
        }
        #expect(!doneEarly, "the work was done before the plan was: the kills and the restart did not land mid-run")
        let chaosEnd = Date()
        let settled = try await rig.waitSettled(daemons, down: { $0 == forGood }, within: 120)
        let seconds = Date().timeIntervalSince(started)
        try await rig.stop(daemons)
        let states = try await rig.states()
        #expect(settled, "not every drop archived within 2 minutes of the last kill (seed \(seed)):\n\(states)\n\(rig.logs(lines: 40))")
        for i in daemons.indices where i != forGood {
            let d = daemons[i]
            if d.process.isRunning {
                // What it is waiting on, for the failure's message: its threads' stacks and its log's end.
                let pid = d.process.processIdentifier
                let stacks = try await offPool {
                    try? PostgresServer.sh("gdb -p \(pid) -batch -ex 'thread apply all bt 25' 2>/dev/null | grep -E '^Thread|^#' | cut -c1-220 | head -400")
                }
                Issue.record("\(Self.hosts[i]) did not stop on SIGTERM (seed \(seed)):\n\(stacks ?? "no stacks")\n\(rig.logs(lines: 40))")
            }
            if !d.process.isRunning { #expect(d.process.terminationStatus == 0, "\(Self.hosts[i]) exited \(d.process.terminationStatus):\n\(rig.logs())") }
        }

        let (posts, duplicates) = try await rig.checkPostedOnce()
        let lost = try rig.checkArchivedOnce()
        let filed = try await rig.checkLedgerOnce()
        let (resumes, interrupted, acrossHosts, filingsTakenOver, ledgerBack, perHost) = try await offPool {
            (
                rig.sql("SELECT COUNT(*) FROM events WHERE stage = 'upload' AND detail LIKE 'resuming%'"),
                rig.sql("SELECT COUNT(*) FROM attempts WHERE outcome = 'interrupted'"),
                // Uploads that more than one host worked on: taken over from a dead host.
                rig.sql("SELECT COUNT(*) FROM (SELECT delivery_id FROM attempts GROUP BY delivery_id HAVING COUNT(DISTINCT split_part(owner, ':', 1)) > 1) t"),
                rig.sql("SELECT COUNT(*) FROM events WHERE to_state = 'filing_taken_over'"),
                rig.sql("SELECT COUNT(*) FROM events WHERE to_state = 'ledger_back'"),
                rig.sql("SELECT split_part(owner, ':', 1) || ' ' || COUNT(*) FROM attempts GROUP BY split_part(owner, ':', 1) ORDER BY 1")
            )
        }
        // What the daemons met while the database was down: statements refused (`ledger_unreachable`), and a
        // host whose heartbeat fell in the outage lost the ledger and said when it was back (`ledger_back`).
        let refused = Self.hosts.map { h in
            ((try? String(contentsOf: rig.dir.file("daemon-\(h).log"), encoding: .utf8)) ?? "").components(separatedBy: "ledger_unreachable").count - 1
        }.reduce(0, +)
        print(
            "crash test across hosts (seed \(seed)): \(Self.hosts.count) hosts, \(kills) SIGKILLs (\(forGood.map { Self.hosts[$0] } ?? "none") for good), database down \(String(format: "%.1f", downSeconds)) s once (log lines naming ledger_unreachable: \(refused), ledger_back events: \(ledgerBack)); \(Self.clips) clips × \(SeveralHostsRig.names.count) targets; deliveries: \(posts); duplicates: \(duplicates); lost: \(lost); quota spent twice: 0; uploads resumed: \(resumes); attempts interrupted: \(interrupted); uploads taken over across hosts: \(acrossHosts); filings taken over: \(filingsTakenOver); attempts per host: \(perHost.split(separator: "\n").joined(separator: ", ")); filings per host: \(filed.map { "\($0.host) \($0.filings)" }.joined(separator: ", ")); \(String(format: "%.1f", seconds)) s (\(String(format: "%.1f", Date().timeIntervalSince(chaosEnd))) s after the last step)"
        )
    }
}

/// A small seeded generator (SplitMix64): the same seed, the same plan.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
