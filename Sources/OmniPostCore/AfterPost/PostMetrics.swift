import Foundation

/// A post's numbers as its platform reports them at one moment. Each is nil where the platform's read
/// API does not offer it (Bluesky has no view count; S3 has none at all), never a made-up zero.
package struct PostMetrics: Sendable, Codable, Equatable {
    /// Views or plays, as the platform counts them.
    package var views: Int64?
    package var likes: Int64?
    package var comments: Int64?
    /// Shares, reposts, retweets.
    package var shares: Int64?
    /// Saves, bookmarks, favourites kept for later.
    package var saves: Int64?
    /// Total watch time, in seconds.
    package var watchSeconds: Double?
    /// Average view duration, in seconds.
    package var averageViewSeconds: Double?
    /// Accounts that saw the post (Instagram's `reach`), each counted once by the platform: a reading
    /// keeps the platform's number as given — never a sum of readings, never added to views.
    package var reach: Int64?

    package init(
        views: Int64? = nil, likes: Int64? = nil, comments: Int64? = nil, shares: Int64? = nil, saves: Int64? = nil,
        watchSeconds: Double? = nil, averageViewSeconds: Double? = nil, reach: Int64? = nil
    ) {
        self.reach = reach
        self.views = views
        self.likes = likes
        self.comments = comments
        self.shares = shares
        self.saves = saves
        self.watchSeconds = watchSeconds
        self.averageViewSeconds = averageViewSeconds
    }

    /// These numbers with the gaps filled from `other` (a second API's reading of the same post at the same
    /// moment). A number this reading has is kept: the post's own read is the fresher one (YouTube Analytics
    /// lags `videos.list` by up to two days), and nothing is ever added up across the two.
    package func filled(from other: PostMetrics) -> PostMetrics {
        PostMetrics(
            views: views ?? other.views, likes: likes ?? other.likes, comments: comments ?? other.comments,
            shares: shares ?? other.shares, saves: saves ?? other.saves, watchSeconds: watchSeconds ?? other.watchSeconds,
            averageViewSeconds: averageViewSeconds ?? other.averageViewSeconds, reach: reach ?? other.reach)
    }

    /// Interactions a person made with the post: likes, comments, shares and saves, where offered.
    package var interactions: Int64 { (likes ?? 0) + (comments ?? 0) + (shares ?? 0) + (saves ?? 0) }

    /// Interactions per view (README, "After the post"); nil where the platform gives no views or none yet,
    /// or counts no interactions at all (a Facebook video's insights): not a made-up 0 %.
    package var engagementRate: Double? {
        guard let v = views, v > 0, likes != nil || comments != nil || shares != nil || saves != nil else { return nil }
        return Double(interactions) / Double(v)
    }
}

/// What a platform's read endpoint showed of a post: in which privacy, whether it is still processing,
/// whether the platform locked it, when it goes public, and its numbers.
package struct SeenPost: Sendable, Codable, Equatable {
    /// Our privacy word for what the platform says (`public`, `unlisted`, `private`, `followers`,
    /// `friends`); nil where the read does not say (the post is then as public as the platform makes it).
    package var privacy: String?
    /// The platform still processes it (transcoding, a publish job not done).
    package var processing: Bool
    /// The platform made it private by itself (YouTube's lock on unverified API projects).
    package var locked: Bool
    /// When it goes public, where it is scheduled.
    package var scheduledFor: Date?
    package var metrics: PostMetrics?
    /// The platform's own words for the state it showed (`status.privacyStatus=public, uploadStatus=processed`).
    package var says: String

    package init(
        privacy: String?, processing: Bool = false, locked: Bool = false, scheduledFor: Date? = nil, metrics: PostMetrics? = nil, says: String
    ) {
        self.privacy = privacy
        self.processing = processing
        self.locked = locked
        self.scheduledFor = scheduledFor
        self.metrics = metrics
        self.says = says
    }
}
