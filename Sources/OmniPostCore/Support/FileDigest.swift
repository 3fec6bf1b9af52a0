import Crypto

/// A whole file's hash as recorded when it was taken (or rendered), with the algorithm that made it: what
/// an upload checks the bytes it read against before the last part leaves (`PinnedReader`).
package struct FileDigest: Sendable, Equatable, Hashable {
    package enum Algorithm: String, Sendable {
        /// Recorded since ledger v22 beside the sha256: the check at wire speed.
        case xxh3_128 = "xxh3-128"
        /// The file's identity; the check for rows from before v22, which have nothing else.
        case sha256
    }

    package var algorithm: Algorithm
    /// Lowercase hex: xxHash's canonical form for XXH3-128, the usual digest for sha256.
    package var hex: String

    package init(_ algorithm: Algorithm, _ hex: String) {
        self.algorithm = algorithm
        self.hex = hex
    }
}

extension FileDigest {
    /// The hash of the bytes given so far, in one algorithm (none: nothing recorded, nothing hashed) — the
    /// one running hash every changed-file check uses (`PinnedReader`, `PinnedFile`, `BeneathDirectory.digest`).
    package final class Hasher {
        private let algorithm: Algorithm?
        private var sha = SHA256()
        private let xxh3: XXH3Hasher?

        package init(_ algorithm: Algorithm?) {
            self.algorithm = algorithm
            xxh3 = algorithm == .xxh3_128 ? XXH3Hasher() : nil
        }

        package func update(_ bytes: UnsafeRawBufferPointer) {
            switch algorithm {
            case .xxh3_128: xxh3?.update(bytes)
            case .sha256: sha.update(bufferPointer: bytes)
            case nil: break
            }
        }

        package func restart() {
            sha = SHA256()
            xxh3?.reset()
        }

        package func hex() -> String {
            switch algorithm {
            case .xxh3_128: xxh3?.hex() ?? ""
            case .sha256: sha.finalize().hex
            case nil: ""
            }
        }
    }
}
