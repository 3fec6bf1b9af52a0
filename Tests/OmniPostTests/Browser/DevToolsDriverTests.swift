import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// The DevTools-protocol driver against Debian's headless Chromium: a page opened, a script's value,
/// a screenshot, cookies in and out, a command's hard timeout, and the whole process group gone after
/// the session — also when the body throws.
@Suite struct DevToolsDriverTests {
    static func processes(in group: pid_t) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { n in
            guard n.first?.isNumber == true, let stat = try? String(contentsOfFile: "/proc/\(n)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let f = stat[stat.index(after: close)...].split(separator: " ")
            // A zombie (state Z) is already gone; only a running process counts.
            return f.count > 2 && Int32(f[2]) == group && f[0] != "Z"
        }.count
    }

    @Test(.timeLimit(.minutes(2))) func aSessionDrivesAPageAndLeavesNoProcessBehind() async throws {
        let dir = try TempDir()
        try await withSandbox(dir) { s in
            let base = s.baseURL
            let (out, cost) = try await BrowserSession.with(profile: dir.file("profile")) { b -> (pid_t, String, Int, [String]) in
                #expect(Self.processes(in: b.process.pid) >= 2, "Chromium runs as several processes of one group")
                try await b.page.setCookies([.init(domain: "127.0.0.1", path: "/", name: "probe", value: "v1", secure: false, httpOnly: false, expires: nil)])
                try await b.page.navigate(base + "/sandbox/xiaohongshu/login")
                let title = try await b.page.evaluate("document.title").stringValue ?? ""
                let png = try await b.page.screenshot()
                let names = try await b.page.cookies().map(\.name)
                return (b.process.pid, title, png.count, names)
            }
            #expect(out.1.contains("登录"))
            #expect(out.2 > 1000)
            #expect(out.3.contains("probe"))
            #expect(cost.peakRSS > 50_000_000, "the browser's process tree was measured: \(cost.peakRSS) bytes")
            #expect(Self.processes(in: out.0) == 0, "every process of the browser's group has ended")
            print("browser session: peak RSS \(cost.peakRSS / 1_048_576) MiB in \(String(format: "%.2f", cost.seconds)) s")
        }
    }

    /// Chromium keeps nothing of the daemon's open: a descriptor opened without close-on-exec (as a
    /// supervisor's pipe, a listener's socket or the ledger may be) is not among the browser's, so a
    /// daemon killed with SIGKILL ends what its supervisor waits on even while its browser lives on.
    @Test(.timeLimit(.minutes(2))) func theBrowserInheritsNoDescriptorOfTheDaemon() async throws {
        let dir = try TempDir()
        let marker = dir.file("held-open")
        let fd = open(marker.path, O_CREAT | O_RDWR, 0o600)  // no O_CLOEXEC, on purpose
        #expect(fd > 2)
        defer { close(fd) }
        let (held, _) = try await BrowserSession.with(profile: dir.file("profile")) { b -> [String] in
            var seen: [String] = []
            for n in ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []) where n.first?.isNumber == true {
                guard let stat = try? String(contentsOfFile: "/proc/\(n)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { continue }
                let f = stat[stat.index(after: close)...].split(separator: " ")
                guard f.count > 2, Int32(f[2]) == b.process.pid else { continue }
                for d in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(n)/fd")) ?? [] {
                    if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(n)/fd/\(d)"), target == marker.path { seen.append("\(n)/\(d)") }
                }
            }
            return seen
        }
        #expect(held.isEmpty, "Chromium's processes hold the daemon's descriptor: \(held)")
    }

    struct Planned: Error {}

    @Test(.timeLimit(.minutes(2))) func aBodyThatThrowsStillClosesTheBrowser() async throws {
        let dir = try TempDir()
        let pid = PIDBox()
        await #expect(throws: Planned.self) {
            _ = try await BrowserSession.with(profile: dir.file("profile")) { b -> Int in
                pid.set(b.process.pid)
                throw Planned()
            }
        }
        #expect(pid.value > 0 && Self.processes(in: pid.value) == 0)
    }

    @Test(.timeLimit(.minutes(2))) func aCommandWithoutAnAnswerTimesOut() async throws {
        let dir = try TempDir()
        _ = try await BrowserSession.with(profile: dir.file("profile")) { b -> Int in
            // A promise that never settles: the evaluation is awaited, and the hard timeout ends it.
            let c = b.connection
            do {
                _ = try await c.send(
                    "Runtime.evaluate", ["expression": "new Promise(() => {})", "awaitPromise": true], session: b.page.session, timeout: .milliseconds(500))
                Issue.record("no timeout")
            } catch let f as DevToolsConnection.Failure {
                #expect(f.timedOut, "\(f)")
            }
            return 0
        }
    }
}

final class PIDBox: @unchecked Sendable {
    private let lock = NSLock()
    private var v: pid_t = 0
    func set(_ p: pid_t) { lock.withLock { v = p } }
    var value: pid_t { lock.withLock { v } }
}
