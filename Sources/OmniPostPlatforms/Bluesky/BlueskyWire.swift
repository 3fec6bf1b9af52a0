import Foundation

/// The AT Protocol's request and reply bodies Bluesky's adapter speaks, typed (the lexicons at
/// github.com/bluesky-social/atproto/tree/main/lexicons): sessions, service auth, the video service's
/// job status and limits, records and their video embed.
enum BlueskyWire {
    /// An XRPC error body: `{"error": "ExpiredToken", "message": "…"}`.
    struct Failure: Decodable {
        var error: String?
        var message: String?
    }

    /// `com.atproto.server.createSession` / `refreshSession`.
    struct SessionReply: Decodable {
        var accessJwt: String
        var refreshJwt: String
        var did: String
    }

    /// `createSession`'s input.
    struct SignIn: Encodable {
        var identifier: String
        var password: String
    }

    /// What the adapter reads of a session JWT's payload (as the PDS itself issued it).
    struct Claims: Decodable {
        var sub: String?
        var exp: Double?
    }

    /// `com.atproto.server.getServiceAuth`.
    struct ServiceToken: Decodable {
        var token: String
    }

    /// A blob reference (`{"$type": "blob", "ref": {"$link": cid}, "mimeType": …, "size": …}`), kept and
    /// sent back exactly as the video service gave it.
    struct Blob: Codable, Equatable {
        struct Link: Codable, Equatable {
            var link: String
            enum CodingKeys: String, CodingKey { case link = "$link" }
        }
        var type: String?
        var ref: Link
        var mimeType: String?
        var size: Int64?
        enum CodingKeys: String, CodingKey {
            case type = "$type"
            case ref, mimeType, size
        }
    }

    /// `app.bsky.video.defs#jobStatus`: answered by `uploadVideo` and `getJobStatus`, at top level or
    /// wrapped in `jobStatus`; `already_exists` still carries the blob.
    struct JobStatus: Decodable {
        var jobId: String?
        var state: String?
        var blob: Blob?
        var error: String?
        var message: String?
        /// Why a job failed (`JOB_STATE_FAILED`), in the video service's words: `pds_upload_failure` is
        /// the service failing to hand the blob on, worth a new upload.
        var failureCode: String?
    }

    struct JobStatusReply: Decodable {
        var jobStatus: JobStatus?
    }

    /// `app.bsky.video.getUploadLimits`.
    struct UploadLimits: Decodable {
        var canUpload: Bool?
        var remainingDailyVideos: Int?
        var remainingDailyBytes: Int64?
        var message: String?
    }

    /// `com.atproto.repo.getRecord` / `createRecord`'s answer.
    struct RecordRef: Decodable {
        var uri: String
        var cid: String?
    }

    /// `com.atproto.repo.listRecords` of `app.bsky.feed.post`: a record whose value is not a post with a
    /// video (another kind of embed) reads as one without it.
    struct RecordList: Decodable {
        struct Record: Decodable {
            var uri: String
            var value: Value?
        }
        struct Value: Decodable {
            var createdAt: String?
            var embed: Embed?
        }
        struct Embed: Decodable {
            var video: Blob?
            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                video = try? c.decodeIfPresent(Blob.self, forKey: .video)
            }
            enum CodingKeys: String, CodingKey { case video }
        }
        var records: [Record]
    }

    /// `com.atproto.identity.resolveHandle`.
    struct ResolvedHandle: Decodable {
        var did: String
    }

    /// `com.atproto.repo.createRecord` of an `app.bsky.feed.post` under the record key chosen beforehand.
    struct CreateRecord: Encodable {
        var repo: String
        var collection = "app.bsky.feed.post"
        var rkey: String
        var record: Post
    }

    struct Post: Encodable {
        var type = "app.bsky.feed.post"
        var text: String
        var createdAt: String
        var embed: VideoEmbed
        var facets: [Facet]?
        enum CodingKeys: String, CodingKey {
            case type = "$type"
            case text, createdAt, embed, facets
        }
    }

    struct VideoEmbed: Encodable {
        struct AspectRatio: Encodable {
            var width: Int
            var height: Int
        }
        var type = "app.bsky.embed.video"
        var video: Blob
        var alt: String?
        var aspectRatio: AspectRatio?
        enum CodingKeys: String, CodingKey {
            case type = "$type"
            case video, alt, aspectRatio
        }
    }

    /// `app.bsky.richtext.facet`: a byte range of the text and what it is.
    struct Facet: Encodable {
        struct ByteSlice: Encodable {
            var byteStart: Int
            var byteEnd: Int
        }
        struct Feature: Encodable {
            var type: String
            var uri: String?
            var tag: String?
            var did: String?
            enum CodingKeys: String, CodingKey {
                case type = "$type"
                case uri, tag, did
            }
        }
        var index: ByteSlice
        var features: [Feature]
    }
}
