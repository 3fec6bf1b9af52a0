import Foundation
import OmniPostCore

/// The bytes of one job sent to a tus upload URL from `start`: chunk by chunk through the pinned reader
/// (the file must be the one hashed), each chunk checkpointed at the offset the server answers. After
/// a transient failure or a 409 the server is asked for its offset and the upload goes on from there —
/// never from where the client thinks it was.
extension SettingsBacked {
    func tusSend(_ tus: TusClient, url: String, job: UploadJob, session: String, from start: Int64, checksum: String?,
                 checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
                 progress: @escaping @Sendable (Int64, Int64) -> Void) async throws -> Int64 {
        let chunk = Int64(max(1 << 20, min(settings.chunkSize, 128 << 20)))
        let reader = PinnedReader(path: job.filePath, size: job.size, expected: job.expectedSha256)
        var offset = start
        var sent: Int64 = 0
        var failures = 0
        while offset < job.size {
            try Task.checkCancellation()
            let n = Int(min(chunk, job.size - offset))
            let data: Data
            do { data = try reader.chunk(from: offset, count: n) } catch let e as OmniError {
                throw DeliveryError(.permanent, e.code, e.message)
            }
            let result: TusClient.PatchResult
            do {
                result = try await tus.patch(url, offset: offset, data: data, checksum: checksum)
            } catch let e as DeliveryError where e.kind == .retryNow {
                try await afterTransientFailure(e, failures: &failures)
                guard let held = try await tus.offset(url) else { throw Self.gone(url) }
                offset = held.offset
                continue
            }
            switch result {
            case .accepted(let next):
                guard next > offset, next <= job.size else {
                    throw DeliveryError(.retryNow, .platformError, "the tus server answered offset \(next) for bytes sent from \(offset)")
                }
                sent += next - offset
                offset = next
                failures = 0
                try await checkpoint(UploadCheckpoint(session: session, confirmedOffset: offset, bytesSent: sent))
                progress(offset, job.size)
            case .conflict:
                try await afterTransientFailure(DeliveryError(.retryNow, .platformError, "409: the server holds another offset than \(offset)"), failures: &failures)
                guard let held = try await tus.offset(url) else { throw Self.gone(url) }
                offset = held.offset
            case .gone:
                throw Self.gone(url)
            }
        }
        return sent
    }

    /// The upload expired or was removed mid-way: the next attempt starts a new one.
    static func gone(_ url: String) -> DeliveryError {
        DeliveryError(.retryNow, .platformError, "the tus server no longer knows \(url) (expired or removed); a new upload is started")
    }
}
