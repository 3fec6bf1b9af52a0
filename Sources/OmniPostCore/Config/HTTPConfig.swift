import Foundation

/// `account_checks:` — the daemon proves each account still works (a refresh and who it is) at start
/// and again `lead` before a post is due, so a dead token is known hours ahead rather than at the post;
/// a refresh token that lapses on a known date is warned about `warn_days` ahead (in `status`).
package struct AccountCheckConfig: Sendable, Equatable {
    package var atStart = true
    package var lead: Duration = .seconds(6 * 3600)
    package var warnDays = 14
    package init() {}
}

/// `http:` — the daemon's own HTTP listener. Today it serves signed media links (`media_host: {serve:
/// true}`) and `/healthz`. Loopback by default; any other address needs `token_file:`, since what it
/// serves is meant for the operator and for platforms holding a signed link, not for the network.
package struct HTTPConfig: Sendable, Equatable {
    package var host = "127.0.0.1"
    /// 0 picks a free port (tests; sandbox mode).
    package var port = 8700
    /// How others reach it (`https://nas.example.com:8700`, a reverse proxy's address): what links start with.
    package var publicURL: String?
    /// A file holding the token that mutations need (read at start).
    package var tokenFile: URL?
    /// `loopback_reads: open` lets reads from this machine through without the token even when a token
    /// is set. Off by default: a reverse proxy on this host makes every visitor look local.
    package var loopbackReadsOpen = false
    package init() {}

    /// Whether the session cookie is marked `Secure`: the listener is reached over https.
    package var secureCookie: Bool { publicURL?.lowercased().hasPrefix("https://") == true }

    package var isLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.") }

    /// `host:port`, `[v6]:port` or `:port` (all addresses).
    package static func parseListen(_ text: String) -> (host: String, port: Int)? {
        var hostPart: Substring, portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard let port = Int(portPart), (0...65535).contains(port) else { return nil }
        return (hostPart.isEmpty ? "0.0.0.0" : String(hostPart), port)
    }
}
