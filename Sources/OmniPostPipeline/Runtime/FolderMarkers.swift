import Foundation
import OmniPostCore
import OmniPostIngest
import OmniPostLedger

/// The folders as a two-way interface (issue 29): a person with only a file manager answers a drop by
/// touching a marker file —
/// - `failed/<drop>/RETRY` retries the failed drop as `omnipost retry` does (its originals go back into
///   the inbox; what was published is skipped);
/// - `outbox/<drop>.CANCEL` cancels what has not been sent, as `omnipost cancel` does.
/// A marker that was acted on is removed; one that was refused becomes `<marker>.refused`, holding the
/// sentence that says why (an upload under way, a drop already retried…). Markers are seen through
/// inotify where the inbox is watched that way, else by a look every poll interval; a full look at start
/// catches markers left while the daemon was down.
struct FolderMarkers: Sendable {
    let ctx: PipelineContext
    var control: QueueControl { ctx.control(who: "a marker file") }

    static let retry = "RETRY"
    /// Where a review file is moved to answer it.
    static let reviewAnswers = ["approved", "rejected"]
    static let cancel = ".CANCEL"

    func run(inotify: Bool, pollEvery: Duration) async {
        for sub in Self.reviewAnswers {
            try? FileManager.default.createDirectory(at: ReviewFile.folder(ctx.paths).appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        await sweep()
        let sources = inotify ? (try? [InotifySource(root: ctx.paths.outbox.path), InotifySource(root: ctx.paths.failed.path)]) : nil
        guard let sources, let outbox = sources.first, let failed = sources.last else {
            // Polled: the same look every interval (a marker is a rare, human act; a look is two readdirs).
            while !Task.isCancelled {
                try? await Task.sleep(for: pollEvery)
                await sweep()
            }
            return
        }
        defer { for s in sources { s.stop() } }
        outbox.watch(relDir: "")
        for sub in Self.reviewAnswers { outbox.watch(relDir: "review/" + sub) }
        failed.watch(relDir: "")
        for d in Self.folders(in: ctx.paths.failed) { failed.watch(relDir: d) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await e in outbox.events() {
                    switch e {
                    case .closed(let rel), .touched(let rel), .modified(let rel):
                        if rel.hasSuffix(Self.cancel) { await answerCancel(String(rel.dropLast(Self.cancel.count))) }
                        let parts = rel.split(separator: "/").map(String.init)
                        if parts.count == 3, parts[0] == "review", Self.reviewAnswers.contains(parts[1]), parts[2].hasSuffix(".yaml") {
                            await answerReview(String(parts[2].dropLast(5)), approved: parts[1] == "approved")
                        }
                    case .overflow: await sweep()
                    default: break
                    }
                }
            }
            group.addTask {
                for await e in failed.events() {
                    switch e {
                    case .directoryCreated(let rel):
                        // A failed drop's folder: watched from now on; a marker already in it is answered.
                        failed.watch(relDir: rel)
                        if FileManager.default.fileExists(atPath: ctx.paths.failed.appendingPathComponent(rel + "/" + Self.retry).path) {
                            await answerRetry(rel)
                        }
                    case .closed(let rel), .touched(let rel), .modified(let rel):
                        let parts = rel.split(separator: "/")
                        if parts.count == 2, parts[1] == Self.retry { await answerRetry(String(parts[0])) }
                    case .overflow: await sweep()
                    default: break
                    }
                }
            }
            await withTaskCancellationHandler {
                await group.waitForAll()
            } onCancel: {
                for s in sources { s.stop() }
            }
        }
    }

    /// Every marker present now.
    func sweep() async {
        for sub in Self.reviewAnswers {
            let dir = ReviewFile.folder(ctx.paths).appendingPathComponent(sub)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where name.hasSuffix(".yaml") {
                await answerReview(String(name.dropLast(5)), approved: sub == "approved")
            }
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: ctx.paths.outbox.path)) ?? [] where name.hasSuffix(Self.cancel) {
            await answerCancel(String(name.dropLast(Self.cancel.count)))
        }
        for d in Self.folders(in: ctx.paths.failed)
        where FileManager.default.fileExists(atPath: ctx.paths.failed.appendingPathComponent(d + "/" + Self.retry).path) {
            await answerRetry(d)
        }
    }

    func answerCancel(_ dropId: String) async {
        let marker = ctx.paths.outbox.appendingPathComponent(dropId + Self.cancel)
        // A cancel of an upload in flight asks its adapter to abandon the session, as the CLI's does.
        await answer(marker, dropId: dropId) { try await control.cancel(dropId, adapters: ctx.adapters) }
    }

    func answerRetry(_ dropId: String) async {
        let marker = ctx.paths.failed.appendingPathComponent(dropId + "/" + Self.retry)
        await answer(marker, dropId: dropId) { try control.retry(dropId) }
    }

    /// Acts on a marker once: removed when done, `<marker>.refused` with the reason when refused.
    private func answer(_ marker: URL, dropId: String, _ act: () async throws -> [String]) async {
        guard FileManager.default.fileExists(atPath: marker.path) else { return }
        do {
            let lines = try await act()
            try? FileManager.default.removeItem(at: marker)
            ctx.progress.line("  \(dropId)  \(marker.lastPathComponent) marker: \(lines.joined(separator: "; "))")
            ctx.wakeup.ring()
        } catch {
            let e = OmniError.wrap(error)
            let refused = marker.appendingPathExtension("refused")
            try? FileManager.default.removeItem(at: refused)
            try? SafeFiles.writeAtomically(Data("\(e.code): \(e.message)\n".utf8), to: refused)
            try? FileManager.default.removeItem(at: marker)
            ctx.logger.warning(
                "a marker file was refused",
                metadata: ["omnipost.drop": "\(dropId)", "omnipost.reason": "\(e.code.rawValue)", "marker": "\(marker.lastPathComponent)", "why": "\(e.message)"])
        }
    }

    /// A review file moved into `review/approved/` (its edits applied) or `review/rejected/`: acted on,
    /// and answered beside it — `<drop>.done.txt`, or `<drop>.refused.txt` with the file moved back to
    /// `review/` so it can be fixed and moved again.
    func answerReview(_ dropId: String, approved: Bool) async {
        let dir = ReviewFile.folder(ctx.paths).appendingPathComponent(approved ? "approved" : "rejected")
        let file = dir.appendingPathComponent("\(dropId).yaml")
        guard FileManager.default.fileExists(atPath: file.path) else { return }
        let control = ctx.control(who: "its review file")
        do {
            let lines =
                approved
                ? try control.approve(dropId, note: "moved into review/approved/", edits: try ReviewFile.edits(file, dropId: dropId, ledger: ctx.ledger))
                : try control.reject(dropId, note: "moved into review/rejected/")
            try? SafeFiles.writeAtomically(Data((lines.joined(separator: "\n") + "\n").utf8), to: dir.appendingPathComponent("\(dropId).done.txt"))
            try? FileManager.default.removeItem(at: file)
            ctx.progress.line("  \(dropId)  review file: \(lines.joined(separator: "; "))")
            ctx.wakeup.ring()
        } catch {
            let e = OmniError.wrap(error)
            let text = "\(e.location.map { "\($0): " } ?? "")\(e.code): \(e.message)\n"
            try? SafeFiles.writeAtomically(Data(text.utf8), to: ReviewFile.folder(ctx.paths).appendingPathComponent("\(dropId).refused.txt"))
            let back = ReviewFile.url(dropId, ctx.paths)
            if !FileManager.default.fileExists(atPath: back.path) { try? FileManager.default.moveItem(at: file, to: back) } else { try? FileManager.default.removeItem(at: file) }
            ctx.logger.warning(
                "a review file was refused", metadata: ["omnipost.drop": "\(dropId)", "omnipost.reason": "\(e.code.rawValue)", "why": "\(e.message)"])
        }
    }

    static func folders(in dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { name in
            var isDir: ObjCBool = false
            return !name.hasPrefix(".") && FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path, isDirectory: &isDir) && isDir.boolValue
        }
    }
}
