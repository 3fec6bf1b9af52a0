import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Multipart bodies: `multipart/related` (RFC 2387) as Google's upload endpoints take it, and
/// `multipart/form-data` (RFC 7578) as X's media upload and others take it. Parts are separated by
/// `--boundary`, each with its own headers; a part may be `Content-Transfer-Encoding: base64`.
enum Multipart {
    struct Part {
        /// Lower-cased header names.
        var headers: [String: String]
        var body: Data
    }

    static func boundary(of contentType: String) -> String? {
        guard contentType.lowercased().hasPrefix("multipart/") else { return nil }
        for param in contentType.split(separator: ";").dropFirst() {
            let kv = param.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, kv[0].lowercased() == "boundary" {
                return kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    static func parse(_ body: Data, contentType: String) -> [Part]? {
        guard let b = boundary(of: contentType), !b.isEmpty else { return nil }
        let delimiter = Data("--\(b)".utf8)
        var parts: [Part] = []
        guard var cursor = find(delimiter, in: body, from: body.startIndex)?.upperBound else { return nil }
        while true {
            // After a delimiter: `--` ends the body; otherwise a line break, then the part.
            if body[cursor...].starts(with: Data("--".utf8)) { break }
            guard let lineEnd = find(Data("\n".utf8), in: body, from: cursor) else { return nil }
            let start = lineEnd.upperBound
            guard let next = find(delimiter, in: body, from: start) else { return nil }
            var end = next.lowerBound
            // The line break before the delimiter belongs to the delimiter.
            if end > start, body[end - 1] == 0x0A { end -= 1 }
            if end > start, body[end - 1] == 0x0D { end -= 1 }
            guard let part = parsePart(body[start..<end]) else { return nil }
            parts.append(part)
            cursor = next.upperBound
        }
        return parts
    }

    /// Where `needle` first occurs in `body` from `from` on, by memchr and memcmp: Foundation's `Data.range(of:)`
    /// compares byte by byte through generic code, ~30 ms for a 4 MiB segment — most of the sandbox's
    /// time for an X APPEND, which made every X figure the sandbox's.
    static func find(_ needle: Data, in body: Data, from: Data.Index) -> Range<Data.Index>? {
        guard !needle.isEmpty, from <= body.endIndex else { return nil }
        return body.withUnsafeBytes { hay in
            needle.withUnsafeBytes { n in
                guard let base = hay.baseAddress, let nb = n.baseAddress else { return nil }
                var i = from - body.startIndex
                while i + n.count <= hay.count {
                    guard let p = memchr(base + i, Int32(n[0]), hay.count - n.count + 1 - i) else { return nil }
                    let at = UnsafeRawPointer(p) - UnsafeRawPointer(base)
                    if memcmp(base + at, nb, n.count) == 0 { return (body.startIndex + at)..<(body.startIndex + at + n.count) }
                    i = at + 1
                }
                return nil
            }
        }
    }

    static func parsePart(_ raw: Data) -> Part? {
        let sep = raw.range(of: Data("\r\n\r\n".utf8)) ?? raw.range(of: Data("\n\n".utf8))
        guard let sep else { return nil }
        var headers: [String: String] = [:]
        // `\r\n` is one Character in Swift: split on newlines as characters, not on `\n` and `\r` alone.
        for line in String(decoding: raw[raw.startIndex..<sep.lowerBound], as: UTF8.self).split(whereSeparator: { $0.isNewline }) {
            let kv = line.split(separator: ":", maxSplits: 1)
            if kv.count == 2 { headers[kv[0].trimmingCharacters(in: .whitespaces).lowercased()] = kv[1].trimmingCharacters(in: .whitespaces) }
        }
        var body = Data(raw[sep.upperBound...])
        if headers["content-transfer-encoding"]?.lowercased() == "base64" {
            guard let decoded = Data(base64Encoded: body, options: .ignoreUnknownCharacters) else { return nil }
            body = decoded
        }
        return Part(headers: headers, body: body)
    }

    /// A `multipart/form-data` body as its fields, by the name in each part's Content-Disposition.
    static func formFields(_ body: Data, contentType: String) -> [String: Data]? {
        guard contentType.lowercased().hasPrefix("multipart/form-data"), let parts = parse(body, contentType: contentType) else { return nil }
        var out: [String: Data] = [:]
        for p in parts {
            guard let disposition = p.headers["content-disposition"] else { continue }
            for param in disposition.split(separator: ";").dropFirst() {
                let kv = param.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if kv.count == 2, kv[0].lowercased() == "name" { out[kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))] = p.body }
            }
        }
        return out
    }
}
