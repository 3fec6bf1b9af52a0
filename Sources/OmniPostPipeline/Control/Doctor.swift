import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostIngest
import OmniPostLedger
import OmniPostPlatforms

/// `omnipost doctor`: what stands between this machine and a pipeline running unattended for months —
/// each line pass, warn or fail, and for each that is not a pass, the fix.
package enum Doctor {
    package enum Level: String, Codable, Sendable { case pass, warn, fail }

    package struct Finding: Codable, Sendable, Equatable {
        package var check: String
        package var level: Level
        package var detail: String
        package var fix: String?
    }

    /// Reads a `/proc/sys` value (a test gives its own).
    package typealias Sysctl = @Sendable (String) -> String?
    package static let procSysctl: Sysctl = { try? String(contentsOfFile: "/proc/sys/" + $0.replacingOccurrences(of: ".", with: "/"), encoding: .utf8) }

    package static func run(config: PipelineConfig, http: HTTPClient, sysctl: Sysctl = procSysctl, mountinfo: String? = nil) async -> [Finding] {
        var out: [Finding] = []
        out += await tools()
        out += inotify(config, sysctl: sysctl, mountinfo: mountinfo)
        out += space(config)
        out += await clocks(config, http: http)
        out += keyFile(config)
        out += ledger(config)
        out += await accounts(config, http: http)
        out += listener(config)
        return out
    }

    // MARK: ffmpeg

    static func tools() async -> [Finding] {
        var out: [Finding] = []
        let runner = ToolRunner()
        for tool in ["ffmpeg", "ffprobe"] {
            let r = try? await runner.run(tool, ["-hide_banner", "-version"], timeout: .seconds(20))
            if let r, r.status == 0 {
                out.append(Finding(check: tool, level: .pass, detail: String(r.stdout.split(separator: "\n").first ?? "")))
            } else {
                out.append(Finding(check: tool, level: .fail, detail: "\(tool) is not on PATH or does not run", fix: "apt install ffmpeg"))
            }
        }
        // The encoders conversions use: H.264 and AAC always; HEVC for HDR masters kept HDR.
        if let r = try? await runner.run("ffmpeg", ["-hide_banner", "-encoders"], timeout: .seconds(20)), r.status == 0 {
            for (enc, need) in [("libx264", Level.fail), ("aac", .fail), ("libx265", .warn)] {
                let has = r.stdout.split(separator: "\n").contains { $0.split(separator: " ").contains(Substring(enc)) }
                out.append(
                    has
                        ? Finding(check: "encoder \(enc)", level: .pass, detail: "present")
                        : Finding(check: "encoder \(enc)", level: need, detail: "ffmpeg lacks \(enc)", fix: "install an ffmpeg built with \(enc) (Debian's ffmpeg has it)"))
            }
        }
        return out
    }

    // MARK: inbox and inotify

    static func inotify(_ config: PipelineConfig, sysctl: Sysctl, mountinfo: String?) -> [Finding] {
        var out: [Finding] = []
        let inbox = config.paths.inbox.path
        let decision = MountTable.decide(path: inbox, mountinfo: mountinfo)
        let mode = config.watch.mode == .auto ? (decision.usePoll ? "poll" : "inotify") : config.watch.mode.rawValue
        if MountTable.isNetwork(decision.fsType) && mode == "inotify" {
            out.append(
                Finding(
                    check: "inbox", level: .warn, detail: "\(inbox) is on \(decision.fsType), watched by inotify, which does not see writes made on other machines",
                    fix: "set watch.mode: poll (or auto)"))
        } else {
            out.append(Finding(check: "inbox", level: .pass, detail: "\(inbox) on \(decision.fsType), watched by \(mode)"))
        }
        guard mode == "inotify" else { return out }
        var dirs = 1
        if let e = FileManager.default.enumerator(atPath: inbox) {
            while let f = e.nextObject() as? String {
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: inbox + "/" + f, isDirectory: &isDir), isDir.boolValue { dirs += 1 }
            }
        }
        if let w = sysctl("fs.inotify.max_user_watches").flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
            // Every watcher of this user shares the limit: leave it plenty of room.
            let level: Level = dirs * 2 > w ? .warn : .pass
            out.append(
                Finding(
                    check: "inotify watches", level: level, detail: "\(dirs) folder(s) under the inbox; fs.inotify.max_user_watches is \(w)",
                    fix: level == .pass ? nil : "sysctl -w fs.inotify.max_user_watches=524288 (and in /etc/sysctl.d/ to keep it)"))
        }
        if let i = sysctl("fs.inotify.max_user_instances").flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
            out.append(
                Finding(
                    check: "inotify instances", level: i < 8 ? .warn : .pass, detail: "fs.inotify.max_user_instances is \(i); each pipeline takes one",
                    fix: i < 8 ? "sysctl -w fs.inotify.max_user_instances=128" : nil))
        }
        return out
    }

    // MARK: space

    static func space(_ config: PipelineConfig) -> [Finding] {
        // The largest rendition a target may get (its profile's size limit), capped at 10 GB.
        let profiles = (try? ProfileCatalog.bundled())?.overlaid(with: config.overrides)
        let largest = min(config.targets.compactMap { profiles?[$0.profile]?.maxBytes }.max() ?? 1 << 30, 10_000_000_000)
        var out: [Finding] = []
        for (name, url) in [("work", config.paths.work), ("archive", config.paths.archive), ("outbox", config.paths.outbox)] {
            var st = statvfs()
            let probe = FileManager.default.fileExists(atPath: url.path) ? url.path : config.paths.root.path
            guard statvfs(probe, &st) == 0 else {
                out.append(Finding(check: "space \(name)", level: .warn, detail: "\(url.path) does not exist yet", fix: "it is made at the first run"))
                continue
            }
            let free = Int64(st.f_bavail) * Int64(st.f_frsize)
            let need = name == "outbox" ? Int64(100 << 20) : Int64(largest) * 2
            let level: Level = free < need / 2 ? .fail : free < need ? .warn : .pass
            out.append(
                Finding(
                    check: "space \(name)", level: level, detail: "\(free / 1_048_576) MiB free in \(url.path); the largest rendition may be \(largest / 1_048_576) MiB",
                    fix: level == .pass ? nil : "free space, or point paths.\(name) at a larger disk"))
        }
        return out
    }

    // MARK: clocks

    /// Signed requests (SigV4, OAuth) fail when this machine's clock is off: compared with each API's `Date`.
    static func clocks(_ config: PipelineConfig, http: HTTPClient) async -> [Finding] {
        guard config.sandbox != .embedded else { return [Finding(check: "clock", level: .pass, detail: "sandbox mode: no platform to compare with")] }
        var endpoints: [String: String] = [:]
        for a in config.accounts.values where !a.endpoint.isEmpty {
            if let host = URLComponents(string: a.endpoint)?.host, endpoints[host] == nil { endpoints[host] = a.endpoint }
        }
        // All at once, each within 5 s: an offline machine waits seconds, not minutes.
        return await withTaskGroup(of: Finding.self) { group in
            for (host, url) in endpoints {
                group.addTask {
                    var req = HTTPClientRequest(url: url)
                    req.method = .HEAD
                    let sent = Date()
                    guard let r = try? await http.execute(req, timeout: .seconds(5)), let d = r.headers.first(name: "Date").flatMap(RetryAfter.httpDate) else {
                        return Finding(
                            check: "clock vs \(host)", level: .warn, detail: "\(host) could not be reached or sent no Date",
                            fix: "check the network; the clock is compared when it is reachable")
                    }
                    let skew = d.timeIntervalSince(sent.addingTimeInterval(Date().timeIntervalSince(sent) / 2))
                    let level: Level = abs(skew) > 300 ? .fail : abs(skew) > 60 ? .warn : .pass
                    return Finding(
                        check: "clock vs \(host)", level: level, detail: String(format: "%+.0f s", skew),
                        fix: level == .pass ? nil : "run an NTP client (systemd-timesyncd, chrony): signed requests fail past 5 minutes")
                }
            }
            var out: [Finding] = []
            for await f in group { out.append(f) }
            return out.sorted { $0.check < $1.check }
        }
    }

    // MARK: files

    static func keyFile(_ config: PipelineConfig) -> [Finding] {
        if let env = config.credentials.keyEnv.isEmpty ? nil : config.credentials.keyEnv, ProcessInfo.processInfo.environment[env]?.isEmpty == false {
            return [Finding(check: "credentials key", level: .pass, detail: "from $\(env)")]
        }
        let f = config.credentials.keyFile ?? config.paths.root.appendingPathComponent("secret.key")
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: f.path) else {
            return [Finding(check: "credentials key", level: .warn, detail: "\(f.path) does not exist yet", fix: "it is made (0600) at the first run; back it up with the ledger")]
        }
        let mode = (attrs[.posixPermissions] as? NSNumber)?.intValue ?? 0
        return [
            mode & 0o077 == 0
                ? Finding(check: "credentials key", level: .pass, detail: "\(f.path) mode \(String(mode, radix: 8))")
                : Finding(check: "credentials key", level: .fail, detail: "\(f.path) is readable by others (mode \(String(mode, radix: 8)))", fix: "chmod 600 \(f.path)")
        ]
    }

    static func ledger(_ config: PipelineConfig) -> [Finding] {
        // A shared ledger: reached and described as `check` does (its integrity is the database server's).
        if config.sharedLedger != nil {
            let (problems, note) = SharedLedgerReach.check(config)
            if let p = problems.first { return [Finding(check: "ledger", level: .fail, detail: p.message, fix: "check the `ledger:` settings and the database server")] }
            return [Finding(check: "ledger", level: .pass, detail: note ?? "reached")]
        }
        guard FileManager.default.fileExists(atPath: config.paths.ledger.path) else {
            return [Finding(check: "ledger", level: .pass, detail: "\(config.paths.ledger.path) is made at the first run")]
        }
        do {
            let l = try Ledger(path: config.paths.ledger.path)
            let integrity = try l.integrityCheck(), journal = try l.journalMode()
            var out = [
                integrity == "ok"
                    ? Finding(check: "ledger integrity", level: .pass, detail: "integrity_check: ok")
                    : Finding(
                        check: "ledger integrity", level: .fail, detail: "integrity_check: \(integrity)", fix: "stop the daemon, copy the ledger, and restore it from a backup")
            ]
            out.append(
                journal == "wal"
                    ? Finding(check: "ledger journal", level: .pass, detail: "journal_mode: wal")
                    : Finding(check: "ledger journal", level: .warn, detail: "journal_mode: \(journal)", fix: "the ledger must not be on a network share; keep it on a local disk"))
            return out
        } catch {
            return [Finding(check: "ledger", level: .fail, detail: "\(error)", fix: "check the file's permissions and the disk")]
        }
    }

    static func accounts(_ config: PipelineConfig, http: HTTPClient) async -> [Finding] {
        guard config.sandbox != .embedded else { return [Finding(check: "accounts", level: .pass, detail: "sandbox mode: the accounts are made up")] }
        guard let results = try? await AccountHealth.check(config: config, http: http) else { return [] }
        return results.map { r in
            r.ok
                ? Finding(check: "account \(r.account)", level: .pass, detail: r.identity ?? "token refreshed")
                : Finding(check: "account \(r.account)", level: .fail, detail: r.error ?? "failed", fix: "omnipost accounts add \(config.file) \(r.account)")
        }
    }

    static func listener(_ config: PipelineConfig) -> [Finding] {
        guard let h = config.http else { return [Finding(check: "http listener", level: .pass, detail: "none configured")] }
        var out =
            h.isLoopback
            ? [Finding(check: "http listener", level: .pass, detail: "\(h.host):\(h.port), this machine only")]
            : [
                Finding(
                    check: "http listener", level: .warn, detail: "\(h.host):\(h.port) is reachable beyond this machine; mutations need the token",
                    fix: "put it behind a TLS reverse proxy, or listen on 127.0.0.1")
            ]
        // Loopback too: behind a reverse proxy on this host, the token is what guards the listener.
        if let t = h.tokenFile, let mode = (try? FileManager.default.attributesOfItem(atPath: t.path))?[.posixPermissions] as? NSNumber, mode.intValue & 0o077 != 0 {
            out.append(Finding(check: "http token", level: .fail, detail: "\(t.path) is readable by others", fix: "chmod 600 \(t.path)"))
        }
        return out
    }
}
