import Foundation
import OmniPostCore
import OmniPostIngest

/// Tells the daemon when the ledger file may have been written by another process (`omnipost retry`,
/// `cancel`, `accounts set-token`), so it asks SQLite then — not once a second on an idle daemon
/// (issue 30: 8 pipelines asking each second were 480 wake-ups a minute of an otherwise idle NAS).
/// Every commit in WAL mode writes the `-wal` file beside the ledger, which inotify on its folder sees;
/// our own commits ring it too, and are told apart by the caller (`PRAGMA data_version` counts other
/// connections' commits only). A ring is looked at no more than 10 times a second, so a burst of commits
/// costs one look per 100 ms — and one read of the kernel's queue per look: the source is read once,
/// then not until the next look begins (`readOnceUntilRearmed`), so the `-wal` written page by page
/// between two looks is one merged event, not a read and a hand-off per page. No timed look: an idle
/// daemon is woken by nothing here (issue 30).
final class LedgerDoorbell: Sendable {
    private let source: InotifySource
    private let names: Set<String>
    static let coalesce: Duration = .milliseconds(100)

    /// Nil where inotify cannot watch the ledger's folder: the caller keeps its timed look.
    init?(ledger: URL) {
        guard let source = try? InotifySource(root: ledger.deletingLastPathComponent().path), source.watch(relDir: "") else { return nil }
        source.readOnceUntilRearmed()
        self.source = source
        let name = ledger.lastPathComponent
        names = [name, name + "-wal", name + "-journal"]
    }

    /// Calls `look` at start and after each ring (coalesced), until cancelled.
    func run(_ look: @escaping @Sendable () -> Void) async {
        let bell = Wakeup()
        let events = source.events()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [names, source] in
                for await event in events {
                    switch event {
                    case .modified(let n), .closed(let n), .touched(let n), .removed(let n):
                        if names.contains(n) { bell.ring() } else { source.rearm() }
                    case .overflow:
                        bell.ring()
                    case .directoryCreated, .linkChanged:
                        // Not the ledger's: no look follows, so the source is read again from here (read
                        // once, it would otherwise wait for a look that only a ring brings, for good).
                        source.rearm()
                    }
                }
            }
            while !Task.isCancelled {
                let ticket = bell.ticket()
                // Read again from here on: whatever is queued now came before this look, or after the
                // ticket, and rings its wait.
                source.rearm()
                look()
                await bell.wait(after: ticket, timeout: nil)
                try? await Task.sleep(for: Self.coalesce)
            }
            // Ends the reader thread, and with it the stream the relay reads.
            source.stop()
            await group.waitForAll()
        }
    }
}
