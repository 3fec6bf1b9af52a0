import Foundation
import OmniPostCore
import Testing

/// Running under systemd: `Type=notify` readiness (`READY=1` once every pipeline is open, `STOPPING=1`
/// on the way out, to `$NOTIFY_SOCKET`), and log lines as JSON or logfmt for journald and shippers.
@Suite struct ServiceTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)), .timeLimit(.minutes(2)))
    func readinessGoesToTheNotifySocketAndLogsAreStructured() throws {
        let dir = try TempDir()
        let sock = dir.file("notify.sock").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in Array(sock.utf8).enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &addr) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0)
        var tv = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        // A pipeline whose account's token is refused: a warning is logged, as JSON.
        let pipeline = try dir.write("p.yaml", "version: 1\nroot: \(dir.url.path)/p\nsandbox: embedded\ntargets: [youtube:main]\n")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CheckCommandTests.binary)
        p.arguments = ["run", pipeline.path, "--once", "--log-format", "json", "--log-level", "debug"]
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = sock
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        var messages: [String] = []
        for _ in 0..<2 {
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buf, buf.count, 0)
            if n > 0 { messages.append(String(decoding: buf[0..<n], as: UTF8.self)) }
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
