import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms
import Testing

/// `omnipost status` as an operator uses it: the delivery number alerts name (`omnipost retry … 10`)
/// in its own column, filters by state, target and time, a limit, and `--json` a program can read
/// without parsing JSON inside JSON.
@Suite struct StatusCommandTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)), .timeLimit(.minutes(3)))
    func idsFiltersAndReadableJSON() throws {
        let dir = try TempDir()
        let file = try dir.write(
            "p.yaml", "version: 1\nroot: \(dir.url.path)/p\nsandbox: embedded\nwatch: {settle: 200ms}\nsidecar: {grace: 1s}\ntargets: [youtube:main, x:main]\n")
        let config = try PlatformRegistry.load(path: file.path)
        try config.paths.createAll()
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "good", sidecar: "title: good\nprivacy: public\n", into: config)
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "bad", sidecar: "titel: typo\n", into: config)
        let run = try CheckCommandTests.run(["run", file.path, "--once"])
        #expect(run.status == 0, "\(run.out)")
        // Every event names a stage the readers know (a lane's loop name once leaked into `events.stage`).
        let unknown = try Ledger(path: config.paths.ledger.path).events().filter { $0.eventStage == nil }.map(\.stage)
        #expect(unknown.isEmpty, "\(Set(unknown))")

        // The table: a delivery number per target row, "-" for a drop that never had deliveries.
        let all = try CheckCommandTests.run(["status", file.path])
        let header = try #require(all.out.split(separator: "\n").first { $0.hasPrefix("DROP") })
        #expect(header.contains("  ID  ") && header.contains("TARGET"), "\(header)")
        let youtube = try #require(all.out.split(separator: "\n").first { $0.contains("youtube:main") && $0.contains("published") })
        let cells = youtube.split(separator: " ", omittingEmptySubsequences: true)
        #expect(Int(cells[1]) != nil, "the delivery number: \(youtube)")
        #expect(all.out.contains("unknown_key"))

        // Filters: by state, by target, by time; a limit.
        let failed = try CheckCommandTests.run(["status", file.path, "--state", "failed"])
        #expect(failed.out.contains("unknown_key") && !failed.out.contains("good-"), "\(failed.out)")
        let x = try CheckCommandTests.run(["status", file.path, "--target", "x:main"])
        #expect(x.out.contains("x:main") && !x.out.contains("youtube:main  published") && !x.out.contains("unknown_key"), "\(x.out)")
        #expect(try CheckCommandTests.run(["status", file.path, "--since", "1h"]).out.contains("good-"))
        #expect(try CheckCommandTests.run(["status", file.path, "--since", "2099-01-01"]).out.contains("(no drops)"))
        let one = try CheckCommandTests.run(["status", file.path, "--limit", "1"])
        let dropsShown = Set(one.out.split(separator: "\n").filter { $0.hasPrefix("good-") || $0.hasPrefix("bad-") }.map { $0.split(separator: " ")[0] })
        #expect(dropsShown.count == 1, "\(one.out)")
        for (args, says) in [(["--state", "faild"], "not a drop or delivery state"), (["--since", "yesterday"], "--since takes a time"), (["--limit=-1"], "--limit is 0")] {
            let bad = try CheckCommandTests.run(["status", file.path] + args)
            #expect(bad.status == 2 && bad.out.contains(says), "\(args): \(bad.out)")
        }

        // --json: records as objects a program reads directly; times as RFC 3339.
        let json = try CheckCommandTests.run(["status", file.path, "--json"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let drops = try #require(doc["drops"] as? [[String: Any]])
        let good = try #require(drops.first { ($0["stem"] as? String) == "good" })
        #expect(good["manifest"] is [String: Any] && good["manifest_json"] == nil, "\(good.keys.sorted())")
        let created = try #require(good["created_at"] as? String)
        #expect((try? Date(created, strategy: Date.ISO8601FormatStyle())) != nil, "\(created)")
        let deliveries = try #require(doc["deliveries"] as? [[String: Any]])
        #expect(deliveries.allSatisfy { $0["metadata"] is [String: Any] && $0["metadata_json"] == nil && $0["updated_at"] is String })
        let onlyFailed = try #require(
            try JSONSerialization.jsonObject(with: Data(try CheckCommandTests.run(["status", file.path, "--json", "--state", "failed"]).out.utf8)) as? [String: Any])
        #expect((onlyFailed["drops"] as? [[String: Any]])?.map { $0["stem"] as? String } == ["bad"])
    }
}
