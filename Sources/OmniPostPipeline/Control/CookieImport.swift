import Foundation
import OmniPostCore
import OmniPostLedger

/// `omnipost accounts import-cookies`: a browser session's cookies for an account, read (cookies.txt
/// or a JSON export, bad lines answered at their line), sealed with the credentials key, and stored in
/// the ledger with when the first of them lapses. No value is printed.
package enum CookieImport {
    package static func run(config: PipelineConfig, account: String, file: String) throws -> Ledger.CookieJarSummary {
        _ = try config.account(account)
        let jar = try CookieJar.load(path: file, displayName: (file as NSString).lastPathComponent)
        try config.paths.createAll()
        let ledger = try Ledger.open(config)
        let sealer = try KeyRing(config: config).current()
        let json = String(decoding: try JSONEncoder().encode(jar), as: UTF8.self)
        try ledger.storeCookieJar(
            account: account, sealed: try sealer.seal(json), cookies: jar.cookies.count,
            domains: jar.domains.joined(separator: ", "), expiresAt: jar.firstExpiry)
        return try ledger.cookieJars().first { $0.account == account }!
    }

    /// The stored jar, opened (for the browser-driven adapters to come, and the tests).
    package static func load(config: PipelineConfig, account: String) throws -> CookieJar? {
        let ledger = try Ledger.open(config)
        guard let sealed = try ledger.cookieJar(account: account) else { return nil }
        return try JSONDecoder().decode(CookieJar.self, from: Data(try KeyRing(config: config).current().open(sealed).utf8))
    }
}
