import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What the process the browser is started from may not do — as the unit (`packaging/omnipost@.service`)
/// confines the daemon, and every child with it. Chromium needs to know two things, or it does not
/// run at all: whether memory may become executable, and whether it may make the namespaces its
/// sandbox is built of.
enum Confinement {
    /// Memory that was writable may not become executable: systemd's `MemoryDenyWriteExecute=yes`, by
    /// the kernel's own switch (`PR_SET_MDWE`, Linux 6.3, used by systemd 254 and later) or by a seccomp
    /// filter (older systemd). Both refuse `mprotect` adding execute to a page, so that is tried, on a
    /// page of our own. Chromium's script compiler then cannot start, and the page never renders.
    static func writeExecuteDenied() -> Bool {
        let size = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard let page = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), page != MAP_FAILED else { return false }
        defer { munmap(page, size) }
        return mprotect(page, size, PROT_READ | PROT_EXEC) != 0
    }

    /// Whether a user namespace can be made here — Chromium's sandbox is built of them, and without
    /// them (systemd's `RestrictNamespaces=yes`, a kernel or container that forbids them) Chromium
    /// stops with "No usable sandbox!". `unshare(2)` needs a single-threaded caller, so util-linux's
    /// `unshare --user true` is asked once, in a process of its own. Without that tool the answer is
    /// yes, and Chromium decides.
    static let userNamespaces: Bool = {
        let tool = "/usr/bin/unshare"
        guard FileManager.default.isExecutableFile(atPath: tool) else { return true }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = ["--user", "true"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return true }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()
}
