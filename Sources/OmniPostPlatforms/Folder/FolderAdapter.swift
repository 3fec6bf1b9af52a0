import Foundation
import OmniPostCore
#if canImport(Glibc)
import Glibc
#endif

/// Copies a rendition into a folder with the archive's discipline: bytes go to a hidden partial file
/// beside the destination, fsynced and checkpointed per chunk (a restart continues from there), the
/// whole is verified by sha256, and only then renamed to its name. A file never appears under its
/// name half-written, and a file already there with other bytes is never overwritten.
struct FolderAdapter: PlatformAdapter, SettingsBacked {
    let settings: AdapterSettings
    let platform = "folder"
    var schedulesNatively: Bool { false }

    init(_ settings: AdapterSettings) { self.settings = settings }

    var account: AccountConfig { settings.account }
    var folder: String { (try? account.text("path")) ?? "" }
    var template: NameTemplate { account.setting("name").flatMap { try? NameTemplate($0) } ?? NameTemplate(literal: "{stem}.{ext}") }
    var chunk: Int { Int(max(1 << 20, min(settings.chunkSize, 64 << 20))) }

    func preflight(_ metadata: PublishMetadata) -> OmniError? {
        if let name = metadata.options["name"], let why = NameTemplate.problem(name) { return OmniError(.invalidValue, "overrides.folder.name: \(why)") }
        return nil
    }

    static func partial(_ dst: String) -> String {
        let u = URL(fileURLWithPath: dst)
        return u.deletingLastPathComponent().appendingPathComponent(".\(u.lastPathComponent).omnipost-partial").path
    }

    func outcome(_ name: String, bytes: Int64) -> PublishOutcome {
        let path = (folder as NSString).appendingPathComponent(name)
        return PublishOutcome(remoteId: name, url: URL(fileURLWithPath: path).absoluteString, bytesSent: bytes)
    }

    func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let name = job.session else { return .notStarted }
        let dst = (folder as NSString).appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: dst) {
            if try sameBytes(dst, job) {
                try writeExtras(job, name: name)
                return .published(outcome(name, bytes: 0))
            }
            return .notStarted   // someone else's file took the name meanwhile: a new name is chosen
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: Self.partial(dst))[.size] as? Int64) ?? nil
        if let size, size > 0 { return .partial(confirmedOffset: min(size, job.confirmedOffset)) }
        return .notStarted
    }

    func publish(_ job: UploadJob, checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
                 progress: @escaping @Sendable (Int64, Int64) -> Void) async throws -> PublishOutcome {
        let name: String
        if let s = job.session { name = s } else {
            switch try chooseName(job) {
            case .free(let n): name = n
            case .alreadyThere(let n):
                try writeExtras(job, name: n)
                var o = outcome(n, bytes: 0)
                o.reconciled = true
                return o
            }
        }
        let dst = (folder as NSString).appendingPathComponent(name)
        try ensureFolder((dst as NSString).deletingLastPathComponent)
        let tmp = Self.partial(dst)
        var offset = job.session == nil ? 0 : job.confirmedOffset
        try await checkpoint(UploadCheckpoint(session: name, confirmedOffset: offset, bytesSent: 0))

        let fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ioError("cannot create \(tmp)", errno) }
        var closed = false
        defer { if !closed { close(fd) } }
        // Continue after the last checkpointed byte; anything past it was never confirmed.
        let have = Int64(lseek(fd, 0, SEEK_END))
        if have < offset { offset = 0 }
        guard ftruncate(fd, off_t(offset)) == 0, lseek(fd, off_t(offset), SEEK_SET) == off_t(offset) else { throw ioError("cannot reset \(tmp)", errno) }

        let reader = PinnedReader(path: job.filePath, size: job.size, expected: job.expectedSha256)
        var sent: Int64 = 0
        while offset < job.size {
            try Task.checkCancellation()
            let n = Int(min(Int64(chunk), job.size - offset))
            let data: Data
            do { data = try reader.chunk(from: offset, count: n) } catch let e as OmniError {
                throw DeliveryError(.permanent, e.code, e.message)
            }
            try data.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let w = write(fd, raw.baseAddress! + done, raw.count - done)
                    if w < 0 { if errno == EINTR { continue }; throw ioError("cannot write \(tmp)", errno) }
                    done += w
                }
            }
            guard fsync(fd) == 0 else { throw ioError("cannot flush \(tmp) to disk", errno) }
            offset += Int64(n)
            sent += Int64(n)
            try await checkpoint(UploadCheckpoint(session: name, confirmedOffset: offset, bytesSent: sent))
            progress(offset, job.size)
        }
        closed = true
        guard close(fd) == 0 else { throw ioError("cannot close \(tmp)", errno) }
        // What landed is read back: a share that dropped or mangled a write is caught here, not later.
        let written = try FileHashing.sha256(path: tmp)
        let expected = try job.expectedSha256 ?? FileHashing.sha256(path: job.filePath).hex
        guard written.hex == expected, written.bytes == job.size else {
            unlink(tmp)
            throw DeliveryError(.retryNow, .archiveIO, "the copy in \(folder) does not match the rendition (sha256 \(written.hex.prefix(12))… of \(written.bytes) bytes); it is copied again")
        }
        if FileManager.default.fileExists(atPath: dst) {
            throw DeliveryError(.retryNow, .archiveIO, "\(dst) appeared while copying; a new name is chosen on the next try")
        }
        guard rename(tmp, dst) == 0 else { throw ioError("cannot rename into \(dst)", errno) }
        SafeFiles.fsyncDirectory(URL(fileURLWithPath: (dst as NSString).deletingLastPathComponent))
        try writeExtras(job, name: name)
        return outcome(name, bytes: sent)
    }

    enum Choice { case free(String), alreadyThere(String) }

    /// The template's name; when another file holds it, the same name with the rendition's first 8 hex
    /// digits of sha256 (`clip-1a2b3c4d.mp4`), so a re-edited clip never overwrites the earlier one.
    func chooseName(_ job: UploadJob) throws -> Choice {
        let drop = job.drop ?? DropFacts(dropId: "", target: "folder", stem: ((job.filePath as NSString).lastPathComponent as NSString).deletingPathExtension,
                                         source: job.filePath, takenAt: Date())
        // A sidecar's `overrides: {folder: {name: …}}` wins over the account's template.
        let first = (job.metadata.options["name"].map(NameTemplate.init(literal:)) ?? template).render(drop, file: job.filePath, sha256: job.expectedSha256)
        let ext = (first as NSString).pathExtension
        let sha8 = String((job.expectedSha256 ?? "").prefix(8))
        let second = ((first as NSString).deletingPathExtension) + "-\(sha8)" + (ext.isEmpty ? "" : ".\(ext)")
        for name in [first, second] {
            let dst = (folder as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: dst) else { return .free(name) }
            if try sameBytes(dst, job) { return .alreadyThere(name) }
        }
        throw DeliveryError(.permanent, .archiveIO, "\(first) and \(second) in \(folder) both hold other files; nothing was overwritten")
    }

    func sameBytes(_ path: String, _ job: UploadJob) throws -> Bool {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? -1
        guard size == job.size else { return false }
        let expected = try job.expectedSha256 ?? FileHashing.sha256(path: job.filePath).hex
        return try FileHashing.sha256(path: path).hex == expected
    }

    /// The sidecar and the delivery's JSON beside the clip (`clip.yaml`, `clip.omnipost.json`), each
    /// written whole or not at all; rewriting them is harmless, so a reconcile writes them too.
    func writeExtras(_ job: UploadJob, name: String) throws {
        let dst = (folder as NSString).appendingPathComponent(name)
        let base = (dst as NSString).deletingPathExtension
        do {
            if (try account.setting("copy_sidecar")?.bool()) == true, let sidecar = job.drop?.sidecarPath,
               let data = FileManager.default.contents(atPath: sidecar) {
                try SafeFiles.writeAtomically(data, to: URL(fileURLWithPath: base + "." + (sidecar as NSString).pathExtension))
            }
            if (try account.setting("copy_result")?.bool()) == true {
                let doc = DeliveryDocument.json(job, extra: ["url": URL(fileURLWithPath: dst).absoluteString])
                try SafeFiles.writeAtomically(doc, to: URL(fileURLWithPath: base + ".omnipost.json"))
            }
        } catch let e as OmniError {
            throw DeliveryError(.retryNow, e.code, "\(name) is in \(folder), but its companion files are not: \(e.message)")
        }
    }

    func ensureFolder(_ dir: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue { return }
        if dir != folder || FileManager.default.fileExists(atPath: (folder as NSString).deletingLastPathComponent) {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw DeliveryError(.retryAt(Date().addingTimeInterval(300)), .archiveIO, "cannot create \(dir): \(error.localizedDescription)")
            }
            return
        }
        throw DeliveryError(.retryAt(Date().addingTimeInterval(300)), .archiveIO, "\(folder) is not there (a share that is not mounted?); tried again in 5 min")
    }

    /// What a failed system call means for the delivery: a full disk waits, a refused write is the
    /// setup's to fix, a dropped share is tried again.
    func ioError(_ what: String, _ err: Int32) -> DeliveryError {
        let text = "\(what): \(String(cString: strerror(err)))"
        switch err {
        case ENOSPC, EDQUOT: return DeliveryError(.retryAt(Date().addingTimeInterval(600)), .archiveIO, text + "; tried again in 10 min")
        case EACCES, EPERM, EROFS: return DeliveryError(.permanent, .configInvalid, text + "; check the folder's permissions")
        // A name the file system cannot hold (a part over 255 bytes, a whole path over 4,096): no retry helps.
        case ENAMETOOLONG: return DeliveryError(.permanent, .invalidValue, text + "; shorten the `name:` template or the clip's name")
        default: return DeliveryError(.retryNow, .archiveIO, text)
        }
    }
}
