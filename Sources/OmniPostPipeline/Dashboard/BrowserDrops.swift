import Foundation
import NIOCore
import OmniPostCore

/// Clips dropped from the dashboard's Upload page (issue 29), kept as tus uploads (tus.io, protocol
/// 1.0.0: creation, HEAD for the offset, PATCH from it, termination) in `work/browser-uploads/`: the
/// bytes in `<id>.part`, written as they arrive and never held whole in memory, and what the form said
/// in `<id>.json`. A phone on Wi-Fi that drops out asks for the offset and goes on from there, also
/// after the daemon restarted: the offset is the file's size on disk. Once the last byte is in, the
/// sidecar and then the clip are moved into the inbox, each whole in one rename — exactly what an
/// editor's tool writes — and the usual pipeline takes over.
struct BrowserDrops: Sendable {
    /// What the form said, checked when the upload is created (a refusal costs the phone no bytes).
    struct Form: Codable, Sendable, Equatable {
        var filename: String
        var title: String?
        var description: String?
        var tags: [String] = []
        var privacy: String?
        var publishAt: String?
        var targets: [String] = []
    }

    struct Upload: Codable, Sendable {
        var id: String
        var length: Int64
        var form: Form
        var created: Date
        /// The drop's stem in the inbox once complete.
        var delivered: String?
    }

    let folder: URL
    let inbox: URL
    /// Uploads left unfinished this long are removed when the next one is created.
    static let abandonedAfter: TimeInterval = 7 * 86_400

    init(paths: PipelinePaths) {
        folder = paths.work.appendingPathComponent("browser-uploads")
        inbox = paths.inbox
    }

    /// The form's fields as tus `Upload-Metadata` carries them (each value base64), checked against
    /// the pipeline: a clip's extension, targets it has, a privacy it knows.
    static func form(metadata: String, config: PipelineConfig) throws -> Form {
        var m: [String: String] = [:]
        for pair in metadata.split(separator: ",") {
            let kv = pair.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
            guard let key = kv.first.map(String.init), !key.isEmpty else { continue }
            if kv.count == 2 {
                guard let data = Data(base64Encoded: String(kv[1])), let value = String(data: data, encoding: .utf8) else {
                    throw OmniError(.invalidValue, "Upload-Metadata: the value of \(key) is not base64 of UTF-8 text")
                }
                m[key] = value
            } else {
                m[key] = ""
            }
        }
        func text(_ k: String) -> String? { m[k].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 } }
        guard let name = text("filename") else { throw OmniError(.invalidValue, "the upload names no file (Upload-Metadata filename)") }
        let base = (name as NSString).lastPathComponent
        let ext = (base as NSString).pathExtension.lowercased()
        guard DropNaming.clipExtensions.contains(ext), !(base as NSString).deletingPathExtension.isEmpty, !base.hasPrefix(".") else {
            throw OmniError(
                .invalidValue, "\(base) is not a clip this pipeline takes (\(DropNaming.clipExtensions.sorted().joined(separator: ", ")))")
        }
        var f = Form(filename: base)
        f.title = text("title")
        f.description = text("description")
        f.tags = (text("tags") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if let p = text("privacy") {
            guard Privacy(rawValue: p) != nil else {
                throw OmniError(.invalidValue, "privacy '\(p)' is none of \(Privacy.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            f.privacy = p
        }
        f.publishAt = text("publish_at")
        let known = config.targets.map(\.name)
        f.targets = (text("targets") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if let unknown = f.targets.first(where: { !known.contains($0) }) {
            throw OmniError(.unknownTarget, "target '\(unknown)' is not one of this pipeline's (\(known.joined(separator: ", ")))")
        }
        return f
    }

    private func info(_ id: String) -> URL { folder.appendingPathComponent(id + ".json") }
    private func part(_ id: String) -> URL { folder.appendingPathComponent(id + ".part") }

    /// A new upload of `length` bytes. Unfinished ones older than a week are cleared first.
    func create(length: Int64, form: Form) throws -> Upload {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        sweep()
        let u = Upload(id: UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(), length: length, form: form, created: Date())
        guard FileManager.default.createFile(atPath: part(u.id).path, contents: nil) else {
            throw OmniError(.internalError, "could not create \(part(u.id).path)")
        }
        try save(u)
        return u
    }

    /// The upload and how many of its bytes are on disk.
    func find(_ id: String) -> (upload: Upload, offset: Int64)? {
        guard id.allSatisfy({ $0.isHexDigit }), let data = try? Data(contentsOf: info(id)),
            let u = try? JSONDecoder().decode(Upload.self, from: data)
        else { return nil }
        if u.delivered != nil { return (u, u.length) }
        let size = (try? FileManager.default.attributesOfItem(atPath: part(id).path)[.size] as? NSNumber)?.int64Value ?? 0
        return (u, size)
    }

    /// Writes a PATCH's body at `offset` as it arrives (never past the upload's length), and returns the
    /// new offset. Bytes received before a connection broke stay: the next PATCH starts after them.
    func append(_ id: String, at offset: Int64, body: some AsyncSequence<ByteBuffer, any Error>) async throws -> Int64 {
        guard let found = find(id) else { throw OmniError(.invalidValue, "no upload \(id)") }
        let (u, held) = found
        guard held == offset else { throw OffsetMismatch(held: held) }
        let handle = try FileHandle(forWritingTo: part(id))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        var at = offset
        do {
            for try await chunk in body {
                guard at + Int64(chunk.readableBytes) <= u.length else {
                    throw OmniError(.invalidValue, "the body goes past Upload-Length \(u.length)")
                }
                try chunk.withUnsafeReadableBytes { try handle.write(contentsOf: $0) }
                at += Int64(chunk.readableBytes)
            }
        } catch {
            // What arrived is kept (tus: the server should store as much as it received).
            try? handle.synchronize()
            throw error
        }
        try handle.synchronize()
        return at
    }

    struct OffsetMismatch: Error { let held: Int64 }

    /// The last byte is in: the sidecar (JSON, as an editor's tool may write it) and then the clip go
    /// into the inbox, each by one rename, under a stem no file there has. Returns the stem.
    func deliver(_ id: String) throws -> String {
        guard let found = find(id) else { throw OmniError(.invalidValue, "no upload \(id)") }
        var u = found.upload
        let held = found.offset
        if let done = u.delivered { return done }
        guard held == u.length else { throw OmniError(.internalError, "upload \(id) holds \(held) of \(u.length) bytes") }
        let ext = (u.form.filename as NSString).pathExtension.lowercased()
        let stem = freeStem((u.form.filename as NSString).deletingPathExtension)
        var sidecar: [String: Any] = ["version": 1]
        if let t = u.form.title { sidecar["title"] = t }
        if let d = u.form.description { sidecar["description"] = d }
        if !u.form.tags.isEmpty { sidecar["tags"] = u.form.tags }
        if let p = u.form.privacy { sidecar["privacy"] = p }
        if let at = u.form.publishAt { sidecar["publish_at"] = at }
        if !u.form.targets.isEmpty { sidecar["targets"] = u.form.targets }
        let json = try JSONSerialization.data(withJSONObject: sidecar, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        // Written beside the inbox under a dot name (which the watcher passes over), then renamed in whole.
        let sidecarTemp = inbox.appendingPathComponent(".\(stem).json.omnipost-upload")
        try json.write(to: sidecarTemp)
        try FileManager.default.moveItem(at: sidecarTemp, to: inbox.appendingPathComponent(stem + ".json"))
        let clip = inbox.appendingPathComponent(stem + "." + ext)
        if rename(part(id).path, clip.path) != 0 {
            // Another file system (work/ and the inbox on different mounts): copied under a dot name first.
            let temp = inbox.appendingPathComponent(".\(stem).\(ext).omnipost-upload")
            try? FileManager.default.removeItem(at: temp)
            try FileManager.default.copyItem(at: part(id), to: temp)
            try FileManager.default.moveItem(at: temp, to: clip)
            try? FileManager.default.removeItem(at: part(id))
        }
        u.delivered = stem
        try save(u)
        return stem
    }

    /// tus termination: the upload and its bytes are forgotten.
    func remove(_ id: String) -> Bool {
        guard find(id) != nil else { return false }
        try? FileManager.default.removeItem(at: part(id))
        try? FileManager.default.removeItem(at: info(id))
        return true
    }

    /// Bytes free where uploads are kept (`Tus-Max-Size`), less 1 GiB for the pipeline's own work.
    func room() -> Int64 {
        let free = (try? FileManager.default.attributesOfFileSystem(forPath: folder.deletingLastPathComponent().path)[.systemFreeSize] as? NSNumber)?.int64Value ?? 0
        return max(0, free - (1 << 30))
    }

    private func save(_ u: Upload) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        try e.encode(u).write(to: info(u.id), options: .atomic)
    }

    /// A stem no clip or sidecar in the inbox has: `name`, else `name-2`, `name-3`, …
    private func freeStem(_ name: String) -> String {
        let taken = Set(((try? FileManager.default.contentsOfDirectory(atPath: inbox.path)) ?? []).map { ($0 as NSString).deletingPathExtension })
        if !taken.contains(name) { return name }
        var n = 2
        while taken.contains("\(name)-\(n)") { n += 1 }
        return "\(name)-\(n)"
    }

    private func sweep() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where name.hasSuffix(".json") {
            let id = String(name.dropLast(5))
            guard let u = find(id)?.upload, Date().timeIntervalSince(u.created) > Self.abandonedAfter else { continue }
            _ = remove(id)
        }
    }
}
