import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Seals credentials for the ledger with AES-256-GCM (ARCHITECTURE.md "Credentials"). The key comes
/// from an environment variable or a key file created 0600 — never from the ledger, never logged.
/// A sealed value is `sealed:v1:<base64 nonce‖ciphertext‖tag>`; anything else is an older plain value.
public struct Sealer: Sendable {
    /// The raw key bytes (SymmetricKey itself is not Sendable).
    let keyBytes: Data
    var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    public static let prefix = "sealed:v1:"

    public init(key: SymmetricKey) { self.keyBytes = key.withUnsafeBytes { Data($0) } }

    /// The key from `env` (base64 of 32 bytes) if set, else from `file`, creating that file (0600) with a
    /// fresh random key when it does not exist. A key file readable by others is refused.
    public static func load(file: URL, env: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Sealer {
        if let text = environment[env], !text.isEmpty {
            guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
                throw OmniError(.configInvalid, "$\(env) must hold 32 bytes in base64 (e.g. from `head -c32 /dev/urandom | base64`)")
            }
            return Sealer(key: SymmetricKey(data: data))
        }
        let fm = FileManager.default
        if !fm.fileExists(atPath: file.path) {
            try fm.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            let key = SymmetricKey(size: .bits256)
            let text = key.withUnsafeBytes { Data($0) }.base64EncodedString() + "\n"
            // O_EXCL: two processes starting at once never write two different keys.
            let fd = Glibc.open(file.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            if fd >= 0 {
                _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
                fsync(fd)
                Glibc.close(fd)
            } else if errno != EEXIST {
                throw OmniError(.configInvalid, "cannot create the credentials key file \(file.path): \(String(cString: strerror(errno)))")
            }
        }
        let attrs = try fm.attributesOfItem(atPath: file.path)
        if let mode = (attrs[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            throw OmniError(.configInvalid, "the credentials key file \(file.path) is readable by others (mode \(String(mode, radix: 8))); run chmod 600 on it")
        }
        guard let text = try? String(contentsOf: file, encoding: .utf8),
              let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
            throw OmniError(.configInvalid, "the credentials key file \(file.path) does not hold a base64 32-byte key")
        }
        return Sealer(key: SymmetricKey(data: data))
    }

    public func seal(_ plain: String) throws -> String {
        let box = try AES.GCM.seal(Data(plain.utf8), using: key)
        guard let combined = box.combined else { throw OmniError(.internalError, "AES-GCM gave no combined form") }
        return Self.prefix + combined.base64EncodedString()
    }

    /// Opens a sealed value; a value without the prefix is returned as it is (written before sealing existed).
    public func open(_ stored: String) throws -> String {
        guard stored.hasPrefix(Self.prefix) else { return stored }
        guard let data = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))),
              let box = try? AES.GCM.SealedBox(combined: data),
              let plain = try? AES.GCM.open(box, using: key) else {
            throw OmniError(.authRevoked, "a stored credential cannot be decrypted with this key: the key file or $OMNIPOST_SECRET_KEY changed; restore the key, or authorize the account again with `omnipost accounts`")
        }
        return String(decoding: plain, as: UTF8.self)
    }

    /// A fingerprint of a configured secret, so a changed one can be noticed without storing it.
    /// A key for another purpose (signing media links), derived from this one with HKDF: the same
    /// across restarts, never the sealing key itself.
    public func derivedKey(for purpose: String) -> Data {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("omnipost \(purpose)".utf8), outputByteCount: 32)
            .withUnsafeBytes { Data($0) }
    }

    public static func fingerprint(_ s: String) -> String {
        SHA256.hash(data: Data(s.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
