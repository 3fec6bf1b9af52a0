import Foundation
import Hummingbird
import NIOCore

/// Reads served from a snapshot: a page or API answer is built at most once a second per address
/// (and session), and kept while the ledger has no new event, for up to 5 s. A dashboard left open on
/// ten screens, or a scraper hammering the API, then costs the stages next to nothing: what they read
/// is the same ledger the stages write, and the pages refresh once a second at most anyway.
struct SnapshotCache: RouterMiddleware {
    let box: OperatorBox
    let access: OperatorAccess
    let store = SnapshotStore()
    static let uncached: Set<String> = ["/live", "/healthz", "/readyz", "/login"]

    func handle(_ request: Request, context: OperatorContext, next: (Request, OperatorContext) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        // A change (retry, cancel, sign-in) is seen at once: nothing kept from before it is served.
        if request.method != .get && request.method != .head {
            defer { store.clear() }
            return try await next(request, context)
        }
        guard request.method == .get, !Self.uncached.contains(path), !path.hasPrefix("/static/"), !path.hasPrefix("/media/") else {
            return try await next(request, context)
        }
        let version = box.all.map { (try? $0.ctx.ledger.lastEventId()) ?? -1 }
        let key = request.uri.description + "\u{1}" + (access.session(request) ?? "") + "\u{1}" + (request.headers[.authorization] ?? "")
        if let hit = store.get(key, version: version) {
            return Response(status: hit.status, headers: hit.headers, body: .init(byteBuffer: hit.body))
        }
        let r = try await next(request, context)
        guard r.status == .ok else { return r }
        let sink = BufferBox()
        try await r.body.write(CollectingWriter(box: sink))
        store.put(key, version: version, status: r.status, headers: r.headers, body: sink.buffer)
        return Response(status: r.status, headers: r.headers, body: .init(byteBuffer: sink.buffer))
    }
}

final class SnapshotStore: @unchecked Sendable {
    struct Entry { var at: ContinuousClock.Instant; var version: [Int64]; var status: HTTPResponse.Status; var headers: HTTPFields; var body: ByteBuffer }
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    static let fresh: Duration = .seconds(1), unchanged: Duration = .seconds(5), capacity = 256

    func get(_ key: String, version: [Int64]) -> Entry? {
        lock.lock(); defer { lock.unlock() }
        guard let e = entries[key] else { return nil }
        let age = ContinuousClock.now - e.at
        return age < Self.fresh || (e.version == version && age < Self.unchanged) ? e : nil
    }

    func clear() { lock.lock(); entries.removeAll(); lock.unlock() }

    func put(_ key: String, version: [Int64], status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) {
        lock.lock(); defer { lock.unlock() }
        if entries.count >= Self.capacity {
            let now = ContinuousClock.now
            entries = entries.filter { now - $0.value.at < Self.unchanged }
            if entries.count >= Self.capacity { entries.removeAll() }
        }
        entries[key] = Entry(at: .now, version: version, status: status, headers: headers, body: body)
    }
}

final class BufferBox: @unchecked Sendable { var buffer = ByteBuffer() }

/// Gathers a response body so it can be kept.
struct CollectingWriter: ResponseBodyWriter {
    let box: BufferBox
    mutating func write(_ buffer: ByteBuffer) async throws {
        var b = buffer
        box.buffer.writeBuffer(&b)
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
