import Foundation
import OmniPostCore

/// One headless Chromium for one account, driven over the DevTools protocol: launched on the account's
/// profile folder, one page attached (flattened session), and always closed — the process group killed —
/// when the body ends, also when it throws or is cancelled. `peakRSS` says what it cost.
package struct BrowserSession: Sendable {
    package let process: ChromiumProcess
    package let connection: DevToolsConnection
    package let page: BrowserPage

    /// Every step's hard limit: a command the browser does not answer, a page that does not load.
    package struct Timeouts: Sendable {
        package var launch: Duration = .seconds(30)
        package var command: Duration = .seconds(20)
        package var navigation: Duration = .seconds(30)
        package init() {}
    }

    /// What the session cost, measured after it closed.
    package struct Cost: Sendable, Equatable {
        package var peakRSS: Int64
        package var seconds: Double
    }

    /// Runs `body` with a fresh browser on `profile`; returns its value and the session's cost. Chromium is
    /// closed before this returns, whichever way `body` ends.
    package static func with<T: Sendable>(
        profile: URL, executable: String = ChromiumProcess.defaultExecutable, timeouts: Timeouts = Timeouts(),
        _ body: (BrowserSession) async throws -> T
    ) async throws -> (value: T, cost: Cost) {
        let started = ContinuousClock.now
        let process = try await ChromiumProcess.launch(executable: executable, profile: profile, within: timeouts.launch)
        func cost() -> Cost { Cost(peakRSS: process.peakRSS, seconds: (ContinuousClock.now - started).seconds) }
        var connection: DevToolsConnection?
        do {
            let c = try await DevToolsConnection.open(process.webSocketURL, within: timeouts.command)
            connection = c
            let page = try await BrowserPage.attach(c, timeouts: timeouts)
            let v = try await body(BrowserSession(process: process, connection: c, page: page))
            await c.close()
            process.close()
            return (v, cost())
        } catch {
            await connection?.close()
            process.close()
            throw error
        }
    }
}
