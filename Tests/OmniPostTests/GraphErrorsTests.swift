import AsyncHTTPClient
import Foundation
import NIOHTTP1
import OmniPostCore
@testable import OmniPostPlatforms
import Testing

/// Instagram, Facebook and Threads read Graph errors through one table (`GraphErrors.meta`): the error
/// codes, Instagram's documented subcodes and Threads' container reasons. A row changed in it changes
/// what the classifier and the containers do.
@Suite struct GraphErrorsTests {
    static func graph(_ platform: String, errors: GraphErrors = .meta) -> GraphAPI {
        let account = AccountConfig(key: "\(platform):t", platform: platform, clientID: "c", clientSecret: "s", refreshToken: "r", endpoint: "", tokenURL: "")
        let settings = AdapterSettings(
            account: account, tokens: TokenProvider(account: account, http: HTTPClient.shared, store: MemoryTokenStore()),
            http: HTTPClient.shared, chunkSize: 1 << 20)
        var g = GraphAPI(settings: settings, name: platform)
        g.errors = errors
        return g
    }

    static func reply(_ status: Int, code: Int, subcode: Int? = nil) -> AuthorizedHTTP.Reply {
        let sub = subcode.map { ", \"error_subcode\": \($0)" } ?? ""
        return AuthorizedHTTP.Reply(status: status, headers: HTTPHeaders(), body: Data("{\"error\": {\"message\": \"m\", \"code\": \(code)\(sub)}}".utf8))
    }

    /// The codes as Meta documents them, for each of the family: a refused token, a request limit, a passing
    /// fault, a policy block.
    @Test(arguments: ["instagram", "facebook", "threads"]) func theFamilyClassifiesByOneTable(_ platform: String) {
        let g = Self.graph(platform)
        #expect(g.classify(Self.reply(400, code: 190), during: "x").kind == .reauthenticate)
        #expect(g.classify(Self.reply(400, code: 80002), during: "x").code == .rateLimited)
        #expect(g.classify(Self.reply(400, code: 2), during: "x").kind == .retryNow)
        #expect(g.classify(Self.reply(400, code: 368), during: "x").kind == .permanent)
    }

    /// Threads' container reasons: a fetch of our link that failed, or no reason given, makes a new
    /// container; the media's own faults do not.
    @Test func threadsReasonsAreRowsOfTheSameTable() {
        let t = GraphErrors.meta
        #expect(t.action(forReason: "FAILED_DOWNLOADING_VIDEO: the video_url answered 404") == .newContainer)
        #expect(t.action(forReason: "unknown") == .newContainer)
        #expect(t.action(forReason: "INVALID_DURATION") == .permanent && t.action(forReason: nil) == .permanent)
        let container = GraphContainer(graph: Self.graph("threads"), stateField: "status", reasonField: "error_message", noun: "the video")
        #expect(container.renewable("FAILED_DOWNLOADING_VIDEO") && !container.renewable("FAILED_PROCESSING_VIDEO"))
    }

    /// The table is data: a code, a subcode or a reason moved to another row moves the decision with it.
    @Test func aChangedRowMovesTheDecision() {
        var t = GraphErrors.meta
        t.codes[368] = .retry
        t.subcodes[2207026] = GraphErrors.Row(action: .newContainer, meaning: "try the format again")
        t.reasons["FAILED_PROCESSING_VIDEO"] = .newContainer
        #expect(Self.graph("facebook", errors: t).classify(Self.reply(400, code: 368), during: "x").kind == .retryNow)
        let ig = GraphContainer(graph: Self.graph("instagram", errors: t), stateField: "status_code", reasonField: "status", noun: "the reel")
        #expect(ig.renewable("Error: Media upload has failed with error code 2207026"))
        #expect(ig.explain("error code 2207026").contains("try the format again"))
        #expect(
            !GraphContainer(graph: Self.graph("instagram"), stateField: "status_code", reasonField: "status", noun: "the reel")
                .renewable("Error: Media upload has failed with error code 2207026"))
        let threads = GraphContainer(graph: Self.graph("threads", errors: t), stateField: "status", reasonField: "error_message", noun: "the video")
        #expect(threads.renewable("FAILED_PROCESSING_VIDEO"))
    }
}
