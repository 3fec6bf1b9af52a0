import Foundation
import OmniPostCore

#if canImport(Glibc)
    import Glibc
#endif

/// Debian's headless Chromium, started in a process group of its own so that closing it ends every
/// process it made (zygotes, renderers, the GPU and network services), whichever way the session ended.
/// The DevTools port is read from `DevToolsActivePort` in the profile folder (Chromium writes it there
/// when started with `--remote-debugging-port=0`: the port on the first line, the browser's WebSocket
/// path on the second — chromium's `devtools_http_handler.cc`), so no port is guessed or reused.
package final class ChromiumProcess: Sendable {
    /// Where Debian's `chromium` package installs its launcher.
    package static let defaultExecutable = "/usr/bin/chromium"

    package let pid: pid_t
    package let profile: URL
    /// `ws://127.0.0.1:<port>/devtools/browser/<id>`.
    package let webSocketURL: String
    private let sampler: RSSSampler

    private init(pid: pid_t, profile: URL, webSocketURL: String, sampler: RSSSampler) {
        self.pid = pid
        self.profile = profile
        self.webSocketURL = webSocketURL
        self.sampler = sampler
    }

    /// The highest resident memory of the whole process group seen so far, in bytes.
    package var peakRSS: Int64 { sampler.peak }

    /// Starts Chromium on `profile` (one folder per account: its cookies and storage stay its own) and
    /// waits at most `within` for its DevTools endpoint. Throws `tool_missing` when it is not installed.
    package static func launch(
        executable: String = defaultExecutable, profile: URL, within: Duration = .seconds(30), extraArguments: [String] = []
    ) async throws -> ChromiumProcess {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw OmniError(.toolMissing, "\(executable) is not installed; the browser-driven platforms need Debian's chromium package (apt-get install chromium)")
        }
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        endLeftover(profile: profile)
        let portFile = profile.appendingPathComponent("DevToolsActivePort")
        try? FileManager.default.removeItem(at: portFile)
        var args = [
            executable, "--headless=new", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
            "--user-data-dir=\(profile.path)", "--no-first-run", "--no-default-browser-check", "--disable-gpu",
            "--disable-crash-reporter", "--disable-breakpad", "--disable-background-networking", "--disable-sync",
            "--disable-component-update", "--mute-audio", "--window-size=1280,900",
            // The WebSocket client sends `Origin: ws://127.0.0.1` (its URL's scheme and host); Chromium 111+ refuses a DevTools
            // connection from an origin it was not told to allow.
            "--remote-allow-origins=ws://127.0.0.1"
        ]
        // Chromium refuses to start its sandbox as root (a NAS service account often is), and cannot build
        // it without user namespaces (the unit's RestrictNamespaces=yes): without it the renderer still
        // runs in its own process, only not confined by Chromium — the unit's own confinement (its user,
        // its read-only system, its call filter) holds the whole browser.
        // Where the confinement is the unit's (no namespaces to be made), its call filter also refuses a
        // credentials call Chromium's zygote makes when it forks: each renderer is started directly
        // instead. Elsewhere the zygote stays — renderers forked from it share its pages (without it a
        // session peaked 474–481 MiB in the recipe conformance cases, against 413–428 MiB with it).
        let confined = !Confinement.userNamespaces
        if geteuid() == 0 || confined { args.append("--no-sandbox") }
        if confined { args.append("--no-zygote") }
        // A process that may not make memory both written and run (the unit's MemoryDenyWriteExecute=)
        // passes that on to Chromium, whose script compiler then cannot start: the renderer hangs with
        // no page. V8's interpreter alone needs no such memory.
        if Confinement.writeExecuteDenied() { args.append("--js-flags=--jitless") }
        args += extraArguments
        args.append("about:blank")
        let pid = try spawnInOwnGroup(args, environment: ToolRunner.childEnvironment())
        let sampler = RSSSampler(group: pid)
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8) {
                let lines = text.split(separator: "\n").map(String.init)
                if lines.count >= 2, let port = Int(lines[0]) {
                    let p = ChromiumProcess(pid: pid, profile: profile, webSocketURL: "ws://127.0.0.1:\(port)\(lines[1])", sampler: sampler)
                    sampler.start()
                    return p
                }
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw OmniError(.toolMissing, "\(executable) exited (status \(status)) before it opened its DevTools port")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        killGroup(pid)
        throw OmniError(.toolMissing, "\(executable) did not open its DevTools port within \(Int(within.seconds)) s")
    }

    /// Ends the whole process group (SIGKILL: a browser session has nothing worth saving once its
    /// cookies were read) and reaps the launcher. Safe to call twice.
    package func close() {
        sampler.stop()
        Self.killGroup(pid)
        try? FileManager.default.removeItem(at: profile.appendingPathComponent("DevToolsActivePort"))
    }

    /// A browser a killed daemon left running on this profile (its process group was not ours to end
    /// then): Chromium's `SingletonLock` names it as `host-pid`; if that process still runs on this
    /// profile, its whole group is ended before a new browser starts.
    static func endLeftover(profile: URL) {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: profile.appendingPathComponent("SingletonLock").path),
            let pid = target.split(separator: "-").last.flatMap({ pid_t($0) }), pid > 1,
            let cmdline = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
            cmdline.contains("--user-data-dir=\(profile.path)")
        else { return }
        let group = getpgid(pid)
        if group > 1 { _ = kill(-group, SIGKILL) } else { _ = kill(pid, SIGKILL) }
    }

    private static func killGroup(_ pid: pid_t) {
        _ = kill(-pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        // SIGKILL is delivered asynchronously: wait (at most 5 s) until no process of the group runs, so
        // "closed" means closed when this returns.
        for _ in 0..<100 where RSSSampler.running(in: pid) > 0 { usleep(50_000) }
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc module
    /// does not import: looked up once by name.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    private static func closeFrom3(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>) {
        if let add = addCloseFrom {
            _ = add(actions, 3)
            return
        }
        // An older C library: each descriptor open now, one by one.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd > 2 { posix_spawn_file_actions_addclose(actions, fd) }
        }
    }

    /// posix_spawn with `POSIX_SPAWN_SETPGROUP` (group = the child's pid), so one `kill(-pid)` reaches
    /// every process Chromium forks.
    private static func spawnInOwnGroup(_ args: [String], environment: [String: String]) throws -> pid_t {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Chromium talks a lot on stderr; nobody reads it, and a full pipe must never stall it.
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // Nothing else of ours: without this Chromium inherits every descriptor the daemon holds open
        // without close-on-exec — the listener's socket, the ledger, the pipe or socket through which the
        // daemon's own parent learns that it ended — and keeps them after a SIGKILL of the daemon, so a
        // supervisor waiting for that end (systemd, a test's `Process`) waits for Chromium instead, and a
        // restarted daemon can find its port still bound.
        closeFrom3(&actions)
        let argv = args.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, args[0], &actions, &attr, argv, envp)
        guard rc == 0 else { throw OmniError(.toolMissing, "could not start \(args[0]): \(String(cString: strerror(rc)))") }
        return pid
    }
}
