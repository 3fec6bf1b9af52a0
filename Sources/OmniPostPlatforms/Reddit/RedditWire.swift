import Foundation

/// Reddit's request replies as typed bodies (reddit.com/dev/api): who the token is, the media lease,
/// the submit's answer (its errors inside an HTTP 200) and the account's submitted listing.
enum RedditWire {
    /// A refusal in Reddit's words: `message`, `explanation`, `reason` (`error` is a number, unused).
    struct Failure: Decodable {
        var message: String?
        var explanation: String?
        var reason: String?
    }

    /// `GET /api/v1/me`.
    struct Me: Decodable {
        var name: String
        var id: String?
    }

    /// `POST /api/media/asset.json`: an S3 POST policy (`args`) for one key, and the asset it becomes.
    struct Lease: Decodable {
        struct Args: Decodable {
            var action: String
            var fields: [Field]
        }
        struct Field: Decodable {
            var name: String
            var value: String?
        }
        struct Asset: Decodable {
            var asset_id: String
            var websocket_url: String?
        }
        var args: Args
        var asset: Asset
    }

    /// `POST /api/submit` with `api_type=json`: `{"json": {"errors": [[CODE, message, field]], "data": {…}}}`.
    struct Submit: Decodable {
        struct Body: Decodable {
            var errors: [[String?]]?
            var data: Data?
        }
        struct Data: Decodable {
            var websocket_url: String?
        }
        var json: Body
    }

    /// A listing of the account's posts (`/user/{name}/submitted`).
    struct Listing: Decodable {
        struct Page: Decodable {
            var children: [Child]
        }
        struct Child: Decodable {
            var data: Post
        }
        struct Post: Decodable {
            var id: String?
            var permalink: String?
            var title: String?
            var subreddit: String?
            var created_utc: Double?
            /// A video post's address on v.redd.it, which carries the media's asset id.
            var url: String?
            var url_overridden_by_dest: String?
            var media: Media?
        }
        struct Media: Decodable {
            struct Video: Decodable {
                var fallback_url: String?
                var dash_url: String?
                var hls_url: String?
            }
            var reddit_video: Video?
        }
        var data: Page
    }
}

extension RedditWire.Listing.Post {
    /// Every address the post gives its video: one of them names the asset a submit used.
    var mediaAddresses: [String] {
        [url, url_overridden_by_dest, media?.reddit_video?.fallback_url, media?.reddit_video?.dash_url, media?.reddit_video?.hls_url].compactMap { $0 }
    }
}
