import Foundation
import OmniPostCore

/// What a file given to `omnipost check` is. Read from its top-level keys, not from one line: a sidecar
/// may have `targets:` too, and was read as a pipeline ("unknown key 'title'") when a `targets:` line was
/// the test.
enum FileKind: Equatable {
    case pipeline, sidecar, clipList

    /// Keys only a pipeline has, and keys only a sidecar has.
    static let pipelineOnly = Set(PipelineConfig.topLevelKeys).subtracting(Manifest.keys)
    static let sidecarOnly = Set(Manifest.keys).subtracting(PipelineConfig.topLevelKeys)

    /// `pipelinesGiven`: `--pipeline` named the pipelines, so a file that could be either is a sidecar.
    static func of(_ path: String, pipelinesGiven: Bool) -> FileKind {
        if ClipList.isClipList(path) { return .clipList }
        let keys = topLevelKeys(path)
        let p = keys.filter { pipelineOnly.contains($0) }.count
        let s = keys.filter { sidecarOnly.contains($0) }.count
        if p != s { return p > s ? .pipeline : .sidecar }
        // Only shared keys (`version`, `targets`) or none: a pipeline can be that short, a sidecar too.
        return !pipelinesGiven && keys.contains("targets") ? .pipeline : .sidecar
    }

    /// The document's top-level keys; for a file that does not parse, the names at the start of its
    /// unindented lines (`key:`), so a broken pipeline is still reported as one.
    static func topLevelKeys(_ path: String) -> [String] {
        if let doc = try? YAMLDocument.load(path: path, maxBytes: 1 << 20, syntaxCode: .configSyntax, invalidCode: .configInvalid),
            let m = try? doc.mapping()
        {
            return Array(m.keys)
        }
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return String(decoding: data.prefix(1 << 20), as: UTF8.self).split(separator: "\n").compactMap { line in
            guard let c = line.first, c.isLetter || c == "\"" else { return nil }
            let key = line.prefix { $0 != ":" }.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            return key.count < line.count ? key : nil
        }
    }
}
