import CXXHash

/// XXH3-128 (xxHash's 128-bit hash), streamed: what the changed-file check hashes a file with while it is
/// uploaded, ~20× sha256's speed on one core — it guards against accidental change (any byte, the length,
/// another file), not an adversary, and the file's sha256 taken with it stays its identity.
/// Not thread-safe: one owner at a time (PinnedReader holds its lock around it).
package final class XXH3Hasher {
    private let state: OpaquePointer

    package init() {
        // Allocation failure is out of memory: nothing sensible goes on from there.
        guard let s = XXH3_createState() else { fatalError("XXH3_createState: out of memory") }
        state = s
        XXH3_128bits_reset(state)
    }

    deinit { XXH3_freeState(state) }

    /// Starts again at an empty input.
    package func reset() { XXH3_128bits_reset(state) }

    package func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        XXH3_128bits_update(state, base, bytes.count)
    }

    /// The hash of everything given since the start (or `reset`), in xxHash's canonical form as hex —
    /// the digits `xxhsum -H2` prints — without ending the stream.
    package func hex() -> String {
        var canonical = XXH128_canonical_t()
        XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(state))
        return withUnsafeBytes(of: canonical.digest) { $0.hex }
    }

    /// One buffer's hash, in the same form.
    package static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        let h = XXH3Hasher()
        h.update(bytes)
        return h.hex()
    }
}
