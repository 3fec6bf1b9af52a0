import Crypto
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Seals credentials for the ledger with AES-256-GCM (ARCHITECTURE.md "Credentials"). The key comes
/// from an environment variable or a key file created 0600 — never from the ledger, never logged.
/// A sealed value is `sealed:v1:<base64 nonce‖ciphertext‖tag>`; anything else is an older plain value.
package struct Sealer: Sendable {
    /// The raw key bytes (SymmetricKey itself is not Sendable).
    let keyBytes: Data
    /// Keys that sealed values before the last `accounts rekey`: still opened, never sealed with.
    let previous: [Data]
    var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    package static let prefix = "sealed:v1:"

    package init(key: SymmetricKey) {
        self.keyBytes = key.withUnsafeBytes { Data($0) }
        self.previous = []
    }

    init(keys: [Data]) {
        self.keyBytes = keys[0]
        self.previous = Array(keys.dropFirst())
    }

    /// How many earlier keys this key ring still opens with.
    package var previousKeys: Int { previous.count }

    /// A key ring as written: one base64 32-byte key per line (or comma), the current one first.
    static func parseKeys(_ text: String) -> [Data]? {
        let parts = text.split(whereSeparator: { $0 == "\n" || $0 == "," || $0 == "\r" }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let keys = parts.compactMap { Data(base64Encoded: $0) }
        guard !keys.isEmpty, keys.count == parts.count, keys.allSatisfy({ $0.count == 32 }) else { return nil }
        return keys
    }

    /// The key from `env` (base64 of 32 bytes) if set, else from `file`, creating that file (0600) with a
    /// fresh random key when it does not exist. A key file readable by others is refused.
    package static func load(file: URL, env: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Sealer {
        if let text = environment[env], !text.isEmpty {
            guard let keys = parseKeys(text) else {
                throw OmniError(
                    .configInvalid, "$\(env) must hold 32 bytes in base64 (e.g. from `head -c32 /dev/urandom | base64`), or several separated by commas, the current first")
            }
            return Sealer(keys: keys)
        }
        let fm = FileManager.default
        if !fm.fileExists(atPath: file.path) {
            try fm.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            let key = SymmetricKey(size: .bits256)
            let text = key.withUnsafeBytes { Data($0) }.base64EncodedString() + "\n"
            try create(file, text)
        }
        let attrs = try fm.attributesOfItem(atPath: file.path)
        if let mode = (attrs[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            throw OmniError(.configInvalid, "the credentials key file \(file.path) is readable by others (mode \(String(mode, radix: 8))); run chmod 600 on it")
        }
        // A key file another process is creating where no link can be made (`create`'s fallback) may be read
        // empty for a moment: a new, empty one is read again for up to 2 s before it is refused.
        var text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        for _ in 0..<40 where text.isEmpty && (attrs[.modificationDate] as? Date).map({ Date().timeIntervalSince($0) < 5 }) == true {
            usleep(50_000)
            text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        }
        guard let keys = parseKeys(text) else {
            throw OmniError(.configInvalid, "the credentials key file \(file.path) does not hold a base64 32-byte key (one per line, the current first)")
        }
        return Sealer(keys: keys)
    }

    /// A new key file, whole the moment it exists: written and synced under a private name, then linked to
    /// its name — which fails if another process starting at once got there first (its key is then the
    /// one). It was created empty (`O_EXCL`) and written after, so a daemon starting beside it read it empty
    /// and refused to start (three hosts starting on one root, in a clean-clone run). Where the file system
    /// makes no hard link, the old way, and a reader waits out an empty new file (`load`).
    static func create(_ file: URL, _ text: String) throws {
        let tmp = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).new")
        let fd = Glibc.open(tmp.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw OmniError(.configInvalid, "cannot create the credentials key file \(file.path): \(String(cString: strerror(errno)))") }
        let ok = text.withCString { Glibc.write(fd, $0, strlen($0)) } == text.utf8.count && fsync(fd) == 0
        Glibc.close(fd)
        defer { unlink(tmp.path) }
        guard ok else { throw OmniError(.configInvalid, "cannot write the credentials key file \(tmp.path): \(String(cString: strerror(errno)))") }
        if link(tmp.path, file.path) == 0 || errno == EEXIST { return }
        // No hard links here: O_EXCL, so two processes starting at once never write two different keys.
        let direct = Glibc.open(file.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if direct >= 0 {
            _ = text.withCString { Glibc.write(direct, $0, strlen($0)) }
            fsync(direct)
            Glibc.close(direct)
        } else if errno != EEXIST {
            throw OmniError(.configInvalid, "cannot create the credentials key file \(file.path): \(String(cString: strerror(errno)))")
        }
    }

    /// `accounts rekey`: a new key goes first in the key file, the old ones stay after it (so values
    /// not yet re-sealed, and a running daemon, still open). Written to a temporary file, fsynced, and
    /// renamed over the old one: the file is never half written.
    package static func addKey(file: URL) throws -> Sealer {
        let old = try load(file: file, env: "")
        let new = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        try writeKeys([new, old.keyBytes] + old.previous, to: file)
        return Sealer(keys: [new, old.keyBytes] + old.previous)
    }

    /// Drops every key but the current one (once every value is sealed with it).
    package static func dropPreviousKeys(file: URL) throws {
        let ring = try load(file: file, env: "")
        try writeKeys([ring.keyBytes], to: file)
    }

    static func writeKeys(_ keys: [Data], to file: URL) throws {
        let tmp = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(getpid()).new")
        let text = keys.map { $0.base64EncodedString() }.joined(separator: "\n") + "\n"
        unlink(tmp.path)
        let fd = Glibc.open(tmp.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw OmniError(.configInvalid, "cannot write \(tmp.path): \(String(cString: strerror(errno)))") }
        let ok = text.withCString { Glibc.write(fd, $0, strlen($0)) } == text.utf8.count && fsync(fd) == 0
        Glibc.close(fd)
        guard ok, rename(tmp.path, file.path) == 0 else {
            unlink(tmp.path)
            throw OmniError(.configInvalid, "cannot replace the credentials key file \(file.path): \(String(cString: strerror(errno)))")
        }
    }

    package func seal(_ plain: String) throws -> String {
        let box = try AES.GCM.seal(Data(plain.utf8), using: key)
        guard let combined = box.combined else { throw OmniError(.internalError, "AES-GCM gave no combined form") }
        return Self.prefix + combined.base64EncodedString()
    }

    /// Whether a stored value is sealed with the current key (not an earlier one, not plain).
    package func sealedWithCurrentKey(_ stored: String) -> Bool {
        guard stored.hasPrefix(Self.prefix), let data = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))),
            let box = try? AES.GCM.SealedBox(combined: data)
        else { return false }
        return (try? AES.GCM.open(box, using: key)) != nil
    }

    /// Opens a sealed value; a value without the prefix is returned as it is (written before sealing existed).
    package func open(_ stored: String) throws -> String {
        guard stored.hasPrefix(Self.prefix) else { return stored }
        guard let data = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))),
            let box = try? AES.GCM.SealedBox(combined: data),
            let plain = ([keyBytes] + previous).lazy.compactMap({ try? AES.GCM.open(box, using: SymmetricKey(data: $0)) }).first
        else {
            throw OmniError(
                .authRevoked,
                "a stored credential cannot be decrypted with this key: the key file or $OMNIPOST_SECRET_KEY changed; restore the key, or authorize the account again with `omnipost accounts`"
            )
        }
        return String(decoding: plain, as: UTF8.self)
    }

    /// A fingerprint of a configured secret, so a changed one can be noticed without storing it.
    /// A key for another purpose (signing media links), derived from this one with HKDF: the same
    /// across restarts, never the sealing key itself.
    package func derivedKey(for purpose: String) -> Data {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("omnipost \(purpose)".utf8), outputByteCount: 32)
            .withUnsafeBytes { Data($0) }
    }

    package static func fingerprint(_ s: String) -> String {
        SHA256.hash(data: Data(s.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
