import Crypto
import Foundation

/// Signed, expiring links to one file the daemon serves (`media_host: {serve: true}`): the platform
/// that fetches media from a URL (Threads) gets `<public_url>/media/<name>?expires=<epoch>&sig=<hmac>`,
/// where the HMAC-SHA256 covers the name and the expiry. Without the key no other name or a later
/// expiry can be made; a link stops working when it expires.
package struct MediaLinkSigner: Sendable {
    let key: Data

    package init(key: Data) { self.key = key }

    /// Names the daemon serves: a rendition's sha256 and its extension.
    package static func isServable(_ name: String) -> Bool {
        name.range(of: "^[0-9a-f]{64}\\.[a-z0-9]{1,5}$", options: .regularExpression) != nil
    }

    func signature(_ name: String, _ expires: Int) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("\(name)\n\(expires)".utf8), using: SymmetricKey(data: key))
            .map { String(format: "%02x", $0) }.joined()
    }

    package func link(base: String, name: String, ttl: Int, now: Date = Date()) -> String {
        let expires = Int(now.timeIntervalSince1970) + ttl
        return "\(base)/media/\(name)?expires=\(expires)&sig=\(signature(name, expires))"
    }

    /// Removes served files no link can reach any more: put there (linked in) longer ago than a link
    /// lives. Run at start and each time a file is added, so the folder never grows without bound.
    package static func sweep(folder: URL, olderThan seconds: Int, now: Date = Date()) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names {
            let path = folder.appendingPathComponent(name).path
            var st = stat()
            // ctime: when the name was linked in (a hard link's mtime is the rendition's).
            guard stat(path, &st) == 0, Double(st.st_ctim.tv_sec) < now.timeIntervalSince1970 - Double(seconds) else { continue }
            unlink(path)
        }
    }

    /// Whether a request's `expires` and `sig` are ours for `name` and not yet past.
    package func verify(name: String, expires: String?, sig: String?, now: Date = Date()) -> Bool {
        guard Self.isServable(name), let e = expires.flatMap(Int.init), let sig, e >= Int(now.timeIntervalSince1970) else { return false }
        let want = Array(signature(name, e).utf8), got = Array(sig.lowercased().utf8)
        guard want.count == got.count else { return false }
        return zip(want, got).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0  // constant time
    }
}
