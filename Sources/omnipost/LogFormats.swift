import Foundation
import Logging
import OmniPostCore

/// `--log-format json|logfmt|text`: one line per message on standard error, for journald and log
/// shippers (Loki, Vector, Fluent Bit) to read fields from rather than parse prose.
struct LineLogHandler: LogHandler {
    enum Format: String { case json, logfmt }
    let label: String
    let format: Format
    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        FileHandle.standardError.write(Data((render(event) + "\n").utf8))
    }

    func render(_ event: LogEvent) -> String {
        // Milliseconds: lines of one second stay in order once a shipper sorts them.
        let ts = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        var fields: [(String, String)] = [("ts", ts), ("level", event.level.rawValue), ("logger", label), ("msg", event.message.description)]
        if let e = event.error { fields.append(("error", "\(e)")) }
        for (k, v) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) { fields.append((k, "\(v)")) }
        let text: String
        switch format {
        case .json:
            var o: [String: String] = [:]
            for (k, v) in fields { o[k] = v }
            text = String(decoding: (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
        case .logfmt:
            text = fields.map { k, raw in
                // A newline or an escape sequence in a file name never splits or rewrites a line.
                let v = TerminalText.escape(raw)
                let needsQuotes = v.isEmpty || v.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline }
                return "\(k)="
                    + (needsQuotes
                        ? "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n") + "\"" : v)
            }.joined(separator: " ")
        }
        return text
    }
}
