import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
import Testing

/// `accounts import-cookies`: cookies.txt and a browser extension's JSON both read, bad lines answered
/// at their line and column, the jar sealed in the ledger with when it lapses, re-sealed by `rekey`.
@Suite struct CookieImportTests {
    /// Every command that takes an account names a typo as one, with what was meant.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)))
    func anAccountTypoIsNamedByEveryAccountCommand() throws {
        let dir = try TempDir()
        let pipeline = try dir.write("p.yaml", "version: 1\nroot: \(dir.url.path)/p\nsandbox: embedded\ntargets: [youtube:main]\n")
        let cookies = try dir.write("c.txt", Self.netscape)
        for args in [["accounts", "remove", pipeline.path, "youtub:main"], ["accounts", "import-cookies", pipeline.path, "youtub:main", cookies.path]] {
            let r = try CheckCommandTests.run(args)
            #expect(r.status != 0 && r.out.contains("has no account 'youtub:main'; did you mean 'youtube:main'?"), "\(args[1]): \(r.out)")
        }
    }

    static let netscape = """
        # Netscape HTTP Cookie File
        # This is a generated file! Do not edit.

        .example.com\tTRUE\t/\tTRUE\t2000000000\tsessionid\tsecret-session-value
        #HttpOnly_www.example.com\tFALSE\t/app\tFALSE\t1900000000\tcsrftoken\tcsrf-value
        .example.com\tTRUE\t/\tFALSE\t0\tprefs\tdark\r

        """

    @Test func bothFormsAreReadAndBadLinesAreAnsweredWhereTheyAre() throws {
        let jar = try CookieJar.parse(Self.netscape, file: "cookies.txt")
        #expect(jar.cookies.count == 3 && jar.domains == ["example.com", "www.example.com"])
        #expect(jar.cookies[1].httpOnly && jar.cookies[1].path == "/app" && !jar.cookies[1].secure && jar.cookies[0].secure)
        #expect(jar.cookies[2].expires == nil && jar.cookies[2].value == "dark" && jar.firstExpiry == 1_900_000_000)
        let json =
            #"[{"domain": ".example.com", "name": "sid", "value": "v", "path": "/", "expirationDate": 1950000000.5, "secure": true, "httpOnly": true},"#
            + #" {"domain": "example.com", "name": "s", "value": "x", "session": true}]"#
        let j = try CookieJar.parse(json, file: "export.json")
        #expect(j.cookies.count == 2 && j.firstExpiry == 1_950_000_000.5 && j.cookies[1].expires == nil)
        let fields = #expect(throws: OmniError.self) { _ = try CookieJar.parse(".example.com\tTRUE\t/\tTRUE\tsessionid\tv\n", file: "c.txt") }
        #expect(fields?.location?.description == "c.txt:1:1" && fields?.message.contains("7 fields") == true, "\(String(describing: fields))")
        let expiry = #expect(throws: OmniError.self) { _ = try CookieJar.parse("# x\n.example.com\tTRUE\t/\tTRUE\tsoon\tn\tv\n", file: "c.txt") }
        #expect(expiry?.location?.description == "c.txt:2:26", "\(String(describing: expiry?.location))")
        #expect(throws: OmniError.self) { _ = try CookieJar.parse("# only comments\n", file: "c.txt") }
        #expect(throws: OmniError.self) { _ = try CookieJar.parse("[{\"value\": \"no name\"}]", file: "c.json") }
        #expect(throws: OmniError.self) { _ = try CookieJar.parse("{\"not\": \"cookies\"}", file: "c.json") }
    }

    @Test func aJarIsSealedInTheLedgerAndRekeyedWithTheRest() throws {
        let dir = try TempDir()
        let config = try PlatformRegistry.parse(
            text: "version: 1\nroot: \(dir.url.path)/p\ntargets: [youtube:main]\naccounts:\n  youtube:main: {client_id: c, client_secret: s}\n",
            file: "p.yaml", baseDirectory: dir.url)
        let file = try dir.write("cookies.txt", Self.netscape)
        let s = try CookieImport.run(config: config, account: "youtube:main", file: file.path)
        #expect(s.cookies == 3 && s.expiresAt == 1_900_000_000 && s.domains == "example.com, www.example.com")
        let ledger = try Ledger(path: config.paths.ledger.path)
        let sealed = try #require(try ledger.cookieJar(account: "youtube:main"))
        #expect(sealed.hasPrefix("sealed:v1:") && !sealed.contains("secret-session-value"))
        #expect(try CookieImport.load(config: config, account: "youtube:main")?.cookies.first?.value == "secret-session-value")
        _ = try Rekey.run(config: config, forgetOld: true)
        _ = try Rekey.run(config: config, forgetOld: false)
        _ = try Rekey.run(config: config, forgetOld: true)
        #expect(try CookieImport.load(config: config, account: "youtube:main")?.cookies.count == 3)
        #expect(throws: OmniError.self) { _ = try CookieImport.run(config: config, account: "youtube:mian", file: file.path) }
        #expect(try ledger.removeToken(account: "youtube:main") && (try ledger.cookieJars().isEmpty))
    }
}
