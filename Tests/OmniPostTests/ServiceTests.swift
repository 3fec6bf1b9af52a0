import Foundation
import OmniPostCore
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
}
