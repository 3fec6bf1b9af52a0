import Foundation
import OmniPostCore
@testable import OmniPostPipeline
import Testing

/// systemd's watchdog is fed only while the daemon is alive: every stage loop waiting or progressing
/// within its deadline, the ledger answering. A stuck stage stops the pings (and says why), so systemd
/// restarts the daemon; the unit asks for that and is hardened (systemd-analyze).
@Suite struct SystemdWatchdogTests {
    @Test func aStageIsStuckOnlyInAStepWithoutProgressPastItsDeadline() {
        let live = StageLiveness()
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        live.enter("validate", at: t0)
        live.enter("convert", at: t0)
        live.enter("archive", at: t0)
        live.leave("archive")
        #expect(live.stuck(at: t0.addingTimeInterval(599)).isEmpty)
        // ffmpeg's progress keeps a long conversion alive; a step with none for 601 s is stuck.
        live.beat("convert", at: t0.addingTimeInterval(500))
        #expect(live.stuck(at: t0.addingTimeInterval(601)) == [.init(stage: "validate", seconds: 601, deadline: 600)])
        #expect(live.stuck(at: t0.addingTimeInterval(601)).first?.description == "validate has shown no progress for 601 s (its deadline is 600 s)")
        #expect(live.stuck(at: t0.addingTimeInterval(1101)).map(\.stage) == ["convert", "validate"])
        // The upload loop's deadline is its own: it comes round at least every 30 s.
        live.enter("upload", deadline: StageLiveness.loopDeadline, at: t0)
        #expect(live.stuck(at: t0.addingTimeInterval(121)).map(\.stage) == ["upload"])
        // Back to waiting: nothing is stuck.
        for s in ["validate", "convert", "upload"] { live.leave(s) }
        #expect(live.stuck(at: t0.addingTimeInterval(10_000)).isEmpty)
    }

    /// Its socket is read off the cooperative pool: a blocking read there took one of the pool's threads
    /// (two on this machine) from the watchdog it waits for, and under a loaded suite no ping came.
    @Test(.timeLimit(.minutes(2))) func theWatchdogIsFedOnlyWhileEveryStageIsAlive() async throws {
        let dir = try TempDir()
        let notify = try NotifySocket(in: dir)
        let config = try TestPipelines.config(root: dir.file("p"), targets: "targets: [youtube:main]")
        let pipeline = try await Pipeline.open(config: config, logger: TestPipelines.logger, progress: .silent, embedding: TestPipelines.embedding)
        let watchdog = SystemdWatchdog(interval: .milliseconds(50), socket: notify.path, logger: TestPipelines.logger, pipelines: { [pipeline] })
        let feeding = Task { try await watchdog.run() }
        #expect(try await offPool { notify.receive(within: 10) } == "WATCHDOG=1")

        // A validate step with no progress for 11 minutes: the pings stop, and systemd's status says why.
        pipeline.context.liveness.enter("validate", at: Date().addingTimeInterval(-660))
        let why = try await offPool { notify.receive(until: { $0.hasPrefix("STATUS=") }, within: 10) }
        #expect(why?.hasPrefix("STATUS=not alive: pipeline test: validate has shown no progress for 66") == true, "\(why ?? "nothing")")
        // No ping while it is stuck: what arrives in 20 intervals (1 s) is nothing.
        #expect(try await offPool { notify.receive(within: 1) } == nil)

        // The step ends: the pings come back, and the status says it runs again.
        pipeline.context.liveness.leave("validate")
        #expect(try await offPool { notify.receive(within: 10) } == "WATCHDOG=1\nSTATUS=running")
        feeding.cancel()
        _ = try? await feeding.value
        await pipeline.close()
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)), .timeLimit(.minutes(2)))
    func theDaemonFeedsTheWatchdogWhenSystemdAsks() throws {
        let dir = try TempDir()
        let notify = try NotifySocket(in: dir)
        let pipeline = try dir.write("p.yaml", "version: 1\nroot: \(dir.url.path)/p\nsandbox: embedded\ntargets: [youtube:main]\n")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CheckCommandTests.binary)
        p.arguments = ["run", pipeline.path]
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = notify.path
        env["WATCHDOG_USEC"] = "200000"
        p.environment = env
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        #expect(notify.receive(until: { $0.hasPrefix("READY=1") }, within: 60) != nil)
        // Every 100 ms (half of WATCHDOG_USEC) while the stages are alive.
        #expect(notify.receive(until: { $0 == "WATCHDOG=1" }, within: 10) != nil)
        #expect(notify.receive(until: { $0 == "WATCHDOG=1" }, within: 10) != nil)
        kill(p.processIdentifier, SIGTERM)
        #expect(notify.receive(until: { $0 == "STOPPING=1" }, within: 60) != nil)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    static let analyze = "/usr/bin/systemd-analyze"

    /// The unit as installed, with the binary this build made (verify checks the command exists).
    static func unit(in dir: TempDir) throws -> String {
        let text = try String(contentsOf: PipelineConfigTests.repoRoot.appendingPathComponent("packaging/omnipost@.service"), encoding: .utf8)
        return try dir.write("omnipost@test.service", text.replacingOccurrences(of: "/usr/local/bin/omnipost", with: CheckCommandTests.binary)).path
    }

    static func run(_ args: [String]) throws -> (status: Int32, out: String) { try CheckCommandTests.run(args, executable: analyze) }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyze) && FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)))
    func theUnitVerifiesAndIsHardened() throws {
        let dir = try TempDir()
        let unit = try Self.unit(in: dir)
        let verify = try Self.run(["verify", unit])
        #expect(verify.status == 0 && verify.out.isEmpty, "\(verify.out)")
        let security = try Self.run(["security", "--offline=yes", "--threshold=25", unit])
        let level = security.out.split(separator: "\n").first { $0.contains("Overall exposure level") }
        let score = level.flatMap { l in l.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) } }
        #expect(security.status == 0 && (score ?? 10) <= 2.5, "\(level.map(String.init) ?? security.out)")
        // The start limit sits in [Unit], where systemd reads it; the watchdog is asked for.
        let text = try String(contentsOfFile: unit, encoding: .utf8)
        let unitSection = text.components(separatedBy: "\n[Service]\n")[0]
        #expect(unitSection.contains("StartLimitIntervalSec=300") && unitSection.contains("StartLimitBurst=5"))
        #expect(text.contains("\nWatchdogSec="))
    }
}
