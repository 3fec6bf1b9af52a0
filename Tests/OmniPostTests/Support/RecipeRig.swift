import Foundation
import Logging
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// A platform driven through its recipe, in real headless Chromium against the sandbox's replica of its
/// creator page (XiaohongshuTests, WeChatChannelsTests): the replica's faults set, an override recipe
/// where a test gives one, failures' evidence kept in the run's folder.
enum RecipeRig {
    /// The adapter's browser settings for a test: its own profiles, the sandbox's made-up session.
    static func browsing(_ settings: AdapterSettings, evidence: URL? = nil) -> AdapterSettings {
        var s = settings
        let seed = BrowserSettings.sandboxSeed(settings.account).map { [settings.account.key: $0] } ?? [:]
        s.browser = BrowserSettings(
            profiles: FileManager.default.temporaryDirectory.appendingPathComponent("omnipost-browser-\(UUID().uuidString.prefix(8))"),
            evidence: evidence, cookies: MemoryCookieStore(seed))
        return s
    }

    /// What the adapter logged of its browser sessions: each one's peak memory (bytes) and length (s).
    final class Costs: LogHandler, @unchecked Sendable {
        private let lock = NSLock()
        private var seen: [(bytes: Int64, seconds: Double)] = []
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            guard let b = event.metadata?["omnipost.browser.peak_bytes"].flatMap({ Int64("\($0)") }),
                let s = event.metadata?["omnipost.browser.seconds"].flatMap({ Double("\($0)") })
            else { return }
            lock.withLock { seen.append((b, s)) }
        }
        var sessions: [(bytes: Int64, seconds: Double)] { lock.withLock { seen } }
    }

    static func run(
        _ fixture: ConformanceFixture, faults: SandboxState.ReplicaFaults = .init(), recipe: String? = nil, costs: Costs? = nil,
        _ body: (ConformanceRig, RecipeAdapter, URL) async throws -> Void
    ) async throws {
        try await ConformanceRig.with(fixture) { rig in
            await rig.state.setReplicaFaults(fixture.module.descriptor.name, faults)
            var settings = rig.settings
            if let costs { settings.logger = Logger(label: "recipe-rig") { _ in costs } }
            if let recipe {
                let file = try rig.dir.write("override.yaml", recipe)
                var account = settings.account
                account.settings["recipe"] = AccountSetting(DocNode(node: .init(file.path), file: "p.yaml", invalidCode: .configInvalid))
                settings.account = account
            }
            let evidence = rig.dir.file("outbox/failed")
            try await body(rig, RecipeAdapter(browsing(settings, evidence: evidence)), evidence)
        }
    }

    /// The delivery's failure, as the upload stage gets it.
    static func failure(_ rig: ConformanceRig, _ adapter: RecipeAdapter) async throws -> DeliveryError {
        do {
            try await rig.deliver(with: adapter)
        } catch let e as DeliveryError {
            return e
        }
        Issue.record("the delivery did not fail")
        return DeliveryError(.permanent, .internalError, "no failure")
    }

    static func screenshots(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".png") }
    }

    /// The bundled recipe of `platform` with `edits` (old, new) made: a user's override file.
    static func override(_ platform: String, _ edits: [(String, String)]) -> String {
        let bundled = try! String(contentsOf: Bundle.module.url(forResource: platform, withExtension: "yaml", subdirectory: "recipes")!, encoding: .utf8)
        return edits.reduce(bundled) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }
}
