import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Synchronization
import Testing

/// A browser account's pacing across hosts (issue 27): two hosts on one PostgreSQL ledger post the same
/// account — the second post starts only once the first has ended and its gap has passed; another
/// account is not held up; on SQLite nothing waits (the browser gate paces one process).
@Suite(.enabled(if: PostgresServer.available, "PostgreSQL is not installed (make test installs it)"))
struct SharedPacingTests {
    @Test(.timeLimit(.minutes(2))) func aSecondHostPostsTheAccountOnlyAfterTheFirstsGap() async throws {
        try await withPostgresDatabase { server, database in
            try await SharedLedgerHostsTests.twoHosts(server, database) { a, b in
                let (hostA, hostB) = (LedgerPacer(ledger: a), LedgerPacer(ledger: b))
                let endA = try await hostA.begin(account: "xiaohongshu:brand")
                // B asks while A posts: it waits.
                let begunB = Mutex<ContinuousClock.Instant?>(nil)
                let waiting = Task {
                    let end = try await hostB.begin(account: "xiaohongshu:brand")
                    begunB.withLock { $0 = .now }
                    return end
                }
                // Another account is not held up by A's post.
                let other = ContinuousClock.now
                try await hostB.begin(account: "xiaohongshu:other")(.zero)
                #expect(ContinuousClock.now - other < .seconds(1))
                try await Task.sleep(for: .milliseconds(500))
                #expect(begunB.withLock { $0 } == nil, "B posted while A was posting")
                // A's post ends; its gap is a second.
                let ended = ContinuousClock.now
                endA(.seconds(1))
                let endB = try await waiting.value
                let started = try #require(begunB.withLock { $0 })
                #expect(started - ended >= .milliseconds(950), "B began \(started - ended) after A's post ended, inside its 1 s gap")
                endB(.zero)
                // And A posts again at once: B's gap was nothing.
                let again = ContinuousClock.now
                try await hostA.begin(account: "xiaohongshu:brand")(.zero)
                #expect(ContinuousClock.now - again < .seconds(1))
            }
        }
        let alone = try await withLedger(.sqlite) { l in
            let start = ContinuousClock.now
            try await LedgerPacer(ledger: l).begin(account: "xiaohongshu:brand")(.seconds(60))
            try await LedgerPacer(ledger: l).begin(account: "xiaohongshu:brand")(.seconds(60))
            return ContinuousClock.now - start
        }
        #expect(alone < .seconds(1), "one machine: the browser gate paces, the ledger does not")
    }
}
