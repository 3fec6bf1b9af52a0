import ArgumentParser
import Foundation
import OmniPostCore
import OmniPostPlatforms
import OmniPostPipeline
import OmniPostIngest

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Lint pipeline files and sidecars as `run` would read them, reporting every problem; exit 1 on any.",
        discussion: """
            Sidecars and clip lists are checked against a pipeline — the one named with --pipeline, the one \
            whose inbox holds them, or the only pipeline given — for the targets they name and what each \
            target would be sent, with the same rules `run` applies. A pipeline's own `defaults:` are checked \
            against each of its targets the same way.
            """)

    @Option(name: .long, help: "A pipeline to check sidecars against (repeatable); it is checked too.") var pipeline: [String] = []
    @Argument(help: "Pipeline files, sidecars and clip lists (*.manifest.yaml|json, clips_metadata.json).") var files: [String] = []

    func run() async throws {
        guard !(files.isEmpty && pipeline.isEmpty) else { throw ValidationError("name at least one file to check") }
        var problems = 0
        let now = Date()
        // Pipelines first: sidecars are checked against them.
        var pipelines: [(path: String, rules: DropRules)] = []
        // A file that could be either (only `targets:`/`version:`) is a sidecar when a pipeline is given
        // beside it — by `--pipeline`, or as a file that can only be one (`check pipeline.yaml s.yaml`).
        let definite = !pipeline.isEmpty || files.contains { FileKind.of($0, pipelinesGiven: true) == .pipeline }
        let kinds = files.map { (path: $0, kind: FileKind.of($0, pipelinesGiven: definite)) }
        for f in pipeline + kinds.filter({ $0.kind == .pipeline }).map(\.path) {
            let (config, found) = PlatformRegistry.check(path: f)
            var all = found
            if let config {
                do {
                    let rules = try DropRules.forChecking(config)
                    pipelines.append((f, rules))
                    if found.isEmpty { all += rules.defaultsProblems(now: now) }
                } catch {
                    all.append(OmniError.wrap(error, as: .configInvalid))
                }
            }
            // A shared ledger is reached only when the file itself is right (its `ledger:` key included).
            let shared = all.isEmpty ? config.map(SharedLedgerReach.check) : nil
            all += shared?.problems ?? []
            problems += Self.report(f, all, notes: [config.flatMap(Self.pollingNote), shared?.note].compactMap { $0 })
        }
        for (f, kind) in kinds where kind != .pipeline {
            let rules = Self.pipeline(for: f, among: pipelines)
            var found: [OmniError]
            if kind == .clipList {
                let (list, listProblems) = ClipList.check(
                    path: f, displayName: f,
                    maxEntries: rules?.config.sidecar.maxListEntries ?? ClipList.defaultMaxEntries)
                found = listProblems
                if let list, let rules {
                    for entry in list.entries {
                        let stem = (((entry.candidates.first ?? f) as NSString).lastPathComponent as NSString).deletingPathExtension
                        found += rules.problems(
                            of: entry.manifest, vars: rules.sampleVariables(for: entry.manifest, stem: stem, now: now),
                            now: now, at: entry.location)
                    }
                } else if let list {
                    // Read alone: what each entry overrides is still checked against the platforms.
                    for entry in list.entries { found += PlatformRegistry.rules.problems(of: entry.manifest, file: f) }
                }
            } else {
                let (manifest, parseProblems) = Manifest.check(path: f, displayName: f)
                found = parseProblems
                if let manifest, let rules {
                    let stem = DropRules.stem(ofSidecar: f)
                    found += rules.problems(
                        of: manifest, vars: rules.sampleVariables(for: manifest, stem: stem, now: now),
                        now: now, at: SourceLocation(file: f))
                } else if let manifest {
                    found += PlatformRegistry.rules.problems(of: manifest, file: f)
                }
            }
            let against =
                rules.map { "checked against pipeline \($0.config.name)" }
                ?? "read alone: name its pipeline with --pipeline to check its targets and what each would be sent"
            problems += Self.report(f, found, notes: [against])
        }
        if problems > 0 { throw ExitCode(1) }
    }

    /// Prints a file's problems, one line each (`file:line:col: code: message`), or `file: ok`; returns how many.
    static func report(_ f: String, _ problems: [OmniError], notes: [String]) -> Int {
        for e in problems {
            print(TerminalText.escape("\(e.location.map { "\($0)" } ?? f): \(e.code): \(e.message)"))
        }
        if problems.isEmpty {
            print("\(f): ok")
            for note in notes { print("\(f): note: \(note)") }
        }
        return problems.count
    }

    /// The pipeline a sidecar belongs to: the one whose inbox holds it, else the only one given.
    static func pipeline(for f: String, among pipelines: [(path: String, rules: DropRules)]) -> DropRules? {
        let abs = URL(fileURLWithPath: f).standardizedFileURL.resolvingSymlinksInPath().path
        if let p = pipelines.first(where: {
            let inbox = $0.rules.config.paths.inbox.standardizedFileURL.resolvingSymlinksInPath().path
            return abs.hasPrefix(inbox.hasSuffix("/") ? inbox : inbox + "/")
        }) {
            return p.rules
        }
        return pipelines.count == 1 ? pipelines[0].rules : nil
    }

    /// A polled inbox cannot see a writer close its file: recommend markers where they are not on.
    static func pollingNote(_ c: PipelineConfig) -> String? {
        guard !c.watch.readyMarker else { return nil }
        let decision = MountTable.decide(path: c.paths.inbox.path)
        let polled = c.watch.mode == .poll || (c.watch.mode == .auto && decision.usePoll)
        guard polled else { return nil }
        return
            "the inbox \(c.paths.inbox.path) is polled (\(c.watch.mode == .poll ? "watch.mode: poll" : decision.fsType)): a file counts as complete after 3 unchanged scans and \(c.watch.settleIsDefault ? "10 s" : "watch.settle") of stillness; writers that pause longer (SMB copies, exports) should use `watch: {ready_marker: true}` and write <name>.ready last"
    }
}
