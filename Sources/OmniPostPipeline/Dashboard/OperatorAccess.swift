import Crypto
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

/// The listener's request context: Hummingbird's basic one plus who is asking (the peer's address),
/// since reads are free only from this machine, and a small body limit (forms and API calls only).
struct OperatorContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?
    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
    var maxUploadSize: Int { 64 * 1024 }
    /// 127.0.0.0/8, ::1, or a Unix socket.
    var fromLoopback: Bool {
        guard let a = remoteAddress else { return false }
        switch a {
        case .unixDomainSocket: return true
        case .v4: return a.ipAddress?.hasPrefix("127.") == true
        case .v6: return a.ipAddress == "::1" || a.ipAddress?.hasPrefix("::ffff:127.") == true
        }
    }
}

/// Who may do what on the listener. Reads need nothing from this machine; from elsewhere they need the
/// token (as a bearer token) or a signed-in session. Every mutation needs the token: the API as a bearer
/// token, the dashboard's forms as a session cookie (HttpOnly, SameSite=Strict) plus the session's CSRF
/// value in the form. Sessions live in memory: a restart signs everyone out, which is the safe side.
final class OperatorAccess: @unchecked Sendable {
    static let cookieName = "omnipost_session"
    static let sessionLife: TimeInterval = 12 * 3600
    let token: String?
    private let lock = NSLock()
    private var sessions: [String: (csrf: String, expires: Date)] = [:]

    init(token: String?) { self.token = token?.isEmpty == true ? nil : token }

    /// Constant-time comparison, so the token cannot be guessed a byte at a time from timings.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        return x.count == y.count && zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func bearer(_ req: Request) -> Bool {
        guard let token, let h = req.headers[.authorization], h.hasPrefix("Bearer ") else { return false }
        return Self.same(String(h.dropFirst(7)), token)
    }

    /// A new session for the right token; nil for a wrong one (or when no token is configured).
    func signIn(with given: String) -> (id: String, csrf: String)? {
        guard let token, Self.same(given, token) else { return nil }
        let id = Self.random(), csrf = Self.random()
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        sessions = sessions.filter { $0.value.expires > now }
        sessions[id] = (csrf, now.addingTimeInterval(Self.sessionLife))
        return (id, csrf)
    }

    func signOut(_ req: Request) {
        guard let id = Self.cookie(req) else { return }
        lock.lock(); sessions[id] = nil; lock.unlock()
    }

    /// The CSRF value of the request's live session, if it has one.
    func session(_ req: Request) -> String? {
        guard let id = Self.cookie(req) else { return nil }
        lock.lock(); defer { lock.unlock() }
        guard let s = sessions[id], s.expires > Date() else { return nil }
        return s.csrf
    }

    /// May this request read? From this machine always; otherwise with the bearer token or a session.
    /// A request a reverse proxy on this machine passed on (it says so in `Forwarded` or
    /// `X-Forwarded-For`) comes from elsewhere, whatever its socket says.
    func mayRead(_ req: Request, _ ctx: OperatorContext) -> Bool {
        let proxied = req.headers[Self.forwarded] != nil || req.headers[Self.xForwardedFor] != nil
        return (ctx.fromLoopback && !proxied) || bearer(req) || session(req) != nil
    }
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!, forwarded = HTTPField.Name("Forwarded")!

    /// May this form post change something? A live session and its CSRF value, both.
    func mayPost(_ req: Request, csrf: String?) -> Bool {
        guard let want = session(req), let csrf else { return false }
        return Self.same(csrf, want)
    }

    static func cookie(_ req: Request) -> String? {
        for header in req.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == cookieName { return String(kv[1]) }
            }
        }
        return nil
    }

    static func random() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
