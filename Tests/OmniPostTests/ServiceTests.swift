import Foundation
import OmniPostCore
import OmniPostPlatforms
import Testing

/// Running under systemd: `Type=notify` readiness (`READY=1` once every pipeline is open, `STOPPING=1`
/// on the way out, to `$NOTIFY_SOCKET`), and log lines as JSON or logfmt for journald and shippers.
@Suite struct ServiceTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)), .timeLimit(.minutes(2)))
    func readinessGoesToTheNotifySocketAndLogsAreStructured() throws {
        let dir = try TempDir()
        let notify = try NotifySocket(in: dir)
        // A pipeline whose account's token is refused: a warning is logged, as JSON.
        let pipeline = try dir.write("p.yaml", "version: 1\nroot: \(dir.url.path)/p\nsandbox: embedded\ntargets: [youtube:main]\n")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CheckCommandTests.binary)
        p.arguments = ["run", pipeline.path, "--once", "--log-format", "json", "--log-level", "debug"]
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = notify.path
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        var messages: [String] = []
        for _ in 0..<2 {
            if let m = notify.receive(within: 60) { messages.append(m) }
        }
        let logs = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(logs)")
        #expect(messages.first?.hasPrefix("READY=1\nSTATUS=1 pipeline(s) running") == true && messages.last == "STOPPING=1", "\(messages)")
        // Every stderr line is a JSON object with its level and message.
        let lines = logs.split(separator: "\n")
        #expect(lines.contains { $0.contains(#""msg":"watching inbox""#) }, "\(logs)")
        for l in lines {
            let o = try JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any]
            #expect(o?["level"] != nil && o?["msg"] != nil && o?["ts"] != nil, "\(l)")
        }
        // A wrong format is refused.
        let bad = try CheckCommandTests.run(["run", pipeline.path, "--once", "--log-format", "yaml"])
        #expect(bad.status != 0 && bad.out.contains("json or logfmt"))
    }

    /// Each drop transition and delivery outcome is one structured line a shipper filters on (drop,
    /// target, state, reason, attempt), with millisecond timestamps; with a structured format and no
    /// terminal, stdout carries no progress prose to mix into the journal.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)), .timeLimit(.minutes(3)))
    func transitionsAreStructuredLinesAndProseStaysOffTheJournal() throws {
        let dir = try TempDir()
        let file = try dir.write("p.yaml", "version: 1\nroot: \(dir.url.path)/p\nsandbox: embedded\nwatch: {settle: 200ms}\nsidecar: {grace: 1s}\ntargets: [youtube:main]\n")
        let config = try PlatformRegistry.load(path: file.path)
        try config.paths.createAll()
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "good", sidecar: "title: good\nprivacy: public\n", into: config)
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "bad", sidecar: "titel: typo\n", into: config)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CheckCommandTests.binary)
        p.arguments = ["run", file.path, "--once", "--log-format", "logfmt", "--log-level", "info"]
        let err = Pipe(), out = Pipe()
        p.standardError = err
        p.standardOutput = out
        try p.run()
        let logs = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(logs)")
        // `--once` ends with its summary table; no progress prose before it.
        #expect(stdout.hasPrefix("DROP ") && !stdout.contains("listening on"), "no prose on a journal: \(stdout)")
        let lines = logs.split(separator: "\n").map(String.init)
        func line(_ parts: String...) -> String? { lines.first { l in parts.allSatisfy { l.contains($0) } } }
        #expect(line("msg=\"drop archived\"", "omnipost.drop=", "omnipost.from=converted", "omnipost.state=archived", "omnipost.pipeline=") != nil, "\(logs)")
        #expect(line("msg=\"drop failed\"", "omnipost.reason=unknown_key", "omnipost.state=failed") != nil, "\(logs)")
        #expect(line("msg=\"delivery published\"", "omnipost.target=youtube:main", "omnipost.state=published", "omnipost.attempt=1", "omnipost.delivery=") != nil, "\(logs)")
        // Sub-second timestamps: ts=2026-12-05T12:00:00.123Z.
        #expect(lines.allSatisfy { $0.range(of: #"^ts=\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z "#, options: .regularExpression) != nil }, "\(lines.first ?? "")")
    }
}
