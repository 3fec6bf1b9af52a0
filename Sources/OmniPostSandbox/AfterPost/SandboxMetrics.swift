import Foundation

/// A post's numbers in the sandbox: a function of its id and its age alone, so a test with a moved
/// clock knows the series it must find. They grow fast in the first day and level off (most views of a
/// post come early), and every count is whole and never falls.
package struct SandboxMetrics: Sendable, Equatable {
    package var views: Int64
    package var likes: Int64
    package var comments: Int64
    package var shares: Int64
    package var saves: Int64
    /// Average view duration, seconds.
    package var averageViewSeconds: Double
    /// Total watch time, seconds.
    package var watchSeconds: Double { Double(views) * averageViewSeconds }
    /// Accounts that saw it (Instagram's `reach`): fewer than its views, since one account views more than once.
    package var reach: Int64 { views * 3 / 5 }
    /// Posts quoting it (Threads' `quotes`).
    package var quotes: Int64 { views / 1000 }

    package init(id: String, age: TimeInterval) {
        // FNV-1a: stable across runs and machines (Swift's hashValue is seeded per process).
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in id.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        let reach = Double(1000 + h % 9000)
        let grown = 1 - exp(-max(0, age) / 86_400)
        views = Int64((reach * grown).rounded(.down))
        let likeRate = 0.02 + Double((h >> 8) % 60) / 1000
        likes = Int64((Double(views) * likeRate).rounded(.down))
        comments = views / 200
        shares = views / 300
        saves = views / 250
        averageViewSeconds = Double(5 + (h >> 16) % 20)
    }
}
