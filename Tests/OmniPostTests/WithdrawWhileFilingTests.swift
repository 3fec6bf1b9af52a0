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

    /// The same filer claiming its filing again after a move failed part-way is told so (`resumed`): its
    /// first attempt may have moved an original already, so the archive stage finishes it rather than
    /// handing its own filing to a withdrawal (which would put that original's row back to waiting).
    @Test(arguments: LedgerBackendKind.available) func aFilersRetryIsBegunAndNotHandedToAWithdrawal(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            try Self.readyToFile(l)
            let first = try #require(try l.claimFiling(dropId: "d1", owner: "archive", host: "h", folder: "failed/d1", lease: 60))
            #expect(!first.begun)
            try l.releaseFiling(dropId: "d1", owner: "archive")
            let again = try #require(try l.claimFiling(dropId: "d1", owner: "archive", host: "h", folder: "failed/d1", lease: 60))
            #expect(again.resumed && again.begun && !again.takenOver)
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

    /// A converted drop with one delivery being uploaded by `upload`.
    static func uploading(_ l: Ledger) throws -> Int64 {
        try readyToFile(l)
        let d = DeliveryRecord(
            dropId: "d1", target: "youtube:main", platform: "youtube", account: "main", profile: "youtube", state: .ready,
            plan: .pass, planDetail: nil, specKey: nil, metadataJson: "{}", contentSha256: "d1", notBefore: nil, now: 1)
        try l.insertDeliveries([d])
        return try #require(try l.claimDelivery(owner: "upload", lease: 60)?.delivery.id)
    }

    /// The upload stage's "still being written": the delivery cancelled and the drop withdrawn in one
    /// transaction, so no archive claim can come between them — and the files wait again for the new drop.
    @Test(arguments: LedgerBackendKind.available) func anUploadThatFindsItsClipChangingCancelsAndWithdrawsAtOnce(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            let id = try Self.uploading(l)
            let (d, withdrawn) = try l.cancelAndWithdraw(
                deliveryId: id, owner: "upload", stage: "upload", code: .sourceChanged, message: "r.mp4 is still being written", attempt: nil, retireClip: true)
            #expect(withdrawn)
            #expect(d.state == .cancelled && d.errorCode == "source_changed")
            #expect(try l.delivery(id)?.state == .cancelled)
            #expect(try l.drop("d1")?.state == .withdrawn)
            #expect(try l.waitingFiles().map(\.path) == ["r.yaml"])
            #expect(try l.claimFiling(dropId: "d1", owner: "archive", host: "h", folder: "failed/d1", lease: 60) == nil)
        }
    }

    /// A drop whose filing is claimed keeps the guard: the delivery is cancelled, the withdrawal refused,
    /// nothing of the drop waits again.
    @Test(arguments: LedgerBackendKind.available) func theCancelHoldsWhenTheWithdrawalIsRefused(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            let id = try Self.uploading(l)
            _ = try #require(try l.claimFiling(dropId: "d1", owner: "archive", host: "h", folder: "failed/d1", lease: 60))
            let (_, withdrawn) = try l.cancelAndWithdraw(
                deliveryId: id, owner: "upload", stage: "upload", code: .sourceChanged, message: "r.mp4 is still being written", attempt: nil, retireClip: true)
            #expect(!withdrawn)
            #expect(try l.delivery(id)?.state == .cancelled)
            #expect(try l.drop("d1")?.state == .converted)
            #expect(try l.waitingFiles().isEmpty)
            // Not this worker's lease: nothing changes at all.
            #expect(throws: OmniError.self) {
                try l.cancelAndWithdraw(deliveryId: id, owner: "someone", stage: "upload", code: .sourceChanged, message: "x", attempt: nil, retireClip: true)
            }
        }
    }
}
