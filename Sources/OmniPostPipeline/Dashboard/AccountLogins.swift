import Foundation
import OmniPostCore
import OmniPostLedger

/// The dashboard's QR logins for platforms driven through their pages (issue 28): the Accounts page's
/// "Log in by QR code" opens the account's login page in headless Chromium — the same `BrowserLogin`
/// as `omnipost accounts add` — and the page then shows the QR code it read, for the phone app to scan,
/// until the page turns logged in and the cookies are sealed in the ledger. One login at a time (one
/// browser, as for posts: memory on a NAS), each bounded by its timeout, all ended when the listener stops.
actor AccountLogins {
    enum State: Sendable {
        case opening(since: Date)
        case waiting(qr: [[Bool]], until: Date)
        case connected(cookies: Int, at: Date)
        case failed(String, at: Date)
    }

    /// How long a scan is waited for: the same as `accounts add` over SSH.
    static let timeout: Duration = .seconds(300)
    private var states: [String: State] = [:]
    private var running: (key: String, task: Task<Void, Never>)?

    static func key(pipeline: String, account: String) -> String { pipeline + "/" + account }

    func state(_ key: String) -> State? { states[key] }

    /// Starts a login, or says why not (another one is waiting for its scan).
    func start(
        key: String, login: @escaping @Sendable (_ shown: @escaping @Sendable ([[Bool]]) async -> Void) async throws -> Int
    ) -> String? {
        if let r = running {
            return r.key == key ? nil : "another account's login (\(r.key)) is waiting for its scan; one browser at a time"
        }
        states[key] = .opening(since: Date())
        let task = Task {
            let outcome: State
            do {
                let n = try await login { qr in await self.show(key, qr) }
                outcome = .connected(cookies: n, at: Date())
            } catch let e as OmniError {
                outcome = .failed(e.message, at: Date())
            } catch is CancellationError {
                outcome = .failed("the login was stopped with the listener", at: Date())
            } catch {
                outcome = .failed("\(error)", at: Date())
            }
            self.finish(key, outcome)
        }
        running = (key, task)
        return nil
    }

    private func show(_ key: String, _ qr: [[Bool]]) {
        states[key] = .waiting(qr: qr, until: Date().addingTimeInterval(Self.timeout.seconds))
    }

    private func finish(_ key: String, _ s: State) {
        states[key] = s
        if running?.key == key { running = nil }
    }

    /// The listener stops: a login still waiting closes its browser now.
    func cancelAll() async {
        guard let r = running else { return }
        r.task.cancel()
        await r.task.value
    }
}

/// A QR code as SVG for the dashboard: one path of unit squares for the dark modules inside the
/// four-module quiet zone a reader needs, scaled by the page (no image file, no script).
enum QRCodeDrawing {
    static func svg(_ modules: [[Bool]], size: Int = 264) -> String {
        let quiet = 4, n = modules.count + 2 * quiet
        var d = ""
        for (r, row) in modules.enumerated() {
            for (c, dark) in row.enumerated() where dark { d += "M\(c + quiet) \(r + quiet)h1v1h-1z" }
        }
        return """
            <svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(n) \(n)" width="\(size)" height="\(size)" role="img" aria-label="QR code to scan with the app" shape-rendering="crispEdges"><rect width="\(n)" height="\(n)" fill="#fff"/><path fill="#000" d="\(d)"/></svg>
            """
    }
}
