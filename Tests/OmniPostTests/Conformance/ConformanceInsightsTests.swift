import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Numbers from a platform's second API (issue 25), once for every platform whose descriptor names one
/// (`descriptor.insights`: YouTube Analytics, Instagram's and Threads' media insights, a Facebook video's
/// insights): they come back under our metric names and grow with the sandbox's clock; a post the platform
/// no longer shows has none (not an error); a grant without the permission is `insights_not_granted`.
@Suite struct ConformanceInsightsTests {
    static let fixtures = ConformanceFixture.all
    static let reading = fixtures.filter { $0.module.descriptor.insights != nil }

    /// The value of one of our metric names (`Insights.gives`) in a reading.
    static func value(_ name: String, _ m: PostMetrics) -> Double? {
        switch name {
        case "views": return m.views.map(Double.init)
        case "likes": return m.likes.map(Double.init)
        case "comments": return m.comments.map(Double.init)
        case "shares": return m.shares.map(Double.init)
        case "saves": return m.saves.map(Double.init)
        case "reach": return m.reach.map(Double.init)
        case "watch_seconds": return m.watchSeconds
        case "average_view_seconds": return m.averageViewSeconds
        default: return nil
        }
    }

    @Test func everySecondAPINamesItsPermissionAndWhatItGives() {
        #expect(Set(Self.reading.map(\.name)) == ["youtube", "instagram", "facebook", "threads", "linkedin", "bilibili"])
        for f in Self.reading {
            let i = try! #require(f.module.descriptor.insights)
            #expect(!i.permission.isEmpty && !i.gives.isEmpty && !i.api.isEmpty, "\(f.name)")
            #expect(
                i.gives.allSatisfy {
                    Self.value($0, PostMetrics()) == nil && ["views", "likes", "comments", "shares", "saves", "reach", "watch_seconds", "average_view_seconds"].contains($0)
                })
            // The consent asks for it, and a grant without it is still stored: publishing does not need it.
            let oauth = try! #require(f.module.descriptor.oauth)
            #expect(oauth.insightsScopes.contains(i.permission) && oauth.requestedScopes.contains(i.permission) && !oauth.scopes.contains(i.permission), "\(f.name)")
            print("conformance: \(f.name) insights \(i.api) (\(i.permission)): \(i.gives.joined(separator: ", "))")
        }
    }

    @Test(.timeLimit(.minutes(2)), arguments: reading)
    func aPostsSecondAPINumbersComeUnderOurNamesAndGrow(_ f: ConformanceFixture) async throws {
        let insights = try #require(f.module.descriptor.insights)
        try await ConformanceRig.with(f) { rig in
            let out = try await rig.deliver()
            let ref = PostRef(remoteId: out.remoteId, url: out.url, asked: .public)
            await rig.state.advanceClock(by: 3600)
            let first = try #require(try await rig.adapter().readInsights([ref])[out.remoteId], "\(f.name): no insights for \(out.remoteId)")
            for name in insights.gives { #expect(Self.value(name, first) != nil, "\(f.name): \(name) missing in \(first)") }
            await rig.state.advanceClock(by: 86_400)
            let later = try #require(try await rig.adapter().readInsights([ref])[out.remoteId])
            for name in insights.gives { #expect((Self.value(name, later) ?? 0) >= (Self.value(name, first) ?? 0), "\(f.name): \(name) fell") }
            let grew = insights.gives.contains { (Self.value($0, later) ?? 0) > (Self.value($0, first) ?? 0) }
            #expect(grew, "\(f.name): \(first) → \(later)")
            // Each of the platform's own numbers is taken as given: reach (unique accounts) under views.
            if let reach = later.reach, let views = later.views { #expect(reach < views, "\(f.name): reach \(reach), views \(views)") }
        }
    }

    @Test(.timeLimit(.minutes(2)), arguments: reading)
    func aPostThePlatformTookDownHasNoInsights(_ f: ConformanceFixture) async throws {
        let cases = try #require(f.readBackCases.value)
        try await ConformanceRig.with(f) { rig in
            let out = try await rig.deliver()
            try await cases.takeDown(rig, out)
            let read = try await rig.adapter().readInsights([PostRef(remoteId: out.remoteId, url: out.url, asked: .public)])
            #expect(read[out.remoteId] == nil, "\(f.name): \(read)")
        }
    }

    @Test(.timeLimit(.minutes(2)), arguments: reading)
    func aGrantWithoutTheInsightsPermissionIsInsightsNotGranted(_ f: ConformanceFixture) async throws {
        try await ConformanceRig.with(f) { rig in
            let out = try await rig.deliver()
            await rig.state.withholdInsights(platform: f.name)
            do {
                _ = try await rig.adapter().readInsights([PostRef(remoteId: out.remoteId, url: out.url, asked: .public)])
                Issue.record("\(f.name): the refused read did not throw")
            } catch let e as DeliveryError {
                #expect(e.code == .insightsNotGranted && e.kind == .permanent, "\(f.name): \(e)")
                #expect(e.message.contains(try #require(f.module.descriptor.insights).permission), "\(f.name): \(e.message)")
            }
        }
    }
}
