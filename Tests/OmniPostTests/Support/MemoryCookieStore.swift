import Foundation
import OmniPostCore
import OmniPostPlatforms

/// A cookie store in memory (a browser adapter's, without a ledger), starting from `seed`.
actor MemoryCookieStore: CookieStore {
    private var jars: [String: CookieJar] = [:]
    private(set) var saves = 0

    init(_ seed: [String: CookieJar] = [:]) { jars = seed }

    func load(account: String) async throws -> CookieJar? { jars[account] }

    func save(account: String, jar: CookieJar) async throws {
        jars[account] = jar
        saves += 1
    }
}
