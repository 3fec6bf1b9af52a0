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
