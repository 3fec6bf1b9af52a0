import Foundation

/// Browser cookies for an account that signs in through a browser session (seed 000's cookie
/// accounts, for the browser-driven platforms to come): read from the two forms people have — the
/// Netscape `cookies.txt` that browser extensions and curl write, and the JSON array of cookie objects
/// browser extensions export — and kept sealed in the ledger like tokens. A bad line is answered at
/// its line and column.
package struct CookieJar: Sendable, Codable, Equatable {
    package struct Cookie: Sendable, Codable, Equatable {
        package var domain: String
        package var path: String
        package var name: String
        package var value: String
        package var secure: Bool
        package var httpOnly: Bool
        /// Epoch seconds; nil for a session cookie.
        package var expires: Double?

        package init(domain: String, path: String, name: String, value: String, secure: Bool, httpOnly: Bool, expires: Double?) {
            self.domain = domain
            self.path = path
            self.name = name
            self.value = value
            self.secure = secure
            self.httpOnly = httpOnly
            self.expires = expires
        }
    }

    package var cookies: [Cookie]

    package init(cookies: [Cookie]) { self.cookies = cookies }

    /// When the first cookie with an expiry lapses (the account needs new ones by then).
    package var firstExpiry: Double? { cookies.compactMap(\.expires).min() }
    package var domains: [String] { Array(Set(cookies.map { $0.domain.hasPrefix(".") ? String($0.domain.dropFirst()) : $0.domain })).sorted() }

    package static let maxBytes = 4 << 20

    package static func load(path: String, displayName: String) throws -> CookieJar {
        let h = try UserFile.open(path: path, displayName: displayName)
        let data = (try? h.read(upToCount: maxBytes + 1)) ?? Data()
        try? h.close()
        if data.count > maxBytes { throw OmniError(.fileTooLarge, "\(displayName) is over \(maxBytes) bytes; that is no cookie file", at: SourceLocation(file: displayName)) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw OmniError(.textInvalid, "\(displayName) is not UTF-8 text", at: SourceLocation(file: displayName))
        }
        return try parse(text, file: displayName)
    }

    package static func parse(_ text: String, file: String) throws -> CookieJar {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let jar = trimmed.hasPrefix("[") || trimmed.hasPrefix("{") ? try parseJSON(trimmed, file: file) : try parseNetscape(text, file: file)
        if jar.cookies.isEmpty { throw OmniError(.invalidValue, "\(file) holds no cookies", at: SourceLocation(file: file)) }
        return jar
    }

    /// `domain <TAB> include-subdomains <TAB> path <TAB> secure <TAB> expires <TAB> name <TAB> value`;
    /// `#HttpOnly_` before the domain marks an HttpOnly cookie; other `#` lines are comments.
    static func parseNetscape(_ text: String, file: String) throws -> CookieJar {
        var out: [Cookie] = []
        // `\r\n` is one Character in Swift: split on newlines as characters (a Windows export ends lines so).
        for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }).enumerated() {
            var line = String(raw)
            var httpOnly = false
            if line.hasPrefix("#HttpOnly_") { line.removeFirst("#HttpOnly_".count); httpOnly = true }
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            let at = SourceLocation(file: file, line: i + 1, column: 1)
            guard f.count == 7 else {
                throw OmniError(
                    .invalidValue, "a cookies.txt line has 7 fields separated by tabs (domain, subdomains, path, secure, expires, name, value); this one has \(f.count)", at: at)
            }
            func column(_ n: Int) -> SourceLocation { SourceLocation(file: file, line: i + 1, column: f[0..<n].reduce(1) { $0 + $1.count + 1 }) }
            guard ["TRUE", "FALSE"].contains(f[1].uppercased()), ["TRUE", "FALSE"].contains(f[3].uppercased()) else {
                throw OmniError(
                    .invalidValue, "the subdomains and secure fields are TRUE or FALSE", at: column(f[1].uppercased() == "TRUE" || f[1].uppercased() == "FALSE" ? 3 : 1))
            }
            guard let exp = Double(f[4]) else {
                throw OmniError(.invalidValue, "expires '\(Excerpt.quote(f[4]))' is not a number (epoch seconds; 0 for a session cookie)", at: column(4))
            }
            guard !f[0].isEmpty, !f[5].isEmpty else { throw OmniError(.invalidValue, "a cookie needs a domain and a name", at: at) }
            out.append(
                Cookie(
                    domain: f[0], path: f[2].isEmpty ? "/" : f[2], name: f[5], value: f[6], secure: f[3].uppercased() == "TRUE",
                    httpOnly: httpOnly, expires: exp > 0 ? exp : nil))
        }
        return CookieJar(cookies: out)
    }

    /// A JSON array of `{name, value, domain, path, expirationDate|expires, secure, httpOnly}` (what
    /// browser extensions export), or `{"cookies": [...]}`.
    static func parseJSON(_ text: String, file: String) throws -> CookieJar {
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: Data(text.utf8)) } catch {
            throw OmniError(
                .invalidValue, "\(file) is not valid JSON: \((error as NSError).userInfo["NSDebugDescription"] as? String ?? "\(error)")", at: SourceLocation(file: file))
        }
        guard let list = any as? [[String: Any]] ?? (any as? [String: Any])?["cookies"] as? [[String: Any]] else {
            throw OmniError(.invalidValue, "\(file) is JSON but not a list of cookies ([{\"name\", \"value\", \"domain\", …}])", at: SourceLocation(file: file))
        }
        var out: [Cookie] = []
        for (i, c) in list.enumerated() {
            guard let name = c["name"] as? String, !name.isEmpty, let domain = c["domain"] as? String, !domain.isEmpty else {
                throw OmniError(.invalidValue, "cookie #\(i + 1) needs a name and a domain", at: SourceLocation(file: file))
            }
            let exp = (c["expirationDate"] as? NSNumber ?? c["expires"] as? NSNumber)?.doubleValue
            out.append(
                Cookie(
                    domain: domain, path: c["path"] as? String ?? "/", name: name, value: c["value"] as? String ?? "",
                    secure: c["secure"] as? Bool ?? false, httpOnly: c["httpOnly"] as? Bool ?? false,
                    expires: (c["session"] as? Bool == true || (exp ?? 0) <= 0) ? nil : exp))
        }
        return CookieJar(cookies: out)
    }
}
