import Foundation

extension SandboxState {
    /// Platforms whose grants lack the permission their insights API needs, as when a person unticked it at
    /// consent (YouTube's `yt-analytics.readonly`, Instagram's `instagram_business_manage_insights`): every
    /// insights call of theirs is refused the way the platform refuses it.
    struct InsightsWorld: PlatformWorld {
        var withheld: Set<String> = []
    }

    /// The accounts of `platform` lose the insights permission (true) or have it again (false).
    package func withholdInsights(platform: String, _ withheld: Bool = true) {
        if withheld {
            self[InsightsWorld.self].withheld.insert(platform)
        } else {
            self[InsightsWorld.self].withheld.remove(platform)
        }
    }

    func insightsWithheld(platform: String) -> Bool { self[InsightsWorld.self].withheld.contains(platform) }
}
