import Foundation
import NIOCore

/// The transport of a platform that fetches the file itself from a link (Threads' `video_url`) or is
/// handed it whole by a step before the session (a destination): there are no parts to send.
package struct NothingToSend<S: PersistedSession>: UploadProtocol {
    package init() {}

    package func nextPart(of session: S, confirmed: Int64, size: Int64) -> Part? { nil }

    package func send(_ part: Part, _ bytes: ByteBuffer, session: inout S, job: UploadJob) async throws -> PartReply {
        throw DeliveryError(.permanent, .internalError, "there are no parts to send to \(job.drop?.target ?? "this platform")")
    }
}

/// What `prepare` hands over when it moved the file itself (to a media host the platform fetches from):
/// those bytes count as sent by the attempt.
package protocol MovesBytes: Sendable {
    var bytesMoved: Int64 { get }
}
