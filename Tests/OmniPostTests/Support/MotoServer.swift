import AsyncHTTPClient
import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
import OmniPostWire

/// moto's standalone S3 server, from the virtualenv `make test` creates: an S3 implementation written by
/// others, that the S3 target is tested against besides the sandbox. One per test process, started on
/// first use; it ends when this process does (its stdin closes).
final class MotoServer: @unchecked Sendable {
    static var available: Bool { PythonServer.has("moto") }

    let server: PythonServer
    var endpoint: String { server.base }

    private init() throws { server = try PythonServer(script: "moto_s3_server.py") }

    nonisolated(unsafe) private static var instance: MotoServer?
    private static let lock = NSLock()

    static func shared() throws -> MotoServer {
        lock.lock(); defer { lock.unlock() }
        if let i = instance { return i }
        let m = try MotoServer()
        instance = m
        return m
    }

    /// A new, empty bucket on it (moto takes any keys).
    func bucket(_ name: String, http: HTTPClient = .shared) async throws -> S3Bucket {
        let b = S3Bucket(.init(endpoint: endpoint, bucket: name, region: "us-east-1", accessKeyID: "moto", secretAccessKey: "moto", prefix: ""), http: http)
        let (resp, body) = try await b.send(.PUT, key: nil)
        guard resp.status == .ok else { throw OmniError(.internalError, "moto refused bucket \(name): \(String(buffer: body))") }
        return b
    }
}

extension S3Bucket {
    /// Every key in the bucket (ListObjectsV2, one page: tests hold few).
    func keys() async throws -> [String] {
        let (resp, body) = try await send(.GET, key: nil, query: [("list-type", "2")])
        guard resp.status == .ok else { throw OmniError(.internalError, "listing failed: \(String(buffer: body))") }
        return XMLTags.all("Key", in: String(buffer: body))
    }

    /// An object's bytes.
    func get(_ key: String) async throws -> Data {
        let (resp, body) = try await send(.GET, key: key, collect: 1 << 30)
        guard resp.status == .ok else { throw OmniError(.internalError, "GET \(key) failed: \(resp.status)") }
        return Data(buffer: body)
    }
}
