/// The part sizes a platform's chunked upload takes, as its descriptor says (TikTok's 5–64 MB in at most
/// 1,000 chunks, S3's 5 MiB–5 GiB in at most 10,000 parts, YouTube's multiples of 256 KiB, X's APPEND
/// segments): the configured `upload.chunk_size` is brought within them, never sent outside.
package struct PartSizes: Sendable, Equatable {
    package var min: Int64
    package var max: Int64
    /// Every part but the last is a multiple of this (YouTube: 256 KiB).
    package var multiple: Int64
    /// How many parts one upload may have, where the platform says (S3: 10,000; TikTok: 1,000).
    package var maxCount: Int64?

    package init(min: Int64, max: Int64 = .max, multiple: Int64 = 1, maxCount: Int64? = nil) {
        self.min = min
        self.max = max
        self.multiple = multiple
        self.maxCount = maxCount
    }

    /// The configured chunk size within these limits (rounded down to the multiple).
    package func fit(_ asked: Int64) -> Int64 {
        let within = Swift.min(Swift.max(asked, min), max)
        return Swift.max(multiple, within / multiple * multiple)
    }
}
