import Foundation
import OmniPostLedger
import OmniPostPipeline
import Testing

extension TestPipelines {
    /// One drop through a sandboxed pipeline run once: `targets` (the list inside `targets: […]`), the
    /// clip (a small one unless given) under `stem` with its sidecar, `extra` pipeline lines (accounts).
    /// Every delivery must be published; `body` reads what the run left, and the pipeline is closed after.
    static func publishOnce<T>(
        _ dir: TempDir, root: URL? = nil, targets: String, extra: String = "", clip: URL? = nil, stem: String = "walk",
        sidecar: String, _ body: (Pipeline, [DeliveryRecord]) async throws -> T
    ) async throws -> T {
        let config = try config(root: root ?? dir.url, extra: extra, targets: "targets: [\(targets)]")
        try drop(try clip ?? Clips.make(width: 320, height: 240, seconds: 1), as: stem, sidecar: sidecar, into: config)
        let p = try await runOnce(config)
        return try await stopping(p) {
            let deliveries = try p.context.ledger.allDeliveries()
            let drops = try p.context.ledger.drops()
            #expect(
                !deliveries.isEmpty && deliveries.allSatisfy { $0.state == .published },
                "\(deliveries.map { "\($0.target) \($0.state) \($0.errorMessage ?? "")" }) \(drops.map { "\($0.state) \($0.reasonMessage ?? "")" })")
            return try await body(p, deliveries)
        }
    }
}
