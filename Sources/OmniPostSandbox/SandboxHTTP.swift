import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Small helpers shared by the sandbox's platform routes.
enum SandboxHTTP {
    static func json(_ status: HTTPResponse.Status, _ object: Any, headers: HTTPFields = [:]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        var h = headers
        h[.contentType] = "application/json; charset=UTF-8"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func empty(_ status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentLength] = "0"
        return Response(status: status, headers: h)
    }

    /// Google's error envelope: `{"error":{"code","message","errors":[{"reason","domain"}]}}`.
    static func googleError(_ code: Int, _ reason: String, _ message: String) -> Response {
        json(
            .init(code: code),
            [
                "error": [
                    "code": code, "message": message,
                    "errors": [["reason": reason, "domain": "youtube.video", "message": message]]
                ]
            ])
    }

    static func header(_ req: Request, _ name: String) -> String? {
        guard let n = HTTPField.Name(name) else { return nil }
        return req.headers[n]
    }

    /// The client in HTTP Basic (`Authorization: Basic base64(id:secret)`, each form-encoded, RFC 6749 §2.3.1).
    static func basicClient(_ req: Request) -> (id: String, secret: String)? {
        guard let auth = header(req, "Authorization"), auth.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(auth.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) })
        else { return nil }
        let pair = decoded.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).removingPercentEncoding ?? String($0) }
        return (pair.first ?? "", pair.count > 1 ? pair[1] : "")
    }

    static func query(_ req: Request, _ name: String) -> String? {
        req.uri.queryParameters[Substring(name)].map(String.init)
    }

    /// Every value of a repeated query parameter (`uris=…&uris=…`).
    static func queryAll(_ req: Request, _ name: String) -> [String] {
        req.uri.queryParameters.getAll(name).map { String($0) }
    }

    /// Parses application/x-www-form-urlencoded.
    static func form(_ buffer: ByteBuffer) -> [String: String] {
        let text = String(buffer: buffer)
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            if kv.count == 2 { out[kv[0]] = kv[1] } else if kv.count == 1 { out[kv[0]] = "" }
        }
        return out
    }
}

extension HTTPField.Name {
    static let xUploadContentLength = HTTPField.Name("X-Upload-Content-Length")!
    static let xUploadContentType = HTTPField.Name("X-Upload-Content-Type")!
    static let range = HTTPField.Name("Range")!
    static let contentRange = HTTPField.Name("Content-Range")!
}
