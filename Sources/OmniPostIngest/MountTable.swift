import Foundation

/// Decides inotify or polling per inbox from the mount table: inotify sees nothing of writes made by
/// other machines on SMB/NFS shares, so those are polled.
package enum MountTable {
    package static let networkTypes: Set<String> = [
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "sshfs", "9p", "afs", "ceph", "glusterfs",
        "fuse.glusterfs", "lustre", "davfs", "fuse.davfs2", "fuse.rclone", "virtiofs", "fuse.s3fs", "ncpfs"
    ]

    package struct Entry: Sendable, Equatable {
        package var mountPoint: String
        package var fsType: String
    }

    /// Parses /proc/self/mountinfo text: fields up to " - ", then fstype.
    package static func parse(mountinfo: String) -> [Entry] {
        mountinfo.split(separator: "\n").compactMap { line in
            let parts = line.components(separatedBy: " - ")
            guard parts.count >= 2 else { return nil }
            let left = parts[0].split(separator: " ")
            let right = parts[1].split(separator: " ")
            guard left.count >= 5, let fs = right.first else { return nil }
            return Entry(mountPoint: unescape(String(left[4])), fsType: String(fs))
        }
    }

    /// The filesystem type holding `path`: the longest mount point that is a prefix of it.
    package static func fsType(of path: String, entries: [Entry]) -> String? {
        let p = path.hasSuffix("/") ? path : path + "/"
        return
            entries
            .filter { p.hasPrefix($0.mountPoint == "/" ? "/" : $0.mountPoint + "/") }
            .max { $0.mountPoint.count < $1.mountPoint.count }?.fsType
    }

    package static func isNetwork(_ fsType: String) -> Bool {
        networkTypes.contains(fsType) || fsType.hasPrefix("nfs") || fsType.hasPrefix("cifs") || fsType.hasPrefix("smb")
    }

    /// `auto` → poll on network filesystems, inotify elsewhere.
    package static func decide(path: String, mountinfo: String? = nil) -> (usePoll: Bool, fsType: String) {
        let text = mountinfo ?? ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "")
        let real = (path as NSString).resolvingSymlinksInPath
        let fs = fsType(of: real, entries: parse(mountinfo: text)) ?? "unknown"
        return (isNetwork(fs), fs)
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\040", with: " ").replacingOccurrences(of: "\\011", with: "\t")
            .replacingOccurrences(of: "\\012", with: "\n").replacingOccurrences(of: "\\134", with: "\\")
    }
}
