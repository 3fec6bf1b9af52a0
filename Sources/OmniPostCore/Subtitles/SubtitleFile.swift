import Foundation

/// A subtitle file read for its cues: SubRip (`.srt`) or WebVTT (`.vtt`). Only the timing is checked
/// strictly — every cue's start and end read, the end after the start — since that is what a platform
/// refuses a track for; the text is kept as written. Where a rule is broken the error names the file,
/// line and column (`subtitles_invalid`).
package struct SubtitleFile: Sendable, Equatable {
    package enum Format: String, Sendable, Codable { case srt, vtt }

    package struct Cue: Sendable, Equatable {
        package var start: Double
        package var end: Double
        package var text: String
    }

    package var format: Format
    package var cues: [Cue]
    /// The text as read (a byte-order mark dropped): what a platform that takes the file's own format is sent.
    package var source = ""

    /// The largest subtitle file read (a feature's worth of cues is a few hundred KB).
    package static let maxBytes = 4 << 20

    /// The format named by a file's extension, or nil for anything else.
    package static func format(of path: String) -> Format? {
        Format(rawValue: (path as NSString).pathExtension.lowercased())
    }

    package static func load(path: String, displayName: String) throws -> SubtitleFile {
        guard let format = format(of: path) else {
            throw OmniError(.subtitlesInvalid, "a subtitle file is .srt or .vtt; \(displayName) is neither", at: SourceLocation(file: displayName))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OmniError(.missingFile, "the subtitle file \(displayName) cannot be read", at: SourceLocation(file: displayName))
        }
        if data.count > maxBytes {
            throw OmniError(.subtitlesInvalid, "\(displayName) is \(data.count) bytes; a subtitle file may hold at most \(maxBytes)", at: SourceLocation(file: displayName))
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw OmniError(.subtitlesInvalid, "\(displayName) is not UTF-8 text (platforms take UTF-8 subtitles)", at: SourceLocation(file: displayName, line: 1, column: 1))
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        return try parse(text, format: format, file: displayName)
    }

    package static func parse(_ text: String, format: Format, file: String) throws -> SubtitleFile {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let cues = format == .srt ? try parseSRT(lines, file: file) : try parseVTT(lines, file: file)
        guard !cues.isEmpty else {
            throw OmniError(.subtitlesInvalid, "\(file) has no cues", at: SourceLocation(file: file, line: 1, column: 1))
        }
        return SubtitleFile(format: format, cues: cues, source: text)
    }

    /// SubRip: blocks of a counter line, `00:00:01,000 --> 00:00:04,000`, then the text, separated by blank lines.
    static func parseSRT(_ lines: [String], file: String) throws -> [Cue] {
        var cues: [Cue] = []
        var i = 0
        while i < lines.count {
            if lines[i].trimmingCharacters(in: .whitespaces).isEmpty {
                i += 1
                continue
            }
            // The counter is optional in practice (many writers number loosely); the timing line is not.
            if !lines[i].contains("-->") { i += 1 }
            guard i < lines.count else {
                throw OmniError(
                    .subtitlesInvalid, "a cue's timing line (`00:00:01,000 --> 00:00:04,000`) is missing at the end", at: SourceLocation(file: file, line: i, column: 1))
            }
            let (start, end) = try timing(lines[i], line: i + 1, file: file, separator: ",")
            i += 1
            cues.append(Cue(start: start, end: end, text: text(lines, from: &i)))
        }
        return cues
    }

    /// WebVTT (w3.org/TR/webvtt1): the `WEBVTT` signature, header blocks (NOTE, STYLE, REGION) skipped,
    /// cues with an optional identifier, and start times that never go back (the spec's cue order).
    static func parseVTT(_ lines: [String], file: String) throws -> [Cue] {
        guard let first = lines.first, first == "WEBVTT" || first.hasPrefix("WEBVTT ") || first.hasPrefix("WEBVTT\t") else {
            throw OmniError(.subtitlesInvalid, "a WebVTT file starts with the line `WEBVTT`", at: SourceLocation(file: file, line: 1, column: 1))
        }
        var cues: [Cue] = []
        var i = 1
        while i < lines.count {
            if lines[i].trimmingCharacters(in: .whitespaces).isEmpty {
                i += 1
                continue
            }
            let block = lines[i]
            if block.hasPrefix("NOTE") || block == "STYLE" || block == "REGION" || (cues.isEmpty && !block.contains("-->") && i + 1 < lines.count && !lines[i + 1].contains("-->"))
            {
                while i < lines.count, !lines[i].trimmingCharacters(in: .whitespaces).isEmpty { i += 1 }
                continue
            }
            if !block.contains("-->") { i += 1 }
            guard i < lines.count, lines[i].contains("-->") else {
                throw OmniError(.subtitlesInvalid, "a cue's timing line (`00:01.000 --> 00:04.000`) is missing", at: SourceLocation(file: file, line: i + 1, column: 1))
            }
            let (start, end) = try timing(lines[i], line: i + 1, file: file, separator: ".")
            if let last = cues.last, start < last.start {
                throw OmniError(
                    .subtitlesInvalid, "WebVTT cues are in order of their start; this one starts at \(Self.clock(start)), before the one before it (\(Self.clock(last.start)))",
                    at: SourceLocation(file: file, line: i + 1, column: 1))
            }
            i += 1
            cues.append(Cue(start: start, end: end, text: text(lines, from: &i)))
        }
        return cues
    }

    /// A cue's text: its lines up to the next blank one (where `i` is left).
    static func text(_ lines: [String], from i: inout Int) -> String {
        var body: [String] = []
        while i < lines.count, !lines[i].trimmingCharacters(in: .whitespaces).isEmpty {
            body.append(lines[i])
            i += 1
        }
        return body.joined(separator: "\n")
    }

    /// `start --> end[ settings]`, each a timestamp with `separator` before its milliseconds.
    static func timing(_ line: String, line n: Int, file: String, separator: Character) throws -> (Double, Double) {
        guard let arrow = line.range(of: "-->") else {
            throw OmniError(.subtitlesInvalid, "a cue's timing line is `start --> end`", at: SourceLocation(file: file, line: n, column: 1))
        }
        let left = String(line[..<arrow.lowerBound])
        let rightStart = line.distance(from: line.startIndex, to: arrow.upperBound)
        let right = String(line[arrow.upperBound...])
        let startCol = (left.firstIndex { !$0.isWhitespace }).map { left.distance(from: left.startIndex, to: $0) + 1 } ?? 1
        let rightTrimmed = right.drop { $0.isWhitespace }
        let endCol = rightStart + (right.count - rightTrimmed.count) + 1
        let endText = rightTrimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
        let example = separator == "," ? "00:00:01,000" : "00:00:01.000"
        guard let start = timestamp(left.trimmingCharacters(in: .whitespaces), separator: separator) else {
            throw OmniError(
                .subtitlesInvalid, "the start '\(Excerpt.quote(left.trimmingCharacters(in: .whitespaces), max: 30))' is not a time like \(example)",
                at: SourceLocation(file: file, line: n, column: startCol))
        }
        guard let end = timestamp(endText, separator: separator) else {
            throw OmniError(
                .subtitlesInvalid, "the end '\(Excerpt.quote(endText, max: 30))' is not a time like \(example)", at: SourceLocation(file: file, line: n, column: endCol))
        }
        guard end > start else {
            throw OmniError(
                .subtitlesInvalid, "a cue ends after it starts; this one runs from \(clock(start)) to \(clock(end))", at: SourceLocation(file: file, line: n, column: endCol))
        }
        return (start, end)
    }

    /// `hh:mm:ss,mmm` (SubRip) or `[hh:]mm:ss.mmm` (WebVTT) as seconds.
    static func timestamp(_ text: String, separator: Character) -> Double? {
        let parts = text.split(separator: separator, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 3, let ms = Int(parts[1]) else { return nil }
        let fields = parts[0].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (separator == "," ? 3...3 : 2...3).contains(fields.count) else { return nil }
        var total = 0
        for (i, f) in fields.enumerated() {
            // Hours may run longer; minutes and seconds are two digits below 60.
            guard let v = Int(f), v >= 0, f.allSatisfy(\.isASCII), i == 0 && fields.count == 3 ? f.count >= 2 : (f.count == 2 && v < 60) else { return nil }
            // Hours past any clip's length are no time (and overflowed here: a trap).
            guard v <= Int(MediaTime.longest) else { return nil }
            total = total * 60 + v
        }
        guard Double(total) <= MediaTime.longest else { return nil }
        return Double(total) + Double(ms) / 1000
    }

    /// A time as people read it in a message: `1:02.500`.
    static func clock(_ s: Double) -> String {
        let ms = Int((Swift.min(Swift.max(s.isFinite ? s : 0, 0), MediaTime.longest) * 1000).rounded())
        let (h, m, sec, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
        return h > 0 ? String(format: "%d:%02d:%02d.%03d", h, m, sec, milli) : String(format: "%d:%02d.%03d", m, sec, milli)
    }

    /// The cues as SubRip (what Facebook takes).
    package var srt: String {
        cues.enumerated().map { i, c in "\(i + 1)\n\(Self.stamp(c.start, ",")) --> \(Self.stamp(c.end, ","))\n\(c.text)\n" }.joined(separator: "\n")
    }

    /// The cues as WebVTT (what Vimeo's text tracks take).
    package var vtt: String {
        "WEBVTT\n\n" + cues.map { c in "\(Self.stamp(c.start, ".")) --> \(Self.stamp(c.end, "."))\n\(c.text)\n" }.joined(separator: "\n")
    }

    static func stamp(_ s: Double, _ sep: String) -> String {
        let ms = Int((Swift.min(Swift.max(s.isFinite ? s : 0, 0), MediaTime.longest) * 1000).rounded())
        return String(format: "%02d:%02d:%02d%@%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, sep, ms % 1000)
    }
}
