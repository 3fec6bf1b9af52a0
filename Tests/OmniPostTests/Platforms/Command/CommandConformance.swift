import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How Command's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension CommandPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: CommandPlatform.self, size: 300_000,
            says: "conformance",
            accountYAML: { dir in
                // A program that "posts" by copying the file it is handed into posted/, answering with its id.
                let script = dir.file("post.sh")
                try Data(
                    """
                    #!/bin/sh
                    for last; do :; done
                    cp "$last" '\(dir.file("posted").path)/conformance.mp4'
                    echo '{"id": "c-1", "url": "file:///posted/conformance.mp4"}'
                    """.utf8
                ).write(to: script)
                chmod(script.path, 0o755)
                return "    run: [\(script.path)]\n"
            },
            adapter: { CommandPlatform.makeAdapter($0) },
            countsBytes: false,
            cut: .notApplicable("the program is handed the whole file: there is no part to cut"),
            redirect: .notApplicable("the program is handed the file on disk: no request of ours carries its bytes"),
            startRedirect: .notApplicable("the program is handed the file on disk: no request of ours starts an upload"),
            restart: .notApplicable("the program is handed the whole file: there is no confirmed part to resume from"),
            uncertain: .notApplicable("the program decides: a re-run is told `retry: true` (CommandTests)"),
            forget: .notApplicable("the program keeps no session OmniPost holds"),
            rateLimit: .notApplicable("a program says 'try later' by its exit code (CommandTests)"),
            expireTokens: .notApplicable("a program holds its own credentials"),
            revocation: .notApplicable("a program holds its own credentials"),
            refusal: .notApplicable("a program's refusals are its exit codes (CommandTests)"),
            lapse: .notApplicable("the program keeps no session OmniPost holds"),
            processing: .notApplicable("the program does its own processing"),
            pipelineFailure: .notApplicable("the program's failures are its exit codes (CommandTests)"))
    }
}
