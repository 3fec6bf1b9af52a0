import Foundation

/// Parses human durations: `1.5s`, `500ms`, `2m`, `1h`, `1d`, or bare seconds.
package enum DurationText {
    package static func parse(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            // "ms" also ends in "s": only accept when the rest is a number.
            if let v = Double(number), v >= 0 { return .milliseconds(Int64((v * scale * 1000).rounded())) }
        }
        if let v = Double(text), v >= 0 { return .milliseconds(Int64((v * 1000).rounded())) }
        return nil
    }
}

/// How long a time in a clip a person may write (a chapter's start, a subtitle cue's): a week, far past any
/// platform's longest video (12 hours). Beyond it a number is not a time — and turned into whole seconds or
/// milliseconds for a message or a file, it overflowed (`9300000000000000000` as a chapter's start crashed
/// `run` and `check`).
package enum MediaTime {
    package static let longest: Double = 7 * 86_400
}

/// Parses byte sizes: `8MiB`, `256KiB`, `5MB`, `1GB`, or bare bytes.
package enum ByteSizeText {
    package static func parse(_ text: String) -> Int64? {
        let units: [(String, Double)] = [
            ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824),
            ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1)
        ]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            if let v = Double(number), v >= 0 { return Int64(v * scale) }
        }
        return Int64(text)
    }
}

extension Duration {
    package var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}

extension DurationText {
    /// The other way round, for people: `90s` → "1m30s", `86400` → "24h".
    package static func format(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return s % 60 == 0 ? "\(s / 60)m" : "\(s / 60)m\(s % 60)s" }
        return s % 3600 == 0 ? "\(s / 3600)h" : "\(s / 3600)h\(s % 3600 / 60)m"
    }
}
