import Foundation
import OmniPostCore

/// Runs a delivery's follow-ups once its post exists — one mechanism for every kind and platform.
/// For each: made or failed already → nothing; intended without an answer → read the platform back and
/// keep what is there, sending only if it is absent; otherwise keep the intent, then make it. A refusal
/// for good is kept as the follow-up's failure (the post stands); a transient failure is thrown, so the
/// upload stage tries the delivery again, which reconciles the post and comes back here.
package enum FollowUpRun {
    package struct Report: Sendable, Equatable {
        package var made: [String] = []
        /// Found on the platform after an intent without an answer: not sent again.
        package var found: [String] = []
        package var failed: [(key: String, why: String)] = []
        package static func == (a: Report, b: Report) -> Bool {
            a.made == b.made && a.found == b.found && a.failed.map(\.key) == b.failed.map(\.key) && a.failed.map(\.why) == b.failed.map(\.why)
        }
        package init() {}
    }

    package static func run(_ owed: [FollowUp], on post: PublishOutcome, adapter: any PlatformAdapter, log: any FollowUpLog) async throws -> Report {
        var report = Report()
        guard !owed.isEmpty else { return report }
        guard let taker = adapter as? any FollowingUp else {
            for f in owed where try log.state(of: f.key) == nil {
                let why = "\(adapter.platform) takes no \(f.kind.rawValue) after a post"
                try log.failed(f, why: why)
                report.failed.append((f.key, why))
            }
            return report
        }
        for f in owed {
            switch try log.state(of: f.key) {
            case .made?, .failed?: continue
            case .intended?:
                let id: String?
                do {
                    id = try await taker.findFollowUp(f, of: post)
                } catch let e as DeliveryError where e.kind == .permanent && e.code != .authRevoked {
                    // It may exist and cannot be looked for (a read the app may not make): never sent again,
                    // so it is never made twice; said as its failure.
                    let why = "its answer was lost and \(adapter.platform) could not be read back to find it (\(e.code): \(e.message)); not sent again"
                    try log.failed(f, why: why)
                    report.failed.append((f.key, why))
                    continue
                }
                if let id {
                    try log.made(f, remoteId: id)
                    report.found.append(f.key)
                    continue
                }
            case nil:
                break
            }
            try log.intend(f)
            do {
                let id = try await taker.makeFollowUp(f, on: post)
                try log.made(f, remoteId: id)
                report.made.append(f.key)
            } catch let e as DeliveryError where e.kind == .permanent && e.code != .authRevoked {
                try log.failed(f, why: "\(e.code): \(e.message)")
                report.failed.append((f.key, "\(e.code): \(e.message)"))
            }
        }
        return report
    }
}
