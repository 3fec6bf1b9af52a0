import Foundation
import Logging
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// The middleware every verb passes through, on a real adapter against its sandbox: a verb that stalls
/// is stopped at its limit and handed on as a network failure that says so; every verb leaves one debug
/// line (platform, verb, how it ended, how long it took).
@Suite struct UploadMiddlewareTests {
    static let meta = PublishMetadata(title: "middleware", description: "around every verb", tags: [], privacy: .public, publishAt: nil, options: [:])

    /// A LogHandler that keeps every event it is given.
    final class Captured: LogHandler, @unchecked Sendable {  // guarded by its lock
        private let lock = NSLock()
        private var events: [LogEvent] = []
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { lock.withLock { events.append(event) } }
        var all: [LogEvent] { lock.withLock { events } }
    }

    /// X's post is answered only after 50 s while one request may take a minute: the post verb, limited to
    /// 5 s, is stopped and reported as `network_error` naming the platform, the verb and the limit — the
    /// stage's to retry (and the next attempt reconciles: the post may exist). The hold is far past the
    /// limit so that a machine too busy to run the limit's timer for a few seconds cannot let the answer
    /// through first (a 4 s hold against a 1 s limit did, once, in a loaded full run); clearing the fault
    /// then lets it go. The limit is every verb's (the settings have one): 5 s, not 1, so a start or a part
    /// slowed by a loaded machine is not stopped before the post is reached.
    @Test(.timeLimit(.minutes(1))) func aVerbThatStallsIsStoppedAtItsLimitAsANetworkFailure() async throws {
        let dir = try TempDir()
        let rig = try await PlatformRig.make(XPlatform.self, dir, size: 300_000) { settings in
            var s = settings
            s.requestTimeout = .seconds(60)
            s.verbTimeout = .seconds(5)
            return XAdapter(s, defaultPollWait: .milliseconds(20))
        }
        try await stopping(rig.server) {
            await rig.state.setFaults(.init(finalReplyDelayMs: 50_000))
            let e = try await #require(throws: DeliveryError.self) {
                _ = try await rig.adapter.deliver(rig.job(Self.meta), checkpoint: { _ in }, progress: { _, _ in })
            }
            await rig.state.setFaults(.init())
            #expect(e.kind == .retryNow && e.code == .networkError, "\(e)")
            #expect(e.message == "X did not finish post within 5 s; it was stopped and is tried again", "\(e.message)")
            // Every verb before it ran to its end: the file is held, the post was asked for once.
            #expect(await rig.state.requestCounts["x.tweet", default: 0] == 1)
        }
    }

    /// One debug line per verb through the adapter's logger, in the order the engine calls them, each
    /// with its platform, verb, status and duration.
    @Test func everyVerbLeavesOneDebugLine() async throws {
        let dir = try TempDir()
        let captured = Captured()
        let rig = try await PlatformRig.make(XPlatform.self, dir, size: 9 * 1_048_576) { settings in
            var s = settings
            s.logger = Logger(label: "test.upload", factory: { _ in captured })
            return XAdapter(s, defaultPollWait: .milliseconds(20))
        }
        try await stopping(rig.server) {
            let out = try await rig.adapter.deliver(rig.job(Self.meta), checkpoint: { _ in }, progress: { _, _ in })
            let lines = captured.all.filter { $0.metadata?["verb"] != nil }
            let verbs = lines.map { "\($0.metadata?["verb"] ?? "")" }
            // INIT, three 4 MiB segments, FINALIZE, the post (X's processing of a small file is done at once).
            #expect(verbs.first == "start" && verbs.filter { $0 == "part" }.count == 3 && verbs.contains("finish") && verbs.last == "post", "\(verbs)")
            for l in lines {
                #expect(l.level == .debug)
                #expect(l.metadata?["platform"] == "x" && l.metadata?["status"] == "ok", "\(l.message)")
                #expect(Int("\(l.metadata?["duration_ms"] ?? "")") != nil, "\(l.message)")
                #expect("\(l.message)".hasPrefix("x \(l.metadata?["verb"] ?? "") ok in "), "\(l.message)")
            }
            #expect(!out.remoteId.isEmpty)
            // A failure is logged with its reason code.
            await rig.state.setFaults(.init(failInits: [400]))
            _ = try? await rig.adapter.deliver(rig.job(Self.meta), checkpoint: { _ in }, progress: { _, _ in })
            let refused = captured.all.last { $0.metadata?["verb"] == "start" }
            #expect(refused?.metadata?["status"] == "rejected_by_platform", "\(String(describing: refused?.message))")
        }
    }
}
