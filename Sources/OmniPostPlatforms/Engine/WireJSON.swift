import Foundation
import NIOCore
import NIOHTTP1

/// Typed request and reply bodies: an adapter on the engine describes what it sends and reads as small
/// `Codable` structs and never casts a `[String: Any]`.
extension AuthorizedHTTP.Reply {
    /// The body as `T`, or nil when it is not one (an error page, another shape).
    package func decoded<T: Decodable>(_ type: T.Type = T.self) -> T? {
        try? JSONDecoder().decode(T.self, from: body)
    }
}

extension AuthorizedHTTP {
    /// `body` as JSON (keys sorted, so a request is the same bytes every time).
    package func send<T: Encodable>(
        url: String, method: HTTPMethod = .POST, json body: T, headers: [(String, String)] = [],
        contentType: String = "application/json; charset=UTF-8"
    ) async throws -> Reply {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(body)
        return try await send(url: url, method: method, headers: headers + [("Content-Type", contentType)], body: ByteBuffer(bytes: data))
    }
}

/// A value a platform sends as a string or as a number (X's media ids, TikTok's post ids): its text.
package struct LooseString: Decodable, Sendable, Equatable {
    package var value: String

    package init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { value = s } else if let i = try? c.decode(Int64.self) { value = String(i) } else { value = String(try c.decode(Double.self)) }
    }
}

/// An empty JSON object (`{}`), for requests whose body is one.
package struct EmptyBody: Codable, Sendable {
    package init() {}
}
