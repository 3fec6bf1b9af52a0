import Foundation
import OmniPostCore
import OmniPostLedger
import Testing

/// A drop is withdrawn or filed, never both (the race that failed IngestRewriteTests' re-export under
/// load: the upload stage cancelled its delivery, the archive stage claimed the drop in that instant
/// and moved its sidecar to archive/ while the upload stage withdrew it — the sidecar's row waited again,
/// paired with the re-export, and that drop found it gone: `unreadable`).
@Suite struct WithdrawWhileFilingTests {
    /// A converted drop of a clip and its sidecar with nothing left to upload: ready to file.
    static func readyToFile(_ l: Ledger) throws {
        try l.recordCompleteFile(path: "r.mp4", size: 10, mtime: 1, inode: 5, role: .clip)
        try l.recordCompleteFile(path: "r.yaml", size: 3, mtime: 1, inode: 6, role: .sidecar)
        #expect(
            try l.createDrop(
                DropRecord(id: "d1", pipeline: "p", stem: "r", clipPath: "r.mp4", sidecarPath: "r.yaml", now: 1),
                fileIDs: try l.waitingFiles().compactMap(\.id)))
        try l.transitionDrop("d1", from: .received, to: .validated, stage: "validate")
        try l.transitionDrop("d1", from: .validated, to: .converted, stage: "convert")
    }

    @Test(arguments: LedgerBackendKind.available) func aDropWhoseFilingIsClaimedIsNotWithdrawn(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            try Self.readyToFile(l)
            _ = try #require(try l.claimFiling(dropId: "d1", owner: "archive", host: "h", folder: "archive/2026/12/06/d1", lease: 60))
            // The clip re-exported meanwhile: the watcher (or the upload stage) would withdraw it. Refused:
            // its files may be moving already, and its sidecar must not wait again for another drop.
            #expect(try !l.withdrawDrop("d1", stage: "upload", reason: "r.mp4 changed"))
            #expect(try l.drop("d1")?.state == .converted)
            #expect(try l.waitingFiles().isEmpty)
            // Nor by a filer that is not the one holding it.
            #expect(try !l.withdrawDrop("d1", stage: "archive", reason: "r.mp4 changed", filer: "someone else"))
            // A filing let go part-way (a failed move) still holds it: a retry goes on into the same folder.
            try l.releaseFiling(dropId: "d1", owner: "archive")
            #expect(try !l.withdrawDrop("d1", stage: "upload", reason: "r.mp4 changed"))
            #expect(try l.drop("d1")?.state == .converted)
        }
    }

    @Test(arguments: LedgerBackendKind.available) func aWithdrawnDropIsNotFiled(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            try Self.readyToFile(l)
            #expect(try l.withdrawDrop("d1", stage: "upload", reason: "r.mp4 changed"))
            // The archive stage that claimed it a moment before gets no filing: nothing of it is moved.
            #expect(try l.claimFiling(dropId: "d1", owner: "archive", host: "h", folder: "archive/2026/12/06/d1", lease: 60) == nil)
            #expect(try l.filing(of: "d1") == nil)
            #expect(try l.waitingFiles().map(\.path) == ["r.yaml"])
        }
    }

    @Test(arguments: LedgerBackendKind.available) func theFilersOwnUnbegunFilingGoesWithTheWithdrawal(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            try Self.readyToFile(l)
            _ = try #require(try l.claimFiling(dropId: "d1", owner: "archive", host: "h", folder: "failed/d1", lease: 60))
            #expect(try l.withdrawDrop("d1", stage: "archive", reason: "r.mp4 changed", filer: "archive"))
            #expect(try l.drop("d1")?.state == .withdrawn)
            #expect(try l.filing(of: "d1") == nil)
            #expect(try l.waitingFiles().map(\.path) == ["r.yaml"])
        }
    }
}
