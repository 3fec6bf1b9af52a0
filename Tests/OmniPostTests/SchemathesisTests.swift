import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
import Testing

/// The operator API checked against `docs/openapi.yaml` by a property-based tester that is not ours:
/// schemathesis (PyPI) runs its coverage and fuzzing phases against the real daemon — the binary, on
/// 127.0.0.1 port 0, with a token and a ledger holding a published and a failed drop — and every check
/// it has must pass (no server error; status codes, content types, headers and bodies as documented;
/// schema-valid requests accepted, invalid ones refused; undocumented methods answered 405).
@Suite struct SchemathesisTests {
    static let schemathesis = PipelineConfigTests.repoRoot.appendingPathComponent(".venv/bin/schemathesis").path

    @Test(
        .enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)),
        .timeLimit(.minutes(3)))
    func theAPIMatchesItsSpecUnderSchemathesis() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.schemathesis) else {
            Issue.record("schemathesis is missing from .venv: `make test` installs it (PYDEPS)")
            return
        }
        let dir = try TempDir()
        let token = "schemathesis-token-0123456789"
        chmod(try dir.write("token", token + "\n").path, 0o600)
        let root = dir.file("p")
        let file = try dir.write(
            "p.yaml",
            ReloadTests.pipelineText(root: root, targets: "youtube:main") + "\nhttp: {listen: \"127.0.0.1:0\", token_file: \(dir.url.path)/token}\n")
        let config = try PlatformRegistry.load(path: file.path)
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "good", sidecar: "title: good\nprivacy: public\n", into: config)
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1.3), as: "bad", sidecar: "title: bad\ntitel: typo\n", into: config)
        let out = dir.file("out.log")
        let daemon = try DaemonProcess.start(file, log: out, errors: true)
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        func log() -> String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
        func port() -> String? {
            log().range(of: #"http +listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression).map { String(log()[$0].split(separator: ":").last ?? "") }
        }
        #expect(try await ReloadTests.until(60) { port() != nil }, "\(log())")
        let ledger = try Ledger(path: config.paths.ledger.path)
        #expect(try await ReloadTests.until(90) { try ledger.drops().count == 2 && ledger.drops().allSatisfy(\.state.isTerminal) }, "\(log())")
        let listening = try #require(port())

        // A bounded run: 25 examples an operation in the coverage and fuzzing phases (about 500 requests).
        let r = try await offPool {
            try CheckCommandTests.run(
                [
                    // Run from the test's folder: schemathesis keeps its own state (.schemathesis/) where it runs.
                    "-c", "cd \"$0\" && exec \"$@\"", dir.url.path, Self.schemathesis,
                    "run", PipelineConfigTests.repoRoot.appendingPathComponent("docs/openapi.yaml").path, "--url", "http://127.0.0.1:\(listening)",
                    "--header", "Authorization: Bearer \(token)", "--max-examples", "25", "--phases", "examples,coverage,fuzzing",
                    "--checks", "all", "--request-timeout", "10", "--generation-database", "none", "--no-color"
                ], executable: "/bin/sh")
        }
        #expect(r.status == 0, "schemathesis found what docs/openapi.yaml and the API disagree on:\n\(r.out.suffix(6000))")
        #expect(r.out.contains("passed") && r.out.contains("Tested: 16"), "every documented operation was tried: \(r.out.suffix(2000))")
        kill(daemon.processIdentifier, SIGTERM)
        #expect(try await ReloadTests.until(30) { !daemon.isRunning })
    }
}
