import Foundation
import NIOCore
import OmniPostCore
#if canImport(Glibc)
    import Glibc
#endif

/// The folder destination's transport: each part written at its offset into the hidden partial file
/// beside the destination name, and fsynced before it is confirmed (a restart continues from there).
/// The file is made the adapter's way, never through a link: opened by the destination folder's
/// descriptor without following one, and only a regular file with one name counts as ours.
struct FolderCopy: UploadProtocol {
    let adapter: FolderAdapter

    /// `FolderAdapter.finish` names the file once the copy is read back whole.
    var lastPartCompletes: Bool { false }

    func nextPart(of s: SessionText, confirmed: Int64, size: Int64) -> Part? {
        guard confirmed < size else { return nil }
        let chunk = Int64(adapter.chunk)
        return Part(index: Int(confirmed / chunk), offset: confirmed, length: min(chunk, size - confirmed))
    }

    func send(_ part: Part, _ bytes: ByteBuffer, session s: inout SessionText, job: UploadJob) async throws -> PartReply {
        try adapter.io { () throws -> PartReply in
            let (dir, file) = try adapter.place(s.text, create: true)
            let tmp = FolderAdapter.partialName(file)
            var fd: Int32 = -1
            if part.offset > 0 {
                fd = (try? Self.ours(dir, tmp)) ?? -1
                var st = stat()
                if fd >= 0, fstat(fd, &st) != 0 || Int64(st.st_size) < part.offset {
                    close(fd)
                    fd = -1
                }
                // Not ours any more (a planted link, a hard link, a file cut short): the copy starts again.
                if fd < 0 { return .confirmed(0) }
            } else {
                // Anything under the partial name (a planted link, a hard link to a file elsewhere) is removed —
                // the name, never what it points to — and a new file is made exclusively.
                try dir.remove(tmp)
                fd = try dir.open(tmp, O_RDWR | O_CREAT | O_EXCL)
            }
            defer { close(fd) }
            // Anything past the last confirmed byte was never confirmed.
            guard ftruncate(fd, off_t(part.offset)) == 0, lseek(fd, off_t(part.offset), SEEK_SET) == off_t(part.offset) else {
                throw BeneathDirectory.Failure(what: "cannot reset \(dir.path)/\(tmp)", errno: errno)
            }
            try bytes.withUnsafeReadableBytes { raw in try BeneathDirectory.writeAll(fd, raw, what: "\(dir.path)/\(tmp)") }
            guard fsync(fd) == 0 else { throw BeneathDirectory.Failure(what: "cannot flush \(dir.path)/\(tmp) to disk", errno: errno) }
            return .confirmed(part.end)
        }
    }

    /// The partial file, if it is ours: a regular file with one name, opened without following a link.
    static func ours(_ dir: BeneathDirectory, _ tmp: String) throws -> Int32 {
        let fd = try dir.open(tmp, O_RDWR)
        var st = stat()
        guard fstat(fd, &st) == 0, BeneathDirectory.isRegular(st), st.st_nlink == 1 else {
            close(fd)
            throw BeneathDirectory.Failure(what: "\(dir.path)/\(tmp) is not the copy OmniPost started", errno: EEXIST)
        }
        return fd
    }
}
