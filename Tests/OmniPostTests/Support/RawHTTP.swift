import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// One HTTP request as a test writes it by hand (a protocol checked without our client), and what came back.
enum RawHTTP {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data
    }

    static func send(_ url: String, _ method: HTTPMethod, headers: [String: String] = [:], body: Data = Data()) async throws -> Reply {
        var req = HTTPClientRequest(url: url)
        req.method = method
        for (k, v) in headers { req.headers.add(name: k, value: v) }
        req.body = .bytes(ByteBuffer(bytes: body))
        let resp = try await HTTPClient.shared.execute(req, timeout: .seconds(30))
        let data = try await resp.body.collect(upTo: 1 << 24)
        var h: [String: String] = [:]
        for f in resp.headers { h[f.name.lowercased()] = f.value }
        return Reply(status: Int(resp.status.code), headers: h, body: Data(buffer: data))
    }
}
