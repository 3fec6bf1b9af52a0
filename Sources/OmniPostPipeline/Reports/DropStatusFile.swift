import Foundation
import OmniPostCore
import OmniPostLedger

/// `outbox/<drop>.status.json`: where a drop stands, rewritten as it moves — so an editor's tool, a
/// script or a person in a file manager watching the outbox sees progress without the API (issue 29,
/// "the folders as a two-way interface"). Field names are stable like the result file's; the last
/// version names the result (or failure) file once there is one.
struct DropStatusFile: Codable, Sendable {
    struct Target: Codable, Sendable {
        var target: String
        var state: String
        var plan: String
        /// Bytes sent of the rendition, while and after it uploads.
        var bytesSent: Int64
        var bytesTotal: Int64?
        var percent: Int?
        /// What holds it, in words (a quota, a breaker, its schedule), with until when.
        var waitingFor: String?
        var waitingUntil: Date?
        var url: String?
        var error: DropReport.Reason?
    }

    var dropId: String
    var pipeline: String
    var state: String
    /// The stage it is in now, in a person's words: `waiting for its files`, `validating`, `converting`,
    /// `uploading`, `archiving`, `done`.
    var stage: String
    var clip: String?
    var sidecar: String?
    var reason: DropReport.Reason?
    var targets: [Target]
    /// The result (or failure) file, relative to the outbox, once written.
    var result: String?
    /// Markers this drop answers to (`touch` them): cancel what has not been sent, or retry it.
    var markers: [String: String]
    var updatedAt: Date

    init(drop: DropRecord, deliveries: [DeliveryRecord], now: Date) {
        dropId = drop.id
        pipeline = drop.pipeline
        state = drop.state.rawValue
        clip = drop.clipPath
        sidecar = drop.sidecarPath
        if let code = drop.reasonCode { reason = DropReport.Reason(code: code, message: drop.reasonMessage ?? "", location: drop.reasonLocation) }
        updatedAt = now
        targets = deliveries.map { d in
            var t = Target(
                target: d.target, state: d.state.rawValue, plan: d.plan.rawValue, bytesSent: d.bytesSent, bytesTotal: d.renditionBytes,
                url: d.remoteUrl)
            if let total = d.renditionBytes, total > 0 { t.percent = Int(min(100, d.bytesSent * 100 / total)) }
            if d.state == .published { t.percent = 100 }
            if !d.state.isTerminal, let until = d.notBefore, until > now.timeIntervalSince1970 {
                t.waitingUntil = Date(timeIntervalSince1970: until)
                t.waitingFor = d.gate.map { "\($0): \(d.errorMessage ?? "")" } ?? "its schedule"
            }
            if d.state == .failed || d.state == .cancelled, let code = d.errorCode {
                t.error = DropReport.Reason(code: code, message: d.errorMessage ?? "", location: nil)
            }
            return t
        }
        switch drop.state {
        case .received: stage = "validating"
        case .validated: stage = deliveries.contains { $0.state == .planned } ? "converting" : "queued"
        case .converted:
            stage =
                deliveries.contains { $0.state == .uploading }
                ? "uploading"
                : deliveries.allSatisfy(\.state.isTerminal) ? "archiving" : "queued"
        case .rejected: stage = "archiving"
        case .archived, .failed, .withdrawn: stage = "done"
        }
        switch drop.state {
        case .archived: result = "\(drop.id).result.json"
        case .failed: result = "failed/\(drop.id).failure.json"
        default: result = nil
        }
        markers =
            drop.state.isTerminal
            ? (drop.state == .withdrawn ? [:] : ["retry": "touch \(drop.state == .failed ? "failed/\(drop.id)" : "the drop's archive folder")/RETRY"])
            : ["cancel": "touch outbox/\(drop.id).CANCEL"]
    }

    static func url(_ dropId: String, paths: PipelinePaths) -> URL { paths.outbox.appendingPathComponent("\(dropId).status.json") }
}

/// Rewrites the status files of drops that moved: the ledger's observer marks a drop as changed, and
/// one writer loop writes each changed drop's file a quarter second after it moved, and at most once a
/// second (a burst of transitions is one write); while uploads run, their drops' files are refreshed every 2 s for the byte counts.
package final class DropStatusFiles: @unchecked Sendable {
    private let lock = NSLock()
    private var dirty = Set<String>()
    private var tickPending = false
    private var readCount = 0
    /// The running writer's doorbell. A stream per run: one that ended with a cancelled run (a reload, a
    /// `--once` pass) is never iterated again.
    private var bell: AsyncStream<Void>.Continuation?

    package init() {}

    /// How many times the writer read a drop and its deliveries: once a write, and once each time a just
    /// rejected drop's write waited for its filing (a filing slower than `filingGrace` under load is
    /// written as it stands, then again filed) — what a test of the ledger's reads counts on.
    package var reads: Int { lock.withLock { readCount } }

    /// A drop moved (called from the ledger's observer: cheap, never blocks).
    package func changed(_ dropId: String?) {
        guard let dropId else { return }
        let bell = lock.withLock {
            _ = dirty.insert(dropId)
            return self.bell
        }
        bell?.yield()
    }

    private func take() -> Set<String> {
        lock.withLock {
            let out = dirty
            dirty.removeAll()
            return out
        }
    }

    func run(_ ctx: PipelineContext) async {
        let (rings, bell) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        lock.withLock { self.bell = bell }
        bell.yield()
        defer { lock.withLock { if self.bell != nil { self.bell = nil } } }
        var lastPass: ContinuousClock.Instant? = nil
        for await _ in rings {
            // A quarter second after the ring, and a second after the last pass: through a burst (a
            // thousand drops answered) each file is rewritten once a second at most, not at each of
            // its drop's steps — each rewrite is a new file (issue 30).
            let due = max(ContinuousClock.now + .milliseconds(250), lastPass.map { $0 + .seconds(1) } ?? .now)
            try? await Task.sleep(until: due)
            lastPass = .now
            for id in take() { write(id, ctx) }
            // Progress while bytes move: the uploading drops again in 2 s. No upload, no timer: an idle
            // daemon is woken by nothing here.
            if lock.withLock({ () -> Bool in
                if tickPending { return false }
                tickPending = true
                return true
            }) {
                Task {
                    try? await Task.sleep(for: .seconds(2))
                    lock.withLock { tickPending = false }
                    let uploading = (try? ctx.ledger.deliveries(in: [.uploading], limit: 200)) ?? []
                    for d in uploading { changed(d.dropId) }
                }
            }
        }
        // Stopping (or `--once` done): what moved last is written too, as it stands.
        for id in take() { write(id, ctx, waiting: false) }
    }

    /// How long a rejected drop's status waits for its filing before it is written as it stands.
    static let filingGrace: Double = 2

    func write(_ id: String, _ ctx: PipelineContext, waiting: Bool = true) {
        lock.withLock { readCount += 1 }
        guard let found = try? ctx.ledger.dropWithDeliveries(id) else { return }
        let (drop, deliveries) = found
        // A drop rejected a moment ago is being filed this moment: its file is written once, filed (the next
        // pass), rather than once "archiving" and again "done" — a new file each (issue 30). One still
        // rejected after that (its filing failed) is written as it stands.
        if waiting, drop.state == .rejected, ctx.now.timeIntervalSince1970 - drop.updatedAt < Self.filingGrace {
            changed(id)
            return
        }
        // A withdrawn drop is not the editor's: its files come in again as a new drop, with its own file.
        if drop.state == .withdrawn {
            try? FileManager.default.removeItem(at: DropStatusFile.url(id, paths: ctx.paths))
            return
        }
        let status = DropStatusFile(drop: drop, deliveries: deliveries, now: ctx.now)
        guard let data = try? JSONCoding.encoder().encode(status) else { return }
        do {
            // A view of the ledger, rewritten at the drop's next move: replaced whole, not flushed each time.
            try SafeFiles.writeAtomically(data, to: DropStatusFile.url(id, paths: ctx.paths), durable: false)
        } catch {
            ctx.logger.warning("could not write a drop's status file", metadata: ["omnipost.drop": "\(id)", "error": "\(error)"])
        }
    }
}
