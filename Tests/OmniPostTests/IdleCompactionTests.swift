import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
import Testing

/// Idle compaction (issue 30, `MappedCode`): which mappings an idle daemon drops from its page tables —
/// only clean, read-only pages of its binary and libraries, which the page cache keeps — and that the
/// daemon works on after it.
@Suite struct IdleCompactionTests {
    /// Real smaps text (`cat /proc/self/smaps` on this machine, kernel 6.18), trimmed to the fields read
    /// and a few more: cat's and libc's text, read-only data, RELRO (read-only, yet written by the
    /// relocations: `Anonymous` > 0) and data; a locale file mapped read-only, which is no loaded object;
    /// a shared read-only cache; the kernel's `[vvar]`/`[vdso]`, the heap and the stack.
    static let smaps = """
        55e1feed3000-55e1feed5000 r--p 00000000 fe:00 253911                     /usr/bin/cat
        Rss:                   8 kB
        Private_Clean:         8 kB
        Private_Dirty:         0 kB
        Anonymous:             0 kB
        VmFlags: rd mr mw me
        55e1feed5000-55e1feeda000 r-xp 00002000 fe:00 253911                     /usr/bin/cat
        Rss:                  20 kB
        Private_Clean:        20 kB
        Private_Dirty:         0 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me
        55e1feeda000-55e1feedd000 r--p 00007000 fe:00 253911                     /usr/bin/cat
        Rss:                  12 kB
        Private_Clean:        12 kB
        Private_Dirty:         0 kB
        Anonymous:             0 kB
        VmFlags: rd mr mw me
        55e1feedd000-55e1feede000 r--p 00009000 fe:00 253911                     /usr/bin/cat
        Rss:                   4 kB
        Private_Clean:         0 kB
        Private_Dirty:         4 kB
        Anonymous:             4 kB
        VmFlags: rd mr mw me ac
        55e1feede000-55e1feedf000 rw-p 0000a000 fe:00 253911                     /usr/bin/cat
        Rss:                   4 kB
        Private_Clean:         0 kB
        Private_Dirty:         4 kB
        Anonymous:             4 kB
        VmFlags: rd wr mr mw me ac
        55e21a9b3000-55e21a9d4000 rw-p 00000000 00:00 0                          [heap]
        Rss:                  16 kB
        Private_Clean:         0 kB
        Private_Dirty:        16 kB
        Anonymous:            16 kB
        VmFlags: rd wr mr mw me ac
        7efeb958e000-7efeb95e5000 r--p 00000000 fe:00 323409                     /usr/lib/locale/C.utf8/LC_CTYPE
        Rss:                 128 kB
        Private_Clean:         0 kB
        Private_Dirty:         0 kB
        Anonymous:             0 kB
        VmFlags: rd mr mw me
        7efeb95ef000-7efeb9615000 r--p 00000000 fe:00 333151                     /usr/lib/x86_64-linux-gnu/libc.so.6
        Rss:                 152 kB
        Private_Clean:         0 kB
        Private_Dirty:         0 kB
        Anonymous:             0 kB
        VmFlags: rd mr mw me
        7efeb9615000-7efeb976b000 r-xp 00026000 fe:00 333151                     /usr/lib/x86_64-linux-gnu/libc.so.6
        Rss:                 812 kB
        Private_Clean:         0 kB
        Private_Dirty:         0 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me
        7efeb976b000-7efeb97be000 r--p 0017c000 fe:00 333151                     /usr/lib/x86_64-linux-gnu/libc.so.6
        Rss:                 192 kB
        Private_Clean:         0 kB
        Private_Dirty:         0 kB
        Anonymous:             0 kB
        VmFlags: rd mr mw me
        7efeb97be000-7efeb97c2000 r--p 001cf000 fe:00 333151                     /usr/lib/x86_64-linux-gnu/libc.so.6
        Rss:                  16 kB
        Private_Clean:         0 kB
        Private_Dirty:        16 kB
        Anonymous:            16 kB
        VmFlags: rd mr mw me ac
        7efeb97c2000-7efeb97c4000 rw-p 001d3000 fe:00 333151                     /usr/lib/x86_64-linux-gnu/libc.so.6
        Rss:                   8 kB
        Private_Clean:         0 kB
        Private_Dirty:         8 kB
        Anonymous:             8 kB
        VmFlags: rd wr mr mw me ac
        7efeb97d4000-7efeb97db000 r--s 00000000 fe:00 332619                     /usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache
        Rss:                  28 kB
        Private_Clean:         0 kB
        Private_Dirty:         0 kB
        Anonymous:             0 kB
        VmFlags: rd mr me ms
        7efeb97de000-7efeb97e2000 r--p 00000000 00:00 0                          [vvar]
        Rss:                   0 kB
        Private_Clean:         0 kB
        Private_Dirty:         0 kB
        Anonymous:             0 kB
        VmFlags: rd mr pf io de dd
        7efeb97e4000-7efeb97e6000 r-xp 00000000 00:00 0                          [vdso]
        Rss:                   4 kB
        Private_Clean:         0 kB
        Private_Dirty:         0 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me de
        7ffcd5a23000-7ffcd5a44000 rw-p 00000000 00:00 0                          [stack]
        Rss:                  16 kB
        Private_Clean:         0 kB
        Private_Dirty:        16 kB
        Anonymous:             8 kB
        VmFlags: rd wr mr mw me gd ac
        ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
        Rss:                   0 kB
        Private_Clean:         0 kB
        Private_Dirty:         0 kB
        Anonymous:             0 kB
        VmFlags: ex
        """

    @Test func onlyCleanReadOnlyMappingsOfLoadedObjectsAreCompactable() {
        let maps = MappedCode.mappings(smaps: Self.smaps)
        #expect(maps.count == 17)
        let text = maps[1]
        #expect(text.start == 0x55e1_feed_5000 && text.end == 0x55e1_feed_a000 && text.perms == "r-xp" && text.path == "/usr/bin/cat")
        #expect(text.rssKiB == 20 && text.anonymousKiB == 0 && maps[3].anonymousKiB == 4)
        let picked = MappedCode.compactable(maps).map { String($0.start, radix: 16) }
        // cat's and libc's first read-only, text and read-only data mappings; nothing else.
        #expect(picked == ["55e1feed3000", "55e1feed5000", "55e1feeda000", "7efeb95ef000", "7efeb9615000", "7efeb976b000"])
        let skipped = Set(maps.map { String($0.start, radix: 16) }).subtracting(picked)
        // The RELROs (read-only, written by relocations), the writable data, the locale file (no loaded
        // object), the shared cache, the kernel's mappings, heap and stack.
        let mustStay = [
            "55e1feedd000", "7efeb97be000", "55e1feede000", "7efeb97c2000", "7efeb958e000", "7efeb97d4000", "7efeb97e4000", "7efeb97de000",
            "55e21a9b3000", "7ffcd5a23000", "ffffffffff600000"
        ]
        for start in mustStay {
            #expect(skipped.contains(start), "\(start) must not be compacted")
        }
    }

    /// The same filter on this test process's own smaps, as the daemon reads its own.
    @Test func thisProcesssOwnRELROAndWritableMappingsAreLeftAlone() throws {
        let text = try #require(MappedCode.procText("/proc/self/smaps"))
        #expect(text.contains("[stack]") && text.count > 64 << 10, "the whole file, not the first read's page")
        let maps = MappedCode.mappings(smaps: text)
        let picked = MappedCode.compactable(maps)
        #expect(!picked.isEmpty)
        #expect(picked.allSatisfy { !$0.perms.contains("w") && $0.path.hasPrefix("/") && $0.anonymousKiB == 0 })
        let relro = maps.filter { $0.perms == "r--p" && $0.path.contains("libc.so") && $0.anonymousKiB > 0 }
        #expect(!relro.isEmpty, "libc's RELRO is read-only with relocated (anonymous) pages")
        #expect(relro.allSatisfy { r in !picked.contains { $0.start == r.start } })
        #expect(picked.contains { $0.path.contains("libc.so") && $0.perms == "r-xp" })
    }

    /// What `recompact` drops again: only the chosen mappings still listed exactly as they were (range,
    /// permissions, file) — not one whose range now holds another file, nor one made writable.
    @Test func aMappingChangedSinceTheCompactionIsNotDroppedAgain() {
        let chosen = MappedCode.compactable(MappedCode.mappings(smaps: Self.smaps))
        #expect(chosen.count == 6)
        // /proc/self/maps now: cat's text made writable, libc's text range holding another file, libc's first
        // mapping a replaced libc (same path, another inode) and its read-only data another offset; the rest as before.
        let maps = """
            55e1feed3000-55e1feed5000 r--p 00000000 fe:00 253911                     /usr/bin/cat
            55e1feed5000-55e1feeda000 rwxp 00002000 fe:00 253911                     /usr/bin/cat
            55e1feeda000-55e1feedd000 r--p 00007000 fe:00 253911                     /usr/bin/cat
            7efeb95ef000-7efeb9615000 r--p 00000000 fe:00 999999                     /usr/lib/x86_64-linux-gnu/libc.so.6
            7efeb9615000-7efeb976b000 r-xp 00026000 fe:00 333151                     /usr/lib/x86_64-linux-gnu/libother.so
            7efeb976b000-7efeb97be000 r--p 0017d000 fe:00 333151                     /usr/lib/x86_64-linux-gnu/libc.so.6
            """
        let again = MappedCode.stillMapped(chosen, maps: maps).map { String($0.start, radix: 16) }
        #expect(again == ["55e1feed3000", "55e1feeda000"])
        // Exactly as they were: every one again.
        #expect(MappedCode.stillMapped(chosen, maps: Self.smaps).count == 6)
    }

    /// This test process compacts, runs code, and drops it again from /proc/self/maps alone: the same
    /// mappings, and the process goes on running what was dropped (faulted back from the page cache).
    @Test func recompactionDropsTheSameMappingsAgainAndTheCodeStillRuns() throws {
        let first = MappedCode.compact()
        #expect(first.mappings > 0)
        // Code runs again: Foundation's, the test's own.
        let text = try #require(MappedCode.procText("/proc/self/maps"))
        #expect(text.contains("libc.so"))
        let again = MappedCode.recompact()
        #expect(again.mappings > 0 && again.mappings <= first.mappings, "\(again) after \(first)")
        #expect(MappedCode.fileResidentKiB() > 0)
        #expect(String(describing: [1, 2, 3].map { $0 * 2 }) == "[2, 4, 6]")
    }

    static func rssFileKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("RssFile:") } ?? ""
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }

    /// The real daemon: a drop published, then quiet — its file-backed RSS falls once it has compacted
    /// — and the next drop is published all the same, its code faulted back in from the page cache.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)), .timeLimit(.minutes(3)))
    func anIdleDaemonDropsItsMappedCodeAndPublishesTheNextDrop() async throws {
        let dir = try TempDir()
        let file = try dir.write("p.yaml", ReloadTests.pipelineText(root: dir.file("p"), targets: "youtube:main"))
        let out = dir.file("out.log")
        let p = try DaemonProcess.start(file, log: out)
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        func log() -> String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
        #expect(try await ReloadTests.until(60) { log().contains("inbox") })
        let config = try PlatformRegistry.load(path: file.path)
        let ledger = try Ledger(path: config.paths.ledger.path)
        func published() throws -> Int { try ledger.allDeliveries().filter { $0.state == .published }.count }

        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "one", sidecar: "title: one\nprivacy: public\n", into: config)
        #expect(try await ReloadTests.until(90) { try published() == 1 }, "\(log())")
        let busy = Self.rssFileKiB(p.processIdentifier)
        // Quiet for `IdleMemory.quiet` (10 s): the mapped code goes; the page cache keeps it.
        var idle = busy
        let compacted = try await ReloadTests.until(40) {
            idle = Self.rssFileKiB(p.processIdentifier)
            return idle < busy * 6 / 10
        }
        #expect(compacted, "file-backed RSS \(busy) → \(idle) KiB")

        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1.5), as: "two", sidecar: "title: two\nprivacy: public\n", into: config)
        #expect(try await ReloadTests.until(90) { try published() == 2 }, "\(log())")
        let drops = try ledger.drops()
        #expect(drops.allSatisfy { $0.reasonCode == nil }, "\(drops.map { "\($0.stem) \($0.reasonCode ?? "")" })")
        kill(p.processIdentifier, SIGTERM)
        let exited = try await ReloadTests.until(30) { !p.isRunning }
        #expect(exited && p.terminationStatus == 0)
    }
}
