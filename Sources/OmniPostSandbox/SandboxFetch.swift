import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// How a sandboxed platform fetches a link itself (Threads' `video_url`, Instagram's `cover_url`), as the
/// real ones do: the whole fetch — head and body — within a deadline, so a link that answers and then
/// stalls fails the fetch (the platform's FAILED_DOWNLOADING_VIDEO) instead of holding the container
/// IN_PROGRESS for ever. `HTTPClient.shared` times out only until the head: its body can wait without end.
enum SandboxFetch {
    /// Idle reads end a stalled body; the task group below ends a slow trickle.
    static let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(timeout: .init(connect: .seconds(10), read: .seconds(20))))

    enum Failure: Error, CustomStringConvertible {
        case status(UInt), deadline
        var description: String {
            switch self {
            case .status(let code): return "the link answered \(code)"
            case .deadline: return "the link did not give the whole body in time"
            }
        }
    }

    /// The body behind `url` (at most `limit` bytes), or why not.
    static func get(_ url: String, limit: Int, within: Duration) async throws -> Data {
        try await withThrowingTaskGroup(of: Data?.self) { group in
            group.addTask {
                let resp = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(20))
                let body = try await resp.body.collect(upTo: limit)
                guard resp.status == .ok else { throw Failure.status(resp.status.code) }
                return Data(buffer: body)
            }
            group.addTask {
                try await Task.sleep(for: within)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let data = first else { throw Failure.deadline }
            return data
        }
    }
}
