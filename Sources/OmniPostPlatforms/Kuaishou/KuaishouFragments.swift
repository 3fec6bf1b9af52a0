import Foundation
import NIOCore

/// Kuaishou's transport, at the upload gateway under the upload token alone: the whole file in one
/// `api/upload` request (the bytes as the body: "不要在body中放boundary,content-type等信息"), or fragments
/// (`api/upload/fragment?upload_token=…&fragment_id=n`, from 0, the bytes as the body). The gateway keeps
/// fragments by number, so a cut one is sent again (the engine's default `.resend`); after a restart
/// `reconcile` asks it which it holds (`api/upload/resume`). Every fragment but the last is the session's
/// part size.
package struct KuaishouFragments: UploadProtocol {
    let adapter: KuaishouAdapter

    /// `api/upload/complete` merges the fragments held (a single upload is whole: `finish` skips it).
    package var lastPartCompletes: Bool { false }

    package func send(_ part: Part, _ bytes: ByteBuffer, session s: inout KuaishouAdapter.Session, job: UploadJob) async throws -> PartReply {
        let url = s.single ? adapter.gateway(s, nil) : adapter.gateway(s, "fragment", [("fragment_id", String(part.index))])
        let r = try await adapter.settings.parts.send(
            url: url, method: .POST, headers: [("Content-Type", s.single ? job.contentType : "application/octet-stream")], body: bytes, authorize: false)
        if KuaishouAdapter.sessionRefused(r) { throw SessionGone(KuaishouAdapter.message(r)) }
        _ = try KuaishouAdapter.answer(r, KuaishouWire.Status.self, during: s.single ? "uploading the video" : "sending fragment \(part.index)")
        return .confirmed(part.end)
    }
}

/// The bodies Kuaishou's open platform gives: every answer is `{"result": 1, …}`, a failure another
/// `result` with `error_msg`.
enum KuaishouWire {
    struct Status: Decodable {
        var result: Int?
        var error_msg: String?
    }

    struct Started: Decodable {
        var upload_token: String?
        /// The upload gateway's host (no scheme: the docs' uploads are `http://{endpoint}/…`).
        var endpoint: String?
    }

    /// `api/upload/resume`: whether the gateway has the upload, and the last fragment it holds in order.
    struct Resume: Decodable {
        var existed: Bool?
        var fragment_index: Int?
    }

    struct Published: Decodable { var video_info: Work? }

    struct WorkList: Decodable { var video_list: [Work]? }

    /// One of the account's works. `pending`: still being processed, not yet watchable.
    struct Work: Decodable {
        var photo_id: String?
        var caption: String?
        var cover: String?
        var play_url: String?
        var create_time: Int64?
        var pending: Bool?
        var view_count: Int64?
        var like_count: Int64?
        var comment_count: Int64?

        /// `create_time` in epoch seconds: Kuaishou writes milliseconds.
        var createdAt: Double {
            let t = Double(create_time ?? 0)
            return t > 100_000_000_000 ? t / 1000 : t
        }
    }

    struct UserInfo: Decodable {
        struct User: Decodable { var name: String? }
        var user_info: User?
    }
}
