import Crypto
import Foundation
import Hummingbird
import HTTPTypes
import Logging
import OmniPostCore
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

/// Who may do what on the listener. With a token configured (`http.token_file`), every read but
/// `/healthz` needs it too — as a bearer token or a signed-in session — from this machine as from any
/// other: a reverse proxy on this host makes every visitor look local (`loopback_reads: open` is the
/// opt-out). Without a token, reads are free from this machine only, and a request a proxy passed on is
/// not from this machine. Every mutation needs the token: the API as a bearer token, the dashboard's
/// forms as a session cookie (HttpOnly, SameSite=Strict, Secure behind https) plus the session's CSRF
/// value in the form. Wrong tokens are logged, counted, and answered more slowly per source. Sessions
/// live in this process's memory (`SessionStore.shared`), outside the listener: a reload, which starts a
/// new listener, keeps everyone signed in; a changed token, or a restart of the daemon, signs everyone
/// out, which is the safe side.
final class OperatorAccess: @unchecked Sendable {
    static let cookieName = "omnipost_session"
    static let sessionLife: TimeInterval = 12 * 3600
    let token: String?
    let loopbackReadsOpen: Bool
    let secureCookie: Bool
    let throttle = AuthThrottle()
    let logger: Logger?
    let sessions: SessionStore
    /// Which token the sessions were signed in with: one made with another token is not this listener's.
    let tokenFingerprint: String

    init(
        token: String?, loopbackReadsOpen: Bool = false, secureCookie: Bool = false, logger: Logger? = nil, sessions: SessionStore = .shared
    ) {
        self.token = token?.isEmpty == true ? nil : token
        self.sessions = sessions
        self.tokenFingerprint = Data(SHA256.hash(data: Data((token ?? "").utf8))).base64EncodedString()
        self.loopbackReadsOpen = loopbackReadsOpen
        self.secureCookie = secureCookie
        self.logger = logger
    }

    /// The `Set-Cookie` value for a session id (empty and expired to sign out).
    func cookie(_ id: String?) -> String {
        "\(Self.cookieName)=\(id ?? ""); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(id == nil ? 0 : Int(Self.sessionLife))" + (secureCookie ? "; Secure" : "")
    }

    /// Who is asking, for the throttle and the log: the client a proxy names (first hop), else the socket's address.
    static func source(_ req: Request, _ ctx: OperatorContext) -> String {
        if let f = req.headers[xForwardedFor]?.split(separator: ",").first { return f.trimmingCharacters(in: .whitespaces) }
        if let r = req.headers[xRealIP] { return r.trimmingCharacters(in: .whitespaces) }
        if let f = req.headers[forwarded],
            let part = f.split(separator: ";").flatMap({ $0.split(separator: ",") })
                .first(where: { $0.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("for=") })
        {
            return String(part.trimmingCharacters(in: .whitespaces).dropFirst(4)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return ctx.remoteAddress?.ipAddress ?? "unknown"
    }

    /// A wrong token from `source`: logged, counted, and the source slowed down.
    func failed(_ req: Request, _ ctx: OperatorContext, what: String) {
        let who = Self.source(req, ctx)
        throttle.failure(who)
        logger?.warning(
            "refused a wrong token",
            metadata: [
                "omnipost.source": "\(TerminalText.escape(who))", "omnipost.path": "\(TerminalText.escape(req.uri.path))",
                "omnipost.what": "\(what)"
            ])
    }

    /// A `429` while `source` is held back after wrong tokens, saying when to come back; nil otherwise.
    func heldBack(_ req: Request, _ ctx: OperatorContext) -> Response? {
        guard let wait = throttle.wait(Self.source(req, ctx)) else { return nil }
        return Response(
            status: .tooManyRequests, headers: [.contentType: "text/plain; charset=utf-8", .retryAfter: String(Int(wait.rounded(.up)))],
            body: .init(byteBuffer: .init(string: "too many wrong tokens from this address; try again in \(Int(wait.rounded(.up))) s\n")))
    }

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
        sessions.add(id, csrf: csrf, token: tokenFingerprint, expires: Date().addingTimeInterval(Self.sessionLife))
        return (id, csrf)
    }

    func signOut(_ req: Request) {
        guard let id = Self.cookie(req) else { return }
        sessions.remove(id)
    }

    /// The CSRF value of the request's live session, if it has one.
    func session(_ req: Request) -> String? {
        guard token != nil, let id = Self.cookie(req) else { return nil }
        return sessions.csrf(id, token: tokenFingerprint)
    }

    /// May this request read? With the bearer token or a session, always. Without: only from this
    /// machine, only when no token is set (or `loopback_reads: open`), and only when no proxy passed it on
    /// (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`, `Via`: whatever its socket says, it is from elsewhere).
    func mayRead(_ req: Request, _ ctx: OperatorContext) -> Bool {
        if bearer(req) || session(req) != nil { return true }
        let proxied = Self.proxySigns.contains { req.headers[$0] != nil }
        return ctx.fromLoopback && !proxied && (token == nil || loopbackReadsOpen)
    }
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!, forwarded = HTTPField.Name("Forwarded")!, xRealIP = HTTPField.Name("X-Real-IP")!
    static let proxySigns = [forwarded, xForwardedFor, xRealIP, HTTPField.Name("Via")!, HTTPField.Name("X-Forwarded-Host")!, HTTPField.Name("X-Forwarded-Proto")!]

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

/// Signed-in sessions, for the whole process: every listener it starts (a reload starts a new one) reads
/// the same store, so a reload signs nobody out. Each session remembers the token it was signed in with
/// (as a SHA-256 fingerprint) and counts only where that is still the token.
final class SessionStore: @unchecked Sendable {
    static let shared = SessionStore()
    private let lock = NSLock()
    private var sessions: [String: (csrf: String, token: String, expires: Date)] = [:]

    func add(_ id: String, csrf: String, token: String, expires: Date) {
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        sessions = sessions.filter { $0.value.expires > now }
        sessions[id] = (csrf, token, expires)
    }

    func remove(_ id: String) { lock.lock(); sessions[id] = nil; lock.unlock() }

    func csrf(_ id: String, token: String) -> String? {
        lock.lock(); defer { lock.unlock() }
        guard let s = sessions[id], s.expires > Date(), s.token == token else { return nil }
        return s.csrf
    }
}

/// Wrong tokens per source: the first few are free (a typo), then each further one holds that source
/// back for twice as long as the last (5 s, 10 s, 20 s … at most 5 min); a right token clears nothing —
/// the hold simply runs out. Sources are forgotten after an hour without a failure. Guessing a 16+
/// character token at a few tries an hour is hopeless; an operator's five typos cost nothing.
final class AuthThrottle: @unchecked Sendable {
    static let freeFailures = 5
    static let firstHold: Double = 5
    static let longestHold: Double = 300
    private let lock = NSLock()
    private var bySource: [String: (failures: Int, until: Date, last: Date)] = [:]
    private var total = 0
    private let now: @Sendable () -> Date

    init(now: @escaping @Sendable () -> Date = { Date() }) { self.now = now }

    func failure(_ source: String) {
        lock.lock(); defer { lock.unlock() }
        let t = now()
        total += 1
        if bySource.count > 10_000 { bySource = bySource.filter { t.timeIntervalSince($0.value.last) < 3600 } }
        var e = bySource[source] ?? (0, .distantPast, t)
        if t.timeIntervalSince(e.last) > 3600 { e.failures = 0 }
        e.failures += 1
        e.last = t
        if e.failures > Self.freeFailures {
            e.until = t.addingTimeInterval(min(Self.longestHold, Self.firstHold * pow(2, Double(e.failures - Self.freeFailures - 1))))
        }
        bySource[source] = e
    }

    /// Seconds `source` must still wait, or nil.
    func wait(_ source: String) -> Double? {
        lock.lock(); defer { lock.unlock() }
        guard let e = bySource[source] else { return nil }
        let left = e.until.timeIntervalSince(now())
        return left > 0 ? left : nil
    }

    var failures: Int { lock.lock(); defer { lock.unlock() }; return total }
}
