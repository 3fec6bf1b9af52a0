import Foundation
import OmniPostCore
#if canImport(Glibc)
    import Glibc
#endif

/// Copies a rendition into a folder with the archive's discipline: bytes go to a hidden partial file
/// beside the destination, fsynced and checkpointed per chunk (a restart continues from there), the
/// whole is verified by sha256, and only then renamed to its name. A file never appears under its
/// name half-written, and a file already there with other bytes is never overwritten. The upload engine
/// runs these steps (`ResumableAdapter`); `FolderCopy` writes the parts.
struct FolderAdapter: ResumableAdapter, DescribedAdapter {
    typealias Module = FolderPlatform
    let settings: AdapterSettings
    let displayName = "the folder"
    var transport: FolderCopy { FolderCopy(adapter: self) }

    init(_ settings: AdapterSettings) { self.settings = settings }

    var folder: String { (try? account.text("path")) ?? "" }
    var template: NameTemplate { account.setting("name").flatMap { try? NameTemplate($0) } ?? NameTemplate(literal: "{stem}.{ext}") }
    var chunk: Int { Int(max(1 << 20, min(settings.chunkSize, 64 << 20))) }

    func platformChecks(_ metadata: PublishMetadata) -> OmniError? {
        if let name = metadata.options["name"], let why = NameTemplate.problem(name) { return OmniError(.invalidValue, "overrides.folder.name: \(why)") }
        return nil
    }

    static func partialName(_ file: String) -> String { ".\(file).omnipost-partial" }

    static func partial(_ dst: String) -> String {
        let u = URL(fileURLWithPath: dst)
        return u.deletingLastPathComponent().appendingPathComponent(partialName(u.lastPathComponent)).path
    }

    func outcome(_ name: String, bytes: Int64) -> PublishOutcome {
        let path = (folder as NSString).appendingPathComponent(name)
        return PublishOutcome(remoteId: name, url: URL(fileURLWithPath: path).absoluteString, bytesSent: bytes)
    }

    /// The destination's subfolder for `name` (`2026/12/05/walk.mp4` → `2026/12/05`) and the file's own
    /// name, reached from the destination folder's descriptor without following a link.
    func place(_ name: String, create: Bool) throws -> (dir: BeneathDirectory, file: String) {
        let root = try openRoot(create: create)
        let parts = name.split(separator: "/").map(String.init)
        guard let file = parts.last, !file.isEmpty else { throw DeliveryError(.permanent, .invalidValue, "'\(name)' names no file") }
        let dir = parts.count > 1 ? try root.subdirectory(parts.dropLast().joined(separator: "/"), create: create) : root
        return (dir, file)
    }

    /// What a failed file-system call inside the destination means for the delivery.
    func io<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let f as BeneathDirectory.Failure { throw ioError(f) }
    }

    func reconcile(_ s: SessionText, _ job: UploadJob) async throws -> RemoteState {
        try io { try look(s.text, job) }
    }

    private func look(_ name: String, _ job: UploadJob) throws -> RemoteState {
        let here: (dir: BeneathDirectory, file: String)
        do { here = try place(name, create: false) } catch let f as BeneathDirectory.Failure where f.errno == ENOENT { return .notStarted }
        if let st = here.dir.lstat(here.file) {
            if BeneathDirectory.isRegular(st), try sameBytes(here.dir, here.file, job) {
                try writeExtras(job, name: name)
                return .published(outcome(name, bytes: 0))
            }
            return .notStarted  // someone else's file (or a link) took the name meanwhile: a new name is chosen
        }
        if let st = here.dir.lstat(Self.partialName(here.file)), BeneathDirectory.isRegular(st), st.st_nlink == 1, st.st_size > 0 {
            return .partial(confirmedOffset: min(Int64(st.st_size), job.confirmedOffset))
        }
        return .notStarted
    }

    /// The name: the template's, or another when that one holds other bytes.
    func prepare(_ job: UploadJob) async throws -> Choice { try io { try chooseName(job) } }

    /// The rendition is there under its name already: its companions are written, nothing is copied.
    func alreadyPublished(_ job: UploadJob, _ choice: Choice) async throws -> PublishOutcome? {
        guard case .alreadyThere(let n) = choice else { return nil }
        try writeExtras(job, name: n)
        return outcome(n, bytes: 0)
    }

    /// The name is the session, checkpointed before the first byte is written.
    func start(_ job: UploadJob, _ choice: Choice) async throws -> SessionText {
        guard case .free(let n) = choice else { throw DeliveryError(.permanent, .internalError, "no free name to copy to") }
        return SessionText(n)
    }

    /// What landed is read back through its descriptor: a share that dropped or mangled a write is caught
    /// here, and no name swapped meanwhile can stand in for it. Only then is it given its name.
    func finish(_ s: inout SessionText, _ job: UploadJob) async throws -> Processing {
        try io {
            let (dir, file) = try place(s.text, create: true)
            let tmp = Self.partialName(file)
            let fd = try FolderCopy.ours(dir, tmp)
            let written: (hex: String, bytes: Int64)
            do { written = try BeneathDirectory.sha256(fd: fd) } catch { close(fd); throw error }
            guard close(fd) == 0 else { throw BeneathDirectory.Failure(what: "cannot close \(dir.path)/\(tmp)", errno: errno) }
            let expected = try job.expectedSha256 ?? FileHashing.sha256(path: job.filePath).hex
            guard written.hex == expected, written.bytes == job.size else {
                try? dir.remove(tmp)
                throw DeliveryError(
                    .retryNow, .archiveIO, "the copy in \(folder) does not match the rendition (sha256 \(written.hex.prefix(12))… of \(written.bytes) bytes); it is copied again")
            }
            guard try dir.publish(tmp, as: file) else {
                throw DeliveryError(.retryNow, .archiveIO, "\(dir.path)/\(file) appeared while copying; a new name is chosen on the next try")
            }
            try writeExtras(job, name: s.text)
        }
        return .ready
    }

    func post(_ s: SessionText, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome { outcome(s.text, bytes: 0) }

    enum Choice { case free(String), alreadyThere(String) }

    /// The template's name; when another file holds it, the same name with the rendition's first 8 hex
    /// digits of sha256 (`clip-1a2b3c4d.mp4`), so a re-edited clip never overwrites the earlier one. A
    /// link under a name counts as another file's: it is never followed, read or replaced.
    func chooseName(_ job: UploadJob) throws -> Choice {
        let drop =
            job.drop
            ?? DropFacts(
                dropId: "", target: "folder", stem: ((job.filePath as NSString).lastPathComponent as NSString).deletingPathExtension,
                source: job.filePath, takenAt: Date())
        // A sidecar's `overrides: {folder: {name: …}}` wins over the account's template.
        let first = (job.metadata.options["name"].map(NameTemplate.init(literal:)) ?? template).render(drop, file: job.filePath, sha256: job.expectedSha256)
        let ext = (first as NSString).pathExtension
        let sha8 = String((job.expectedSha256 ?? "").prefix(8))
        let second = ((first as NSString).deletingPathExtension) + "-\(sha8)" + (ext.isEmpty ? "" : ".\(ext)")
        for name in [first, second] {
            let here: (dir: BeneathDirectory, file: String)
            do { here = try place(name, create: false) } catch let f as BeneathDirectory.Failure where f.errno == ENOENT { return .free(name) }
            guard let st = here.dir.lstat(here.file) else { return .free(name) }
            if BeneathDirectory.isRegular(st), try sameBytes(here.dir, here.file, job) { return .alreadyThere(name) }
        }
        throw DeliveryError(.permanent, .archiveIO, "\(first) and \(second) in \(folder) both hold other files; nothing was overwritten")
    }

    /// Whether the regular file `file` in `dir` holds the rendition's bytes: read through a descriptor
    /// opened without following a link.
    func sameBytes(_ dir: BeneathDirectory, _ file: String, _ job: UploadJob) throws -> Bool {
        guard let st = dir.lstat(file), BeneathDirectory.isRegular(st), Int64(st.st_size) == job.size else { return false }
        let f = try dir.open(file, O_RDONLY | O_NONBLOCK)
        defer { close(f) }
        let expected = try job.expectedSha256 ?? FileHashing.sha256(path: job.filePath).hex
        return try BeneathDirectory.sha256(fd: f).hex == expected
    }

    /// The sidecar and the delivery's JSON beside the clip (`clip.yaml`, `clip.omnipost.json`), each
    /// written whole or not at all, inside the destination (never through a link); rewriting them is
    /// harmless, so a reconcile writes them too.
    func writeExtras(_ job: UploadJob, name: String) throws {
        let dst = (folder as NSString).appendingPathComponent(name)
        do {
            let copySidecar = (try account.setting("copy_sidecar")?.bool()) == true, copyResult = (try account.setting("copy_result")?.bool()) == true
            guard copySidecar || copyResult else { return }
            let (dir, file) = try place(name, create: true)
            let base = (file as NSString).deletingPathExtension
            if copySidecar, let sidecar = job.drop?.sidecarPath, let data = FileManager.default.contents(atPath: sidecar) {
                try dir.writeAtomically(data, as: base + "." + (sidecar as NSString).pathExtension)
            }
            if copyResult {
                let doc = DeliveryDocument.json(job, extra: ["url": URL(fileURLWithPath: dst).absoluteString])
                try dir.writeAtomically(doc, as: base + ".omnipost.json")
            }
        } catch let e as OmniError {
            throw DeliveryError(.retryNow, e.code, "\(name) is in \(folder), but its companion files are not: \(e.message)")
        } catch let f as BeneathDirectory.Failure {
            throw DeliveryError(.retryNow, .archiveIO, "\(name) is in \(folder), but its companion files are not: \(f)")
        }
    }

    /// The destination folder, opened once per use; created when its parent is there (a share that is
    /// not mounted is waited for, not created on the local disk).
    func openRoot(create: Bool) throws -> BeneathDirectory {
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) {
            guard create, FileManager.default.fileExists(atPath: PathText.parent(folder)) else {
                if !create { throw BeneathDirectory.Failure(what: "\(folder) is not there", errno: ENOENT) }
                throw DeliveryError(.retryAt(Date().addingTimeInterval(300)), .archiveIO, "\(folder) is not there (a share that is not mounted?); tried again in 5 min")
            }
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw DeliveryError(.retryAt(Date().addingTimeInterval(300)), .archiveIO, "cannot create \(folder): \(error.localizedDescription)")
            }
        } else if !isDir.boolValue {
            throw DeliveryError(.permanent, .configInvalid, "\(folder) is a file, not a folder")
        }
        return try BeneathDirectory(path: folder)
    }

    func ioError(_ f: BeneathDirectory.Failure) -> DeliveryError {
        if f.isLink {
            return DeliveryError(
                .permanent, .pathEscape,
                "\(f.what): a link or a file stands where a folder of the destination should be; OmniPost never follows a link inside \(folder) — remove it")
        }
        return ioError(f.what, f.errno)
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
