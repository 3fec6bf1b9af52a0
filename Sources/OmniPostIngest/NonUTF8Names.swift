import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// File names that are not UTF-8 — `caf\xE9.mp4` from an old SMB client writing Latin-1. Foundation's
/// directory listing drops or mangles them, so such a file used to be silently ignored. Instead the
/// inbox lists names as bytes, and a name that is not UTF-8 is renamed in place to its Latin-1 reading
/// (`café.mp4`, which is what those clients meant), logged with the old name escaped, and then taken
/// like any other file. Nothing is lost and nothing is silent.
package enum NonUTF8Names {
    package struct Rename: Sendable, Equatable {
        /// Inbox-relative folder.
        package var dir: String
        /// The old name, invalid bytes written as `\xNN`.
        package var escaped: String
        /// Empty when the rename failed: the file stays, untaken, and this is reported.
        package var new: String
    }

    /// The names in a folder as bytes; valid UTF-8 ones as they are, others renamed (see above).
    static func list(dirAbs: String, dirRel: String, renamed: RenameLog) -> [String] {
        guard let d = opendir(dirAbs) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let entry = readdir(d) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { raw -> [UInt8] in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            if bytes == Array(".".utf8) || bytes == Array("..".utf8) || bytes.isEmpty { continue }
            if let name = String(validating: bytes, as: UTF8.self) {
                out.append(name)
            } else if let new = adopt(dirAbs: dirAbs, bytes: bytes) {
                renamed.add(Rename(dir: dirRel, escaped: escape(bytes), new: new))
                out.append(new)
            } else {
                // Could not rename (a read-only share?): still never silent.
                renamed.add(Rename(dir: dirRel, escaped: escape(bytes), new: ""))
            }
        }
        return out
    }

    /// `caf\xE9.mp4`: printable ASCII as is, every other byte as `\xNN`.
    package static func escape(_ bytes: [UInt8]) -> String {
        bytes.map { (0x20..<0x7F).contains($0) && $0 != UInt8(ascii: "\\") ? String(UnicodeScalar($0)) : String(format: "\\x%02X", $0) }.joined()
    }

    /// Each byte read as Latin-1 (every byte is a valid Latin-1 character).
    package static func latin1(_ bytes: [UInt8]) -> String {
        String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }

    /// Renames the file to its Latin-1 reading (or `name (2).ext`… if that is taken). Nil if it cannot be renamed.
    static func adopt(dirAbs: String, bytes: [UInt8]) -> String? {
        let base = latin1(bytes).replacingOccurrences(of: "/", with: "_")
        let ext = (base as NSString).pathExtension
        let stem = (base as NSString).deletingPathExtension
        var oldPath = Array(dirAbs.utf8) + [UInt8(ascii: "/")] + bytes
        oldPath.append(0)
        for n in 1...20 {
            let candidate = n == 1 ? base : "\(stem) (\(n))" + (ext.isEmpty ? "" : "." + ext)
            let newPath = dirAbs + "/" + candidate
            var st = stat()
            if lstat(newPath, &st) == 0 { continue }
            // A rename (not link + unlink): the watcher sees the file moved in, complete. Between the check
            // above and the rename a file of that name could appear and be replaced; renameat2's
            // RENAME_NOREPLACE would close that window but Glibc's module does not export it.
            let renamed = oldPath.withUnsafeBufferPointer { p in
                p.withMemoryRebound(to: CChar.self) { rename($0.baseAddress!, newPath) }
            }
            if renamed == 0 { return candidate }
            break
        }
        return nil
    }
}

/// Renames made while listing, drained by the watcher into its log (and the ledger).
package final class RenameLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [NonUTF8Names.Rename] = []
    package init() {}
    func add(_ r: NonUTF8Names.Rename) { lock.lock(); items.append(r); lock.unlock() }
    package func drain() -> [NonUTF8Names.Rename] { lock.lock(); defer { items.removeAll(); lock.unlock() }; return items }
}
