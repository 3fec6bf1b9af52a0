import Foundation
import OmniPostCore
import OmniPostLedger
import Testing

/// ARCHITECTURE.md principle 3, proven the hard way: a daemon killed with SIGKILL at random points
/// and restarted, over and over, publishes every delivery exactly once and loses no file.
@Suite(.serialized) struct CrashTests {
    static let binary = CheckCommandTests.binary

    /// A child process with a clean signal mask, its output in a file.
    final class Child {
        let process = Process()
        init(_ args: [String], log: URL) throws {
            process.executableURL = URL(fileURLWithPath: CrashTests.binary)
            process.arguments = args
            if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
            let h = try FileHandle(forWritingTo: log)
            try h.seekToEnd()
            process.standardOutput = h
            process.standardError = h
            try process.run()
        }
        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    static func waitForLine(_ log: URL, containing needle: String, timeout: Double = 90) throws -> String {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains(needle) }) { return String(line) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw OmniError(.internalError, "no line with '\(needle)' in \(log.path): \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)), .timeLimit(.minutes(5)))
    func sigkillAtRandomPointsNeverPostsTwiceNorLosesAFile() async throws {
        let dir = try TempDir()
        // The platform side lives in its own process: it must outlast every daemon we kill.
        let sandboxLog = dir.file("sandbox.log")
        let sandbox = try Child(["sandbox", "--port", "0", "--root", dir.file("sandbox").path,
                                 "--account", "youtube:main=cid:sec:rt-main", "--account", "youtube:second=cid:sec:rt-second",
                                 "--put-delay-ms", "150"], log: sandboxLog)
        defer { sandbox.kill9() }
        let line = try Self.waitForLine(sandboxLog, containing: "listening on")
        let base = String(line[line.range(of: "http://")!.lowerBound...]).trimmingCharacters(in: .whitespaces)

        let root = dir.file("p")
        let pipeline = try dir.write("pipeline.yaml", """
            version: 1
            name: crash
            root: \(root.path)
            watch: {mode: inotify, settle: 200ms}
            sidecar: {grace: 5s}
            upload: {chunk_size: 256KiB, concurrency: 2}
            targets:
              - youtube:main
              - {name: "shorts:second", platform: youtube, profile: youtube_shorts, account: second}
            accounts:
              youtube:main: {client_id: cid, client_secret: sec, refresh_token: rt-main, endpoint: "\(base)", token_url: "\(base)/token"}
              youtube:second: {client_id: cid, client_secret: sec, refresh_token: rt-second, endpoint: "\(base)", token_url: "\(base)/token"}
            """)
        // 30 distinct clips of ~3 chunks each: one encode, then a different valid `free` box on each.
        let clip = try Clips.make(width: 540, height: 960, seconds: 3, extra: ["-crf", "16", "-movflags", "+faststart"])
        let bytes = try Data(contentsOf: clip)
        var originals: [String: String] = [:]
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inbox"), withIntermediateDirectories: true)
        for i in 0..<30 {
            var b = bytes
            let payload = Array("crash-test-clip-\(i)".utf8)
            let size = UInt32(8 + payload.count)
            b.append(contentsOf: [UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)] + Array("free".utf8) + payload)
            try b.write(to: root.appendingPathComponent("inbox/c\(i).mp4"))
            try Data("title: crash \(i)\n".utf8).write(to: root.appendingPathComponent("inbox/c\(i).yaml"))
            originals["c\(i).mp4"] = FileHashing.sha256(data: b)
        }

        // Kill at random points, restart, again: 24 times.
        var rng = SystemRandomNumberGenerator()
        var killTimes: [Double] = []
        let daemonLog = dir.file("daemon.log")
        for _ in 0..<24 {
            let d = try Child(["run", pipeline.path], log: daemonLog)
            try await Task.sleep(for: .milliseconds(Int.random(in: 150...1100, using: &rng)))
            killTimes.append(Date().timeIntervalSince1970)
            d.kill9()
        }
        // Then let one run finish everything.
        let last = try Child(["run", pipeline.path, "--once"], log: daemonLog)
        let deadline = Date().addingTimeInterval(180)
        while last.process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!last.process.isRunning, "the final run did not finish")
        if last.process.isRunning { last.kill9() }

        // Exactly once: per account, every clip's bytes arrived as exactly one video.
        let listing = try await SandboxYouTubeTests.send(base + "/sandbox/videos", .GET)
        let videos = try #require((try JSONSerialization.jsonObject(with: listing.body) as? [String: Any])?["videos"] as? [[String: Any]])
        var perKey: [String: Int] = [:]
        for v in videos { perKey["\(v["account"] ?? "")|\(v["sha256"] ?? "")", default: 0] += 1 }
        let duplicates = perKey.values.filter { $0 > 1 }.reduce(0) { $0 + $1 - 1 }
        #expect(duplicates == 0)
        #expect(videos.count == 60)
        for (_, sha) in originals {
            #expect(perKey["youtube:main|\(sha)"] == 1)
            #expect(perKey["youtube:second|\(sha)"] == 1)
        }
        // No file lost: every original is in archive/, byte-identical; nothing in failed/ or the inbox.
        var lost = 0
        let archived = files(under: root.appendingPathComponent("archive"))
        for (name, sha) in originals {
            guard let rel = archived.first(where: { $0.hasSuffix("/" + name) }),
                  try FileHashing.sha256(path: root.appendingPathComponent("archive").appendingPathComponent(rel).path).hex == sha else {
                lost += 1
                continue
            }
        }
        #expect(lost == 0)
        #expect(files(under: root.appendingPathComponent("inbox")).isEmpty)
        #expect(files(under: root.appendingPathComponent("failed")).isEmpty)

        // Where the kills landed: the last transition each interrupted.
        let ledger = try Ledger(path: root.appendingPathComponent("ledger.sqlite").path)
        let events = try ledger.read { db in try EventRecord.order(Column("id")).fetchAll(db) }
        var stages: [String: Int] = [:]
        for t in killTimes {
            let before = events.last { $0.at <= t && $0.stage != "startup" && $0.toState != "watching" }
            let label = before.map { e in e.stage == "upload" && e.toState == "uploading" ? "mid-upload" : "\(e.stage)→\(e.toState)" } ?? "startup"
            stages[label, default: 0] += 1
        }
        let resumed = events.filter { $0.detail?.hasPrefix("resuming") == true }.count
        print("crash test: \(killTimes.count) SIGKILLs; last transition before each kill: \(stages.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")); uploads resumed from a persisted session: \(resumed); deliveries: \(videos.count); duplicates: \(duplicates); lost files: \(lost)")
    }
}

import GRDB
import NIOHTTP1
