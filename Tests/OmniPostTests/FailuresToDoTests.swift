import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// The failures page as a to-do list, and the drops history, after real runs against the sandbox: a
/// drop partly published (X could not process it), two sidecars with a typo. The failures show each
/// failed delivery's own reason; one is acknowledged through the API and one through the dashboard's
/// form (both stay in the ledger, behind the "acknowledged" filter); a retry that publishes and a
/// corrected drop of the same name take theirs off the list. The history page searches by name,
/// target, state and date, and pages; a drop's page shows what each target was sent.
@Suite struct FailuresToDoTests {
    static func call(_ url: String, method: HTTPMethod = .GET, bearer: String? = nil) async throws -> DashboardTests.Answer {
        var req = HTTPClientRequest(url: url)
        req.method = method
        if let bearer { req.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        let r = try await DashboardTests.client.execute(req, timeout: .seconds(30))
        return .init(status: Int(r.status.code), headers: r.headers, body: String(buffer: try await r.body.collect(upTo: 8 << 20)))
    }

    static func items(_ body: String) throws -> [[String: Any]] {
        (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["items"] as? [[String: Any]] ?? []
    }

    @Test(.timeLimit(.minutes(6))) func failuresAreAToDoListAndTheHistorySearches() async throws {
        let dir = try TempDir()
        let token = "todo-token-0123456789abcdef"
        chmod(try dir.write("token", token + "\n").path, 0o600)
        let config = try TestPipelines.config(
            root: dir.url, extra: "http: {listen: \"127.0.0.1:0\", token_file: \(dir.url.path)/token, loopback_reads: open}",
            targets: "targets: [youtube:main, x:main]")
        try TestPipelines.drop(
            try Clips.make(width: 640, height: 360, seconds: 2), as: "partial",
            sidecar: "title: Sunrise over the lake\ndescription: Shot at six\ntags: [lake, sunrise]\nprivacy: public\n", into: config)
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "typo", sidecar: "title: a typo below\ntitel: typo\n", into: config)
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1.2), as: "noted", sidecar: "title: noted\nprivcy: public\n", into: config)
        let p = try await TestPipelines.runOnce(config, timeout: .seconds(180)) { p in
            await p.sandbox!.state.setFaults(.init(failProcessing: "the platform could not process the video"))
        }
        try await stopping(p) {
            let ledger = p.context.ledger
            let base = "http://127.0.0.1:\(try #require(p.listener).port)"
            let partial = try #require(try ledger.drops().first { $0.stem == "partial" })
            let typo = try #require(try ledger.drops().first { $0.stem == "typo" })
            let noted = try #require(try ledger.drops().first { $0.stem == "noted" })
            let xFailed = try #require(try ledger.deliveries(forDrop: partial.id).first { $0.target == "x:main" })
            #expect(partial.state == .failed && xFailed.state == .failed && typo.state == .failed && noted.state == .failed)

            // The to-do list: three items; the partly published drop's reason is X's own code and sentence.
            let first = try FailureList.gather(ledger: ledger)
            #expect(Set(first.open.map(\.id)) == [partial.id, typo.id, noted.id], "\(first.open.map(\.id))")
            let partialItem = try #require(first.open.first { $0.id == partial.id })
            #expect(partialItem.reasons.count == 1 && partialItem.reasons[0].target == "x:main")
            #expect(partialItem.reasons[0].code == xFailed.errorCode && partialItem.reasons[0].code != "failed" && partialItem.reasons[0].message.contains("could not process"))
            let typoItem = try #require(first.open.first { $0.id == typo.id })
            #expect(typoItem.reasons.first?.code == "unknown_key" && typoItem.reasons.first?.location?.contains(":2:") == true, "\(typoItem.reasons)")
            let page = try await DashboardTests.http(base + "/failures")
            #expect(page.body.contains("id=\"drop-\(partial.id)\"") && page.body.contains(xFailed.errorCode ?? "?") && page.body.contains("Failures (3)"), "\(page.body)")

            // Acknowledged through the API: it leaves the list, and is shown behind the filter.
            #expect(try await Self.call(base + "/api/v1/acknowledge/\(noted.id)", method: .POST).status == 401, "needs the token")
            let ack = try await Self.call(base + "/api/v1/acknowledge/\(noted.id)", method: .POST, bearer: token)
            #expect(ack.status == 200 && ack.body.contains("acknowledged"), "\(ack.status) \(ack.body)")
            #expect(try await Self.call(base + "/api/v1/acknowledge/no-such-drop", method: .POST, bearer: token).status == 404)
            let published = try #require(try ledger.deliveries(forDrop: partial.id).first { $0.target == "youtube:main" })
            #expect(
                try await Self.call(base + "/api/v1/acknowledge/\(published.id!)", method: .POST, bearer: token).status == 409, "a published delivery has nothing to acknowledge")
            let open = try Self.items(try await Self.call(base + "/api/v1/failures").body)
            let acked = try Self.items(try await Self.call(base + "/api/v1/failures?acknowledged=true").body)
            #expect(Set(open.compactMap { $0["id"] as? String }) == [partial.id, typo.id])
            #expect(acked.compactMap { $0["id"] as? String } == [noted.id] && acked.first?["acknowledged_at"] != nil)
            #expect(try await Self.call(base + "/api/v1/failures?acknowledged=maybe").status == 400)
            let behind = try await DashboardTests.http(base + "/failures?acknowledged=1")
            #expect(behind.body.contains("id=\"drop-\(noted.id)\"") && !behind.body.contains("id=\"drop-\(typo.id)\""))
            #expect(try ledger.drop(noted.id)?.state == .failed, "acknowledging deletes nothing")

            // Acknowledged through the dashboard's form: a session and its CSRF value.
            let signIn = try await DashboardTests.http(base + "/login", method: .POST, form: ["token": token, "back": "/failures"])
            let cookie = String(try #require(signIn.headers["Set-Cookie"].first).split(separator: ";")[0])
            let signedIn = try await DashboardTests.http(base + "/failures", cookie: cookie)
            #expect(signedIn.body.contains("button class=\"acknowledge\""))
            let csrf = try #require(
                signedIn.body.range(of: #"name="csrf" value="([^"]+)""#, options: .regularExpression).map { m in
                    String(signedIn.body[m]).components(separatedBy: "value=\"")[1].dropLast()
                })
            #expect(try await DashboardTests.http(base + "/ui/acknowledge", method: .POST, form: ["id": typo.id], cookie: cookie).status == 403)
            let done = try await DashboardTests.http(base + "/ui/acknowledge", method: .POST, form: ["id": typo.id, "csrf": String(csrf), "back": "/failures"], cookie: cookie)
            #expect(done.status == 303 && done.headers["Location"].first?.contains("said=") == true, "\(done.status) \(done.headers)")
            #expect(try FailureList.gather(ledger: ledger).open.map(\.id) == [partial.id])
            // The banner saying what was done sits inside the page's content column.
            let after = try await DashboardTests.http(base + (done.headers["Location"].first ?? "/failures"), cookie: cookie)
            let mainStart = try #require(after.body.range(of: "<main")), said = try #require(after.body.range(of: "class=\"said\""))
            #expect(said.lowerBound > mainStart.lowerBound && after.body.contains("acknowledged"))

            // A retry that publishes takes the partly published drop off; a corrected drop of the same name takes the typo's.
            _ = try QueueControl(config: config, ledger: ledger).retry(partial.id)
            await p.sandbox!.state.setFaults(.init())
            try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1.4), as: "typo", sidecar: "title: fixed\nprivacy: public\n", into: config)
            try await RetryTests.runAgain(p)
            let second = try FailureList.gather(ledger: ledger)
            #expect(second.open.isEmpty, "\(second.open.map { "\($0.stem) \($0.reasons)" })")
            #expect(second.superseded[partial.id] != nil && second.superseded[typo.id] != nil, "\(second.superseded)")
            #expect(second.acknowledged.map(\.id) == [noted.id], "an acknowledged failure stays behind its filter")
            #expect(!(try await DashboardTests.http(base + "/failures")).body.contains("Failures ("), "nothing left to do")

            // History: by name, target, state, date; newest first, paged in a stable order.
            let all = try ledger.drops()
            let byName = try await DashboardTests.http(base + "/drops?name=TYP")
            #expect(byName.status == 200 && byName.body.components(separatedBy: "<tr id=\"row-").count - 1 == 2, "both typo drops")
            #expect(byName.body.contains("href=\"/drops\"") || byName.body.contains("href=\"/drops?"), "linked from the nav")
            let rejected = try await DashboardTests.http(base + "/drops?state=failed")
            #expect(rejected.body.components(separatedBy: "<tr id=\"row-").count - 1 == all.filter { $0.state == .failed }.count)
            let onX = try await DashboardTests.http(base + "/drops?target=x:main")
            #expect(onX.body.components(separatedBy: "<tr id=\"row-").count - 1 == 3, "the partial drop, its retry and the corrected typo")
            let tomorrow = Date().addingTimeInterval(2 * 86400)
            let f = DateFormatter()
            f.dateFormat = "yyyy-MM-dd"
            #expect(try await DashboardTests.http(base + "/drops?from=\(f.string(from: tomorrow))").body.contains("No drop matches"))
            #expect(try await DashboardTests.http(base + "/drops?from=yesterday").body.contains("is not a date"))
            var q = Ledger.DropQuery()
            q.limit = 2
            let p1 = try ledger.searchDrops(q)
            q.offset = 2
            let p2 = try ledger.searchDrops(q)
            q.offset = 4
            let p3 = try ledger.searchDrops(q)
            let paged = (p1.drops + p2.drops + p3.drops).map(\.id)
            #expect(p1.total == all.count && paged.count == all.count && Set(paged).count == all.count)
            #expect(paged == all.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.map(\.id), "newest first")

            // A drop's page: what each target was sent, and the platform's post id and link.
            let retried = try #require(all.first { $0.stem == "partial" && $0.id != partial.id })
            let dropPage = try await DashboardTests.http(base + "/drops/\(retried.id)")
            let x = try #require(try ledger.deliveries(forDrop: retried.id).first { $0.target == "x:main" })
            #expect(
                dropPage.body.contains("<dd class=\"post-title\">Sunrise over the lake</dd>") && dropPage.body.contains("Shot at six")
                    && dropPage.body.contains("lake, sunrise") && dropPage.body.contains("<dd class=\"post-privacy\">public</dd>"), "\(dropPage.body)")
            let postId = try #require(x.remoteId)
            #expect(x.state == .published && dropPage.body.contains(postId))
        }
    }
}
