import Foundation
import OmniPostCore
import Testing

/// A tool run stopped because its work was cancelled (a shutdown, a reload) is not the tool failing on
/// the file: it ends as a cancellation, never as an exit status a stage would hold against the drop.
@Suite struct CancelledToolTests {
    @Test(.timeLimit(.minutes(1))) func aCancelledToolRunIsACancellationNotAFailure() async throws {
        let run = Task { try await ToolRunner().run("sleep", ["30"], timeout: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(300))
        run.cancel()
        do {
            let r = try await run.value
            Issue.record("a cancelled run answered as if it had ended by itself: status \(r.status)")
        } catch is CancellationError {
        } catch {
            Issue.record("a cancelled run failed as \(error), not as a cancellation")
        }
        // Not cancelled, a failing tool still answers with its status.
        let r = try await ToolRunner().run("sh", ["-c", "exit 3"], timeout: .seconds(10))
        #expect(r.status == 3)
    }
}
