import Foundation
import NIOCore

/// LinkedIn's multi-part upload: each part PUT exactly as `uploadInstructions` say, to its own signed URL
/// (no bearer token goes with the bytes), keeping the ETag it answers with. A part is its URL, so a cut
/// one is sent again (the engine's default `.resend`); a resumed upload sends only parts without an ETag.
package struct LinkedInParts: UploadProtocol {
    let adapter: LinkedInAdapter

    /// finalizeUpload makes the video of the parts held.
    package var lastPartCompletes: Bool { false }

    package func nextPart(of s: LinkedInAdapter.Session, confirmed: Int64, size: Int64) -> Part? {
        guard let i = s.parts.firstIndex(where: { $0.etag == nil }) else { return nil }
        return Part(index: i, offset: s.parts[i].first, length: s.parts[i].length)
    }

    /// The next instruction without an ETag after this one: read while this one travels.
    package func partAfter(_ part: Part, of s: LinkedInAdapter.Session, size: Int64) -> Part? {
        guard part.index + 1 < s.parts.count, let i = s.parts[(part.index + 1)...].firstIndex(where: { $0.etag == nil }) else { return nil }
        return Part(index: i, offset: s.parts[i].first, length: s.parts[i].length)
    }

    package func send(_ part: Part, _ bytes: ByteBuffer, session s: inout LinkedInAdapter.Session, job: UploadJob) async throws -> PartReply {
        let r = try await adapter.settings.parts.send(
            url: s.parts[part.index].url, method: .PUT, headers: [("Content-Type", "application/octet-stream")], body: bytes, authorize: false)
        if (200..<300).contains(r.status), let etag = r.headers.first(name: "etag") {
            s.parts[part.index].confirm(etag)
            return .confirmed(s.confirmed)
        }
        // The signed URLs expired before the upload was finalized: no post can come of it.
        if r.status == 403 || r.status == 404 { throw SessionGone("the signed upload URLs expired") }
        throw LinkedInAdapter.classify(r, during: "sending part \(part.index + 1) of \(s.parts.count)")
    }
}

/// The bodies of LinkedIn's Videos, Posts and userinfo endpoints.
enum LinkedInWire {
    struct UserInfo: Decodable { var sub: String? }

    struct Initialize: Encodable {
        struct Request: Encodable {
            var owner: String
            var fileSizeBytes: Int64
            var uploadCaptions: Bool
            var uploadThumbnail: Bool
        }
        var initializeUploadRequest: Request
    }

    struct Value<T: Decodable>: Decodable { var value: T? }

    struct Upload: Decodable {
        struct Instruction: Decodable {
            var uploadUrl: String
            var firstByte: Int64
            var lastByte: Int64
        }
        var video: String
        var uploadToken: String?
        var uploadInstructions: [Instruction]
        /// Milliseconds since the epoch.
        var uploadUrlsExpireAt: Double?
    }

    struct Finalize: Encodable {
        struct Request: Encodable {
            var video: String
            var uploadToken: String
            var uploadedPartIds: [String]
        }
        var finalizeUploadRequest: Request
    }

    struct Video: Decodable {
        var status: String?
        var processingFailureReason: String?
    }

    struct Post: Encodable {
        struct Distribution: Encodable {
            var feedDistribution = "MAIN_FEED"
            var targetEntities: [String] = []
            var thirdPartyDistributionChannels: [String] = []
        }
        struct Content: Encodable {
            struct Media: Encodable {
                var title: String
                var id: String
            }
            var media: Media
        }
        var author: String
        var commentary: String
        var visibility: String
        var distribution = Distribution()
        var content: Content
        var lifecycleState = "PUBLISHED"
        var isReshareDisabledByAuthor = false
    }

    struct Posts: Decodable {
        struct Element: Decodable {
            struct Content: Decodable {
                struct Media: Decodable { var id: String? }
                var media: Media?
            }
            var id: String?
            var content: Content?
        }
        var elements: [Element]?
    }

    struct Failure: Decodable {
        var serviceErrorCode: LooseString?
        var message: String?
    }
}
